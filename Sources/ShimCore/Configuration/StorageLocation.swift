/// `storage.url`, parsed once: where the shim keeps its state. The one place
/// that decides the storage kind from the URL's form.
public enum StorageLocation: Sendable, Equatable {
    /// `memory:`: nothing survives a restart (tests and the demo only).
    case memory
    /// `sqlite://PATH`: one process owns the file.
    case sqlite(path: String)
    /// `postgres://…` or `postgresql://…`: shared by replicas. The URL may hold
    /// a password: print it only through `StorageURL.redacted`.
    case postgres(url: String)

    /// nil for any other form.
    public init?(_ url: String) {
        if url == "memory:" {
            self = .memory
        } else if url.hasPrefix("sqlite://") {
            self = .sqlite(path: String(url.dropFirst("sqlite://".count)))
        } else if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            self = .postgres(url: url)
        } else {
            return nil
        }
    }

    /// What check-config may print: the kind, and for PostgreSQL the URL
    /// without its password and the TLS mode it asks for.
    public var description: String {
        switch self {
        case .memory: "memory:"
        case .sqlite: "sqlite"
        case .postgres(let url): StorageURL.redacted(url) + " (sslmode \(StorageURL.sslMode(url)?.rawValue ?? "?"))"
        }
    }
}
