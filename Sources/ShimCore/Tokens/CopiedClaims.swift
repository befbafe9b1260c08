import Foundation

/// The upstream ID-token claims an operator copies into issued tokens
/// (`tokens.claims`). The ID token is read without a signature check, as
/// for `sub`: it arrived in the client-authenticated token response over
/// TLS (OIDC Core §3.1.3.7 step 6).
public enum CopiedClaims {
    /// The named claims present in `idToken`'s payload; names the shim sets
    /// itself are never copied (they would override `iss`, `aud`, ...).
    public static func extract(idToken: String, names: [String]) -> [String: JSONValue] {
        guard !names.isEmpty else { return [:] }
        let parts = idToken.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Base64URL.decode(String(parts[1])),
            let object = try? JSONDecoder().decode([String: JSONValue].self, from: payload)
        else { return [:] }
        var out: [String: JSONValue] = [:]
        for name in names where !AccessTokenClaims.reservedNames.contains(name) {
            if let value = object[name] { out[name] = value }
        }
        return out
    }
}
