import Foundation

/// The upstream ID-token claims an operator copies into issued tokens
/// (`tokens.claims`). The ID token is read without a signature check, as
/// for `sub`: it arrived in the client-authenticated token response over
/// TLS (OIDC Core §3.1.3.7 step 6).
public enum CopiedClaims {
    /// The named claims present in `idToken`'s payload; names the shim sets
    /// itself are never copied (they would override `iss`, `aud`, ...).
    /// `email` is copied only when verified by an issuer authoritative for
    /// it (`SubjectIdentity.verifiedEmail`, rule 13): an unverified address
    /// would let anyone who can name it at the IdP pass for its owner at an
    /// MCP server that keys on `email` or `X-Forwarded-Email`.
    public static func extract(idToken: String, names: [String], emailTrust: SubjectIdentity.EmailTrust) -> [String: JSONValue] {
        guard !names.isEmpty else { return [:] }
        let parts = idToken.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Base64URL.decode(String(parts[1])),
            let object = try? JSONDecoder().decode([String: JSONValue].self, from: payload)
        else { return [:] }
        var out: [String: JSONValue] = [:]
        for name in names where !AccessTokenClaims.reservedNames.contains(name) {
            if let value = object[name] { out[name] = value }
        }
        if out["email"] != nil { out["email"] = SubjectIdentity.verifiedEmail(object, trust: emailTrust) }
        return out
    }
}
