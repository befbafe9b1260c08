/// Leg 2 of Enterprise-Managed Authorization: the checks a resource
/// authorization server makes on an ID-JAG presented as an RFC 7523
/// jwt-bearer grant (draft-ietf-oauth-identity-assertion-authz-grant §4.4.1
/// "Processing Rules", which also applies RFC 7521 §5.2 and RFC 7523 §3).
/// The signature is checked in between, against the trusted issuer's keys
/// (ShimUpstream `TrustedIssuers`).
public enum IDJAGRules {
    /// The asymmetric algorithms an operator may allow for a trusted issuer.
    /// Never `none`, never HMAC: rule 12, RFC 8725 §3.1 (the verifier
    /// fixes the algorithm, the token does not choose it).
    public static let asymmetricAlgorithms: Set<String> = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]

    /// The draft §4.4.1: "Validate the JWT typ is oauth-id-jag+jwt (per
    /// Section 3.11 of RFC8725)"; RFC 8725 §3.1: `alg` one of those the
    /// operator configured for this issuer; RFC 7515 §4.1.11: no `crit`.
    public static func checkHeader(_ header: JOSEHeader, algorithms: Set<String>) throws(TokenProblem) {
        guard header.hasType(EMAProtocol.mediaType) else { throw .wrongType(expected: EMAProtocol.mediaType) }
        guard let alg = header.alg, algorithms.contains(alg), asymmetricAlgorithms.contains(alg) else { throw .wrongAlgorithm }
        guard header.crit == nil else { throw .unsupportedCritical }
    }

    /// What a checked ID-JAG grants.
    public struct Grant: Sendable, Equatable {
        public var subject: String
        public var resource: String
        public var scope: ScopeSet

        public init(subject: String, resource: String, scope: ScopeSet) {
            self.subject = subject
            self.resource = resource
            self.scope = scope
        }
    }

    /// How long past its `exp` a used `jti` stays recorded: RFC 7523 §3 asks
    /// to keep it "for the length of time for which the JWT would be
    /// considered valid", and a replica whose clock runs behind considers it
    /// valid for longer. Five minutes covers any clock that NTP keeps; the
    /// records are small and purged after.
    public static let replayRecordMarginSeconds = 300

    /// The claim rules, on an ID-JAG whose signature verified:
    /// - `iss` is the trusted issuer whose key verified it (exact match);
    /// - `aud` is this server's issuer: "The aud claim MAY be a string
    ///   containing a single issuer identifier, or an array containing a
    ///   single issuer identifier ... If the aud claim is an array, it MUST
    ///   contain exactly one element" (§4.4.1);
    /// - `client_id` "MUST identify the same client as the client
    ///   authentication in the request" (§4.4.1);
    /// - RFC 7523 §3 items 4-7: `exp` in the future, `nbf` not in the future,
    ///   `iat` not in the future (beyond `leeway`), and the lifetime at most
    ///   `maxLifetime` ("reject JWTs with an unreasonably far expiry");
    /// - `sub` and `jti` present (the draft §3: REQUIRED);
    /// - the resource (RFC 8707): the request's `resource`, which must be one
    ///   of the ID-JAG's when it names any, or the ID-JAG's only one; either
    ///   way a resource this server serves;
    /// - the scope: the ID-JAG's intersected with the resource's ("The
    ///   granted scopes MAY be a subset", §4.4.1), and with the request's
    ///   `scope` when given; the resource's own scopes when the ID-JAG names none.
    /// `jti` single use is the store's (it spans replicas).
    public static func check(
        _ claims: IDJAGClaims, trustedIssuer: String, audience: String, clientID: String,
        requestedResource: String?, requestedScope: String?, policy: ResourcePolicy,
        now: Int, leeway: Int = 30, maxLifetime: Int, resourceRequired: Bool = true
    ) throws(OAuthError) -> Grant {
        func refuse(_ text: String) -> OAuthError { .invalidGrant("the assertion is not accepted: " + text) }
        guard claims.issuer == trustedIssuer else { throw refuse("its issuer is not the one whose key signed it") }
        guard claims.audience == [audience] else { throw refuse("its audience is not this authorization server") }
        guard claims.clientID == clientID else { throw refuse("it was issued for another client") }
        guard claims.expiresAt > now else { throw refuse("it has expired") }
        if let notBefore = claims.notBefore, notBefore > now + leeway { throw refuse("it is not valid yet") }
        guard claims.issuedAt <= now + leeway else { throw refuse("it is issued in the future") }
        guard claims.expiresAt - claims.issuedAt <= maxLifetime else { throw refuse("its lifetime is longer than \(maxLifetime) s") }
        guard !claims.subject.isEmpty else { throw refuse("it names no subject") }
        guard !claims.tokenID.isEmpty else { throw refuse("it has no jti") }

        // Without a resource an ID-JAG would grant every scope of whatever
        // resource the client names: only an issuer allowed to omit it may.
        guard !claims.resources.isEmpty || !resourceRequired else { throw refuse("it names no resource") }
        let resource: String
        if let requestedResource {
            guard claims.resources.isEmpty || claims.resources.contains(requestedResource) else {
                throw refuse("the requested resource is not one it grants")
            }
            resource = requestedResource
        } else if claims.resources.count == 1 {
            resource = claims.resources[0]
        } else {
            throw OAuthError(.invalidTarget, "resource is required: the assertion names \(claims.resources.isEmpty ? "none" : "several")")
        }
        guard let served = policy.resources.first(where: { $0.resource == resource }) else {
            // RFC 8707 §2 for the request's own parameter; a claim naming it is the assertion's fault.
            if requestedResource != nil { throw OAuthError(.invalidTarget, "resource is not served by this authorization server") }
            throw refuse("it names a resource this server does not serve")
        }
        let offered = Set(served.scopes)
        var granted = claims.scope.map { ScopeSet($0).values.filter(offered.contains) } ?? served.scopes
        if let requestedScope {
            let requested = Set(ScopeSet(requestedScope).values)
            granted = granted.filter(requested.contains)
        }
        guard !granted.isEmpty else { throw refuse("none of its scopes is offered for this resource") }
        return Grant(subject: claims.subject, resource: resource, scope: ScopeSet(values: granted))
    }
}
