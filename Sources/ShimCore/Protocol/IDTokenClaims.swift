import Foundation

/// The claims the shim reads from the upstream ID token: `sub` (the user the
/// grant belongs to) and `nonce` (OIDC Core §3.1.3.7 step 11: "the value of
/// the nonce Claim MUST be checked to verify that it is the same value as the
/// one that was sent").
///
/// The signature is not checked: the ID token arrives in the direct,
/// client-authenticated token response, and OIDC Core §3.1.3.7 step 6 lets
/// "the TLS server validation ... be used to validate the issuer in place of
/// checking the token signature" in that case. Issued tokens (later) will
/// verify it against the IdP's JWKS.
public struct IDTokenClaims: Sendable, Equatable {
    public var subject: String?
    public var nonce: String?
    public var issuer: String?

    public init?(jwt: String) {
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Base64URL.decode(String(parts[1])),
              let object = try? JSONSerialization.jsonObject(with: payload) as? [String: Any] else { return nil }
        subject = object["sub"] as? String
        nonce = object["nonce"] as? String
        issuer = object["iss"] as? String
    }
}
