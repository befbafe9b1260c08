import Crypto
public import Foundation

/// Opaque secrets the shim mints (client ids and secrets, transaction ids,
/// codes, refresh tokens) and the one-way form in which they are stored.
public enum SecretToken {
    /// 256 bits from the system CSPRNG, base64url (43 characters).
    public static func generate(bytes: Int = 32) -> String {
        Base64URL.encode(randomBytes(bytes))
    }

    /// Raw bytes from the system CSPRNG (keys). Eight bytes per draw: the
    /// generator asks the kernel on every draw, so drawing byte by byte cost
    /// 32 system calls per token (a profile: 7% of /register).
    public static func randomBytes(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        var data = Data(count: count)
        data.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < count {
                var word = generator.next()
                let take = min(8, count - offset)
                withUnsafeBytes(of: &word) { buffer.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: take) }
                offset += take
            }
        }
        return data
    }

    /// The storage key of a secret: SHA-256, hex. Records are keyed by this,
    /// never by the secret (a database dump yields no usable token).
    public static func hash(_ secret: String) -> String {
        let digest = SHA256.hash(data: Data(secret.utf8))
        // Lower-case hex, byte by byte (String(format:) per byte went through Foundation's formatter).
        return String(unsafeUninitializedCapacity: SHA256.byteCount * 2) { buffer in
            var index = 0
            for byte in digest {
                buffer[index] = hexDigits[Int(byte >> 4)]
                buffer[index + 1] = hexDigits[Int(byte & 0x0F)]
                index += 2
            }
            return index
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// A short, non-reversible tag for logs: the first 8 hex digits of the hash.
    public static func logTag(_ secret: String) -> String {
        String(hash(secret).prefix(8))
    }

    /// Constant-time equality, so comparing secrets leaks no timing.
    public static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8)
        let b = Array(rhs.utf8)
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return diff == 0
    }
}
