public import Foundation
import Crypto

/// HMAC-SHA256 signatures for cookies and CSRF tokens. The domain string
/// keeps a MAC made for one purpose from being valid for another.
public struct MessageSigner: Sendable {
    private let key: SymmetricKey

    public init(keyBytes: Data) throws {
        guard keyBytes.count >= 32 else { throw SealerError.badKey }
        key = SymmetricKey(data: keyBytes)
    }

    public func sign(_ parts: [String], domain: String) -> String {
        let message = ([domain] + parts).map { "\($0.utf8.count):\($0)" }.joined(separator: "|")
        let mac = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key)
        return Base64URL.encode(Data(mac))
    }

    public func verify(_ mac: String, _ parts: [String], domain: String) -> Bool {
        SecretToken.constantTimeEqual(mac, sign(parts, domain: domain))
    }
}
