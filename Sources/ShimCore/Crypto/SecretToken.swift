public import Foundation
import Crypto

/// Opaque secrets the shim mints (client ids and secrets, transaction ids,
/// codes, refresh tokens) and the one-way form in which they are stored.
public enum SecretToken {
    /// 256 bits from the system CSPRNG, base64url (43 characters).
    public static func generate(bytes: Int = 32) -> String {
        Base64URL.encode(randomBytes(bytes))
    }

    /// Raw bytes from the system CSPRNG (keys).
    public static func randomBytes(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// The storage key of a secret: SHA-256, hex. Records are keyed by this,
    /// never by the secret (a database dump yields no usable token).
    public static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// A short, non-reversible tag for logs: the first 8 hex digits of the hash.
    public static func logTag(_ secret: String) -> String {
        String(hash(secret).prefix(8))
    }

    /// Constant-time equality, so comparing secrets leaks no timing.
    public static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8), b = Array(rhs.utf8)
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return diff == 0
    }
}
