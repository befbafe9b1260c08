import Crypto
import ShimTokens

enum SigningKeysForTests {
    /// Keys the gateway does not know.
    static func other() async throws -> SigningKeys { try await SigningKeys.make(current: P256.Signing.PrivateKey()) }
}
