import Crypto
public import Foundation

/// HMAC-SHA256 signatures for cookies and CSRF tokens. The domain string
/// keeps a MAC made for one purpose from being valid for another.
///
/// Key rotation: the first key signs; a MAC made with any listed key verifies.
public struct MessageSigner: Sendable {
    private let keys: [SymmetricKey]

    public init(keyBytes: Data) throws {
        try self.init(keys: [keyBytes])
    }

    /// - Parameter keys: the newest first; each at least 32 bytes.
    public init(keys: [Data]) throws {
        guard !keys.isEmpty, keys.allSatisfy({ $0.count >= 32 }) else { throw SealerError.badKey }
        self.keys = keys.map { SymmetricKey(data: $0) }
    }

    public func sign(_ parts: [String], domain: String) -> String {
        Self.mac(parts, domain: domain, key: keys[0])
    }

    public func verify(_ mac: String, _ parts: [String], domain: String) -> Bool {
        keys.contains { SecretToken.constantTimeEqual(mac, Self.mac(parts, domain: domain, key: $0)) }
    }

    private static func mac(_ parts: [String], domain: String, key: SymmetricKey) -> String {
        let message = ([domain] + parts).map { "\($0.utf8.count):\($0)" }.joined(separator: "|")
        return Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key)))
    }
}
