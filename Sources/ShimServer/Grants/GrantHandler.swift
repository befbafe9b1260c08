import Logging
import ShimCore

/// One grant type of the token endpoint (RFC 6749 §4, §6; RFC 7523; RFC
/// 8693). The client is authenticated, and allowed this grant type, before
/// `exchange` runs; a handler holds only what its grant needs, as stored
/// properties.
protocol GrantHandler: Sendable {
    var grantType: GrantType { get }
    func exchange(_ form: [String: String], client: RegisteredClient, logger: Logger) async throws -> TokenResponse
}
