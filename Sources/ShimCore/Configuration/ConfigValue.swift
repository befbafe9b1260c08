/// A configuration tree, independent of the file format (the executable
/// turns YAML into this; tests build it directly).
public indirect enum ConfigValue: Sendable, Equatable {
    case string(String)
    case list([ConfigValue])
    case map([String: ConfigValue])
    case null

    /// Scalars are kept as text so `port: 8080` and `DCR_SHIM_LISTEN_PORT=8080` read alike.
    public var scalar: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}
