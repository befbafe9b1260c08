public import Foundation

/// Leg 1 of Enterprise-Managed Authorization: what makes a JWT the IdP
/// signed an ID token of the asking application, beyond its signature,
/// `iss` and `aud` (checked by the verifier against the IdP's keys). An IdP
/// signs many kinds of JWT with the same keys and issuer — Entra's access
/// tokens for the application's own API, its app-only (client credentials)
/// tokens, back-channel logout tokens — and an ID-JAG must only ever stand
/// for a user who signed in to that application (the draft
/// draft-ietf-oauth-identity-assertion-authz-grant §4.3.1: "If the subject
/// token is an Identity Assertion, the IdP MUST validate the assertion").
/// docs/security-rules.md rule 12; docs/ema.md "What leg 1 accepts".
public enum SubjectTokenRules {
    /// JOSE `typ` values (RFC 7515 §4.1.9) that name another kind of JWT:
    /// RFC 9068 §2.1 access tokens ("MUST include at+jwt"), ID-JAGs (the
    /// draft §3), OIDC Back-Channel Logout 1.0 §2.4 logout tokens
    /// (`logout+jwt`), RFC 8417 §2.3 security event tokens (`secevent+jwt`)
    /// and RFC 9701 §5 introspection responses (`token-introspection+jwt`).
    /// An ID token's `typ` is absent or `JWT`; OIDC Core defines none.
    public static let otherTypes: [String] = [
        AccessTokenRules.mediaType, EMAProtocol.mediaType, "logout+jwt", "secevent+jwt",
        "token-introspection+jwt",
    ]

    /// Claims that only a token other than an ID token carries. Each is
    /// documented by its IdP or specification as belonging to that kind of
    /// token; none appears in an ID token:
    /// - `scp`: Entra's and Okta's delegated access tokens, the scopes granted
    ///   (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference);
    /// - `azpacr` (v2) and `appidacr` (v1): Entra access tokens, how the client
    ///   authenticated — present in app-only (client credentials) tokens too,
    ///   which carry `roles` and no `scp`;
    /// - `events`: OIDC Back-Channel Logout 1.0 §2.4, a logout token's
    ///   REQUIRED claim (it has `iss`, `aud` = the client, `sub`, like an ID token).
    /// Not used as markers: `roles` (Entra puts a user's app roles in ID tokens
    /// too), `ver` (ID tokens carry it as well), a missing `nonce` (an ID token
    /// of a code flow without nonce has none).
    public static let accessTokenClaims: [String] = ["scp", "azpacr", "appidacr", "events"]

    /// The checks, on the claims of a token whose signature, `iss` and `aud`
    /// (containing `clientID`) the verifier has checked:
    ///
    /// 1. header `typ` is none of `otherTypes` (RFC 8725 §3.11: "explicit
    ///    typing ... to prevent one kind of JWT from being confused with another");
    /// 2. no claim of `accessTokenClaims`; Entra's `idtyp` (an optional claim
    ///    of access tokens) is not `app`; a `typ` claim (Keycloak puts
    ///    `ID` in ID tokens and `Bearer` in access tokens) is `ID` when present;
    /// 3. OIDC Core §3.1.3.7 steps 3-5: `aud` contains `clientID`; "If the ID
    ///    Token contains multiple audiences, the Client SHOULD verify that an
    ///    azp Claim is present. If an azp Claim is present, the Client SHOULD
    ///    verify that its client_id is the Claim Value" — here both are
    ///    required (OIDC Core §2: `azp` is the party the token was issued to);
    /// 4. RFC 7519 §4.1.5 `nbf`: not before `now` (with `leeway` for clocks);
    /// 5. `exp` (OIDC Core §2: REQUIRED) is a number in the future — without
    ///    leeway, because the ID-JAG issued for it ends with it;
    /// 6. `sub` is present (OIDC Core §2: REQUIRED).
    ///
    /// - Returns: the subject token's `exp` (seconds since 1970, rounded
    ///   down): the caller ends the ID-JAG no later (`cappedExpiry`).
    public static func check(
        claims: [String: JSONValue], headerType: String?, clientID: String, now: Date,
        leeway: TimeInterval
    ) throws(TokenProblem) -> Int {
        let header = JOSEHeader(alg: nil, typ: headerType, kid: nil)
        if let other = otherTypes.first(where: { header.hasType($0) }) {
            throw .wrongType(expected: "an ID token (typ \(other) is another kind of JWT)")
        }
        if let marker = accessTokenClaims.first(where: { claims[$0] != nil }) {
            throw .wrongType(expected: "an ID token (its \(marker) claim marks another kind of token)")
        }
        if let idtyp = claims["idtyp"], idtyp.stringValue?.lowercased() != "user" {
            throw .wrongType(expected: "an ID token (idtyp \(idtyp.stringValue.map { LogSafe.text($0, limit: 16) } ?? "?") is an app-only token)")
        }
        if let typ = claims["typ"], typ.stringValue?.lowercased() != "id" {
            throw .wrongType(expected: "an ID token (its typ claim names another kind of token)")
        }
        let audiences: [String] =
            switch claims["aud"] {
            case .string(let one)?: [one]
            case .array(let many)?: many.compactMap(\.stringValue)
            default: []
            }
        guard audiences.contains(clientID) else { throw .wrongAudience }
        switch claims["azp"] {
        case nil where audiences.count > 1: throw .missingClaim("azp (it names several audiences)")
        case nil: break
        case .string(let azp)? where azp == clientID: break
        default: throw .wrongAudience
        }
        let time = now.timeIntervalSince1970
        if let nbf = claims["nbf"] {
            guard let notBefore = seconds(nbf) else { throw .malformed("nbf is not a number") }
            if notBefore > time + leeway { throw .notYetValid }
        }
        guard let exp = claims["exp"].flatMap(seconds) else { throw .missingClaim("exp") }
        guard exp > time else { throw .expired }
        guard let sub = claims["sub"]?.stringValue, !sub.isEmpty else { throw .missingClaim("sub") }
        return Int(exp.rounded(.down))
    }

    /// The ID-JAG's `exp`: its configured lifetime from `issuedAt`, but never
    /// past the subject token's own `exp` — the ID-JAG asserts a sign-in the
    /// IdP vouches for only until then.
    public static func cappedExpiry(issuedAt: Int, lifetime: Int, subjectExpiry: Int) -> Int {
        min(issuedAt + lifetime, subjectExpiry)
    }

    /// `exp` of verified claims (a JSON number), for `cappedExpiry`.
    public static func expiry(of claims: [String: JSONValue]) -> Int? {
        claims["exp"].flatMap(seconds).map { Int($0.rounded(.down)) }
    }

    /// A NumericDate (RFC 7519 §2): a finite JSON number.
    static func seconds(_ value: JSONValue) -> Double? {
        switch value {
        case .int(let whole): Double(whole)
        case .double(let real) where real.isFinite: real
        default: nil
        }
    }
}
