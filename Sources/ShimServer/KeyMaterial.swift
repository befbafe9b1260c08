public import Foundation
public import ShimCore

/// The encryption key (AES-GCM, upstream tokens at rest) and the cookie key
/// (HMAC, browser binding and CSRF).
public struct KeyMaterial: Sendable {
    public var encryptionKey: Data
    public var cookieKey: Data
    /// Older keys still accepted (rotation).
    public var previousEncryptionKeys: [Data]
    public var previousCookieKeys: [Data]

    public init(encryptionKey: Data, cookieKey: Data, previousEncryptionKeys: [Data] = [], previousCookieKeys: [Data] = []) {
        self.encryptionKey = encryptionKey
        self.cookieKey = cookieKey
        self.previousEncryptionKeys = previousEncryptionKeys
        self.previousCookieKeys = previousCookieKeys
    }

    /// Keys from configuration, or generated once into `data_dir` with mode
    /// 0600 (and read back on every later start, so sealed data stays
    /// readable). A key file that is there but open to group or others,
    /// unreadable or not a key stops the start (`KeyFile`): it is never
    /// replaced by a new key.
    /// - Parameter created: called with the path of each key file generated now.
    public static func load(config: ShimConfiguration, ephemeral: Bool, created: (String) -> Void = { _ in }) throws -> KeyMaterial {
        func resolve(_ configured: String?, file: String) throws -> Data {
            if let configured {
                if let data = Data(base64Encoded: configured) ?? Base64URL.decode(configured), data.count == 32 { return data }
                throw KeyError.invalid(file)
            }
            if ephemeral { return SecretToken.randomBytes(32) }
            return try KeyFile.load(
                path: (config.dataDir as NSString).appendingPathComponent(file), parse: fileKey,
                generate: {
                    let data = SecretToken.randomBytes(32)
                    return (data, Data(data.base64EncodedString().utf8))
                }, created: created)
        }
        func decode(_ values: [String], _ name: String) throws -> [Data] {
            try values.map { value in
                guard let data = Data(base64Encoded: value) ?? Base64URL.decode(value), data.count == 32 else { throw KeyError.invalid(name) }
                return data
            }
        }
        return KeyMaterial(
            encryptionKey: try resolve(config.encryptionKey, file: "encryption.key"),
            cookieKey: try resolve(config.cookieKey, file: "cookie.key"),
            previousEncryptionKeys: try decode(config.previousEncryptionKeys, "keys.previous_encryption_keys"),
            previousCookieKeys: try decode(config.previousCookieKeys, "keys.previous_cookie_keys"))
    }

    /// The key a generated key file holds: base64 of 32 bytes (surrounding
    /// white space allowed); nil for anything else, bad UTF-8 included.
    static func fileKey(_ contents: Data) -> Data? {
        guard let text = String(data: contents, encoding: .utf8),
            let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32
        else { return nil }
        return data
    }

    /// The key files `load` reads or generates under `data_dir` (those not
    /// given in configuration); empty with memory storage.
    public static func filePaths(config: ShimConfiguration, ephemeral: Bool) -> [String] {
        guard !ephemeral else { return [] }
        return [(config.encryptionKey, "encryption.key"), (config.cookieKey, "cookie.key")]
            .filter { $0.0 == nil }.map { (config.dataDir as NSString).appendingPathComponent($0.1) }
    }

    public enum KeyError: Error, CustomStringConvertible {
        case invalid(String)
        public var description: String {
            switch self {
            case .invalid(let what): "key \(what) is not base64 of 32 bytes"
            }
        }
    }
}
