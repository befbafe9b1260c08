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
    /// 0600 (and read back on every later start, so sealed data stays readable).
    public static func load(config: ShimConfiguration, ephemeral: Bool) throws -> KeyMaterial {
        func resolve(_ configured: String?, file: String) throws -> Data {
            if let configured {
                if let data = Data(base64Encoded: configured) ?? Base64URL.decode(configured), data.count == 32 { return data }
                throw KeyError.invalid(file)
            }
            if ephemeral { return SecretToken.randomBytes(32) }
            let path = (config.dataDir as NSString).appendingPathComponent(file)
            if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else {
                    throw KeyError.invalid(path)
                }
                return data
            }
            try FileManager.default.createDirectory(atPath: config.dataDir, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            let data = SecretToken.randomBytes(32)
            guard FileManager.default.createFile(atPath: path, contents: Data(data.base64EncodedString().utf8),
                                                 attributes: [.posixPermissions: 0o600]) else {
                throw KeyError.cannotWrite(path)
            }
            return data
        }
        func decode(_ values: [String], _ name: String) throws -> [Data] {
            try values.map { value in
                guard let data = Data(base64Encoded: value) ?? Base64URL.decode(value), data.count == 32 else { throw KeyError.invalid(name) }
                return data
            }
        }
        return KeyMaterial(encryptionKey: try resolve(config.encryptionKey, file: "encryption.key"),
                           cookieKey: try resolve(config.cookieKey, file: "cookie.key"),
                           previousEncryptionKeys: try decode(config.previousEncryptionKeys, "keys.previous_encryption_keys"),
                           previousCookieKeys: try decode(config.previousCookieKeys, "keys.previous_cookie_keys"))
    }

    public enum KeyError: Error, CustomStringConvertible {
        case invalid(String), cannotWrite(String)
        public var description: String {
            switch self {
            case .invalid(let what): "key \(what) is not base64 of 32 bytes"
            case .cannotWrite(let path): "cannot write key file \(path)"
            }
        }
    }
}
