import Foundation

/// The claims the shim reads from the upstream ID token: `sub` (the user the
/// grant belongs to) and `nonce` (OIDC Core §3.1.3.7 step 11: "the value of
/// the nonce Claim MUST be checked to verify that it is the same value as the
/// one that was sent").
///
/// Read without a signature check, which is used only when the IdP publishes
/// no keys (GitHub; fixed endpoints without `upstream.jwks_uri`): the ID
/// token then arrives in the direct, client-authenticated token response,
/// and OIDC Core §3.1.3.7 step 6 lets "the TLS server validation ... be used
/// to validate the issuer in place of checking the token signature". When
/// the IdP publishes keys, ShimUpstream's `IDTokenVerifier` checks the
/// signature, `iss`, `aud` and `exp` instead.
public struct IDTokenClaims: Sendable, Equatable {
    public var subject: String?
    public var nonce: String?
    public var issuer: String?

    public init?(jwt: String) {
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Base64URL.decode(String(parts[1])),
            let object = try? JSONDecoder().decode([String: JSONValue].self, from: payload)
        else { return nil }
        subject = object["sub"]?.stringValue
        nonce = object["nonce"]?.stringValue
        issuer = object["iss"]?.stringValue
    }
}
