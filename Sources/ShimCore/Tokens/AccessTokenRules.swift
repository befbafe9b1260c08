/// Checks on the shim's own access tokens (RFC 9068 §4, "Validating JWT
/// Access Tokens"), used by the gateway and by introspection. Each is pure;
/// the signature is checked in between, by the caller, against the key the
/// header names (ShimTokens).
public enum AccessTokenRules {
    /// The one algorithm issued tokens use. Rule 12 / RFC 8725 §3.1: the
    /// algorithm is fixed by the verifier, never taken from the token.
    public static let algorithm = "ES256"
    public static let mediaType = "at+jwt"

    /// RFC 9068 §4: "Resource servers MUST verify that the typ header value
    /// is "at+jwt" or "application/at+jwt" and reject tokens carrying any
    /// other value." RFC 8725 §3.1: the `alg` must be the expected one (no
    /// `none`, no HMAC with a public key). RFC 7515 §4.1.4: `kid` names one
    /// of the shim's keys (current or previous); §4.1.11: `crit` is refused.
    public static func checkHeader(_ header: JOSEHeader, keyIDs: Set<String>) throws(TokenProblem) {
        guard header.hasType(mediaType) else { throw .wrongType(expected: mediaType) }
        guard header.alg == algorithm else { throw .wrongAlgorithm }
        guard header.crit == nil else { throw .unsupportedCritical }
        guard let kid = header.kid, keyIDs.contains(kid) else { throw .unknownKey }
    }

    /// RFC 9068 §4 on the claims of a token whose signature verified:
    /// - "The issuer identifier ... MUST exactly match the value of the iss claim."
    /// - "The resource server MUST validate that the aud claim contains a
    ///   resource indicator value corresponding to an identifier the resource
    ///   server expects for itself." (`resource` nil: the caller accepts any
    ///   of `allowedAudiences`, as introspection does.)
    /// - "The current time MUST be before the time represented by the exp claim."
    /// - RFC 7519 §4.1.5: not before `nbf`; §4.1.6: an `iat` in the future is
    ///   refused (beyond `leeway` seconds of clock difference between replicas).
    /// - RFC 9068 §2.2: `sub`, `client_id` and `jti` are required and non-empty.
    public static func checkClaims(
        _ claims: AccessTokenClaims, issuer: String, resource: String?,
        allowedAudiences: Set<String>? = nil, now: Int, leeway: Int = 5
    ) throws(TokenProblem) {
        guard claims.issuer == issuer else { throw .wrongIssuer }
        if let resource {
            guard claims.audience.contains(resource) else { throw .wrongAudience }
        } else if let allowedAudiences {
            guard claims.audience.contains(where: allowedAudiences.contains) else { throw .wrongAudience }
        }
        guard now < claims.expiresAt else { throw .expired }
        if let notBefore = claims.notBefore, notBefore > now + leeway { throw .notYetValid }
        guard claims.issuedAt <= now + leeway else { throw .issuedInFuture }
        for (name, value) in [("sub", claims.subject), ("client_id", claims.clientID), ("jti", claims.tokenID)] where value.isEmpty {
            throw .missingClaim(name)
        }
    }

    /// RFC 6750 §3.1 `insufficient_scope`: the scopes of `required` the token
    /// does not carry (empty when it carries all of them).
    public static func missingScopes(required: [String], granted: String) -> [String] {
        let have = Set(granted.split(separator: " ").map(String.init))
        return required.filter { !have.contains($0) }
    }
}
