import Crypto
import Foundation
import ShimCore
import Testing

/// The byte-level encoders of the hot path (found by profiling) against the
/// Foundation formulations they replaced.
@Suite("Byte-level encoders agree with Foundation")
struct EncodingDifferentialTests {
    @Test("Base64URL.encode equals Foundation's base64 with the URL-safe alphabet and no padding, every length 0–200")
    func base64URL() {
        var rng = SplitMix(seed: 7)
        for length in 0...200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
            let reference = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(bytes) == reference, "length \(length)")
            #expect(Base64URL.decode(reference) == Data(bytes))
        }
    }

    @Test("SecretToken.hash is the lower-case hex SHA-256")
    func hash() {
        for text in ["", "a", "token-123", String(repeating: "é", count: 100)] {
            let reference = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
            #expect(SecretToken.hash(text) == reference)
        }
    }

    @Test("randomBytes gives the length asked for, and different bytes each time")
    func randomBytes() {
        for count in [0, 1, 7, 8, 9, 16, 31, 32, 33, 64] { #expect(SecretToken.randomBytes(count).count == count) }
        let draws = Set((0..<100).map { _ in SecretToken.generate() })
        #expect(draws.count == 100 && draws.allSatisfy { $0.utf8.count == 43 })
    }
}
