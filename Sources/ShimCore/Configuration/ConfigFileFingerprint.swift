import Crypto
public import Foundation

/// What `reload.watch_interval` compares between two looks at the
/// configuration file: its modification time, its size and a SHA-256 of
/// its content (the hash catches an edit within the modification time's
/// granularity that keeps the size). Any difference is a change.
public struct ConfigFileFingerprint: Sendable, Equatable {
    public let modified: Date?
    public let size: Int
    public let digest: [UInt8]

    public init(modified: Date?, content: Data) {
        self.modified = modified
        size = content.count
        digest = Array(SHA256.hash(data: content))
    }

    /// The file's fingerprint now; nil when it cannot be read (missing, as
    /// while an editor or a ConfigMap update replaces it), which the watch
    /// does not take for a change.
    public static func read(_ path: String) -> ConfigFileFingerprint? {
        guard let content = FileManager.default.contents(atPath: path) else { return nil }
        let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        return ConfigFileFingerprint(modified: modified, content: content)
    }
}
