import Foundation
import ShimCore
import Testing

/// Rule 13: a user is the pair (issuer, subject); `email` travels only when
/// an issuer authoritative for it marks it verified.
@Suite("Rule 13: subjects qualified by their issuer, verified email only")
struct SubjectIdentityTests {
    @Test("OIDC Core §5.7: with several issuers the subject names its issuer, and two issuers' equal subs differ")
    func qualified() {
        let idp = SubjectIdentity.qualified(subject: "alice", issuer: "https://idp.example.com", severalIssuers: true)
        let other = SubjectIdentity.qualified(subject: "alice", issuer: "https://b.example.com", severalIssuers: true)
        #expect(idp == "https://idp.example.com#alice")
        #expect(idp != other)
        // One issuer: unchanged (what X-Forwarded-User always was).
        #expect(SubjectIdentity.qualified(subject: "alice", issuer: "https://idp.example.com", severalIssuers: false) == "alice")
    }

    @Test(
        "email: copied only when verified by an authoritative issuer",
        arguments: [
            (["email": JSONValue.string("a@x.com"), "email_verified": .bool(true)], SubjectIdentity.EmailTrust.emailVerifiedClaim, true),
            (["email": .string("a@x.com")], .emailVerifiedClaim, false),
            (["email": .string("a@x.com"), "email_verified": .bool(false)], .emailVerifiedClaim, false),
            (["email": .string("a@x.com"), "email_verified": .string("true")], .emailVerifiedClaim, false),
            (["email": .string("a@x.com"), "email_verified": .bool(true)], .notAuthoritative, false),
            // Entra sends no email_verified; xms_edov says the domain owner verified it.
            (["email": .string("a@x.com"), "email_verified": .bool(true)], .entraVerifiedDomainOwner, false),
            (["email": .string("a@x.com"), "xms_edov": .bool(true)], .entraVerifiedDomainOwner, true),
            (["email": .string("a@x.com"), "xms_edov": .bool(false)], .entraVerifiedDomainOwner, false),
            (["email": .string(""), "email_verified": .bool(true)], .emailVerifiedClaim, false),
        ] as [([String: JSONValue], SubjectIdentity.EmailTrust, Bool)])
    func verifiedEmail(claims: [String: JSONValue], trust: SubjectIdentity.EmailTrust, copied: Bool) {
        #expect((SubjectIdentity.verifiedEmail(claims, trust: trust) != nil) == copied)
    }

    @Test("tokens.claims: an unverified email from the ID token is not copied; a verified one is")
    func copiedEmail() {
        func token(_ json: String) -> String { "e30." + Base64URL.encode(Data(json.utf8)) + ".c2ln" }
        let unverified = token(#"{"sub":"u","email":"boss@example.com","oid":"o"}"#)
        #expect(CopiedClaims.extract(idToken: unverified, names: ["email", "oid"], emailTrust: .emailVerifiedClaim) == ["oid": .string("o")])
        let verified = token(#"{"sub":"u","email":"u@example.com","email_verified":true}"#)
        #expect(CopiedClaims.extract(idToken: verified, names: ["email"], emailTrust: .emailVerifiedClaim) == ["email": .string("u@example.com")])
        #expect(CopiedClaims.extract(idToken: verified, names: ["email"], emailTrust: .entraVerifiedDomainOwner).isEmpty)
    }

    @Test("RFC 9493 iss_sub: the sub_id member of issued tokens round-trips and is never a copied claim")
    func subjectIdentifier() throws {
        let identifier = IssuerSubjectIdentifier(issuer: "https://idp.example.com", subject: "alice")
        let json = try JSONEncoder().encode(identifier)
        let object = try JSONDecoder().decode([String: String].self, from: json)
        #expect(object == ["format": "iss_sub", "iss": "https://idp.example.com", "sub": "alice"])
        #expect(AccessTokenClaims.reservedNames.contains("sub_id"))
        let claims = AccessTokenClaims(
            issuer: "https://as.example.com", subject: "https://idp.example.com#alice", audience: ["https://mcp.example.com"],
            expiresAt: 2, issuedAt: 1, tokenID: "j", clientID: "c", scope: "", grantID: "g", subjectID: identifier,
            extra: ["sub_id": .string("forged")])
        let decoded = try JSONDecoder().decode(AccessTokenClaims.self, from: try JSONEncoder().encode(claims))
        #expect(decoded.subjectID == identifier && decoded.extra["sub_id"] == nil)
    }

    @Test("a grant keeps its subject's issuer in its stored JSON; a grant stored before it existed reads nil (the upstream IdP)")
    func storedGrant() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let grant = Grant(
            id: "g", clientID: "c", subject: "alice", resource: "https://mcp.example.com", scope: ScopeSet("mcp"), upstreamScope: ScopeSet(""),
            upstream: nil, createdAt: now, expiresAt: now, subjectIssuer: "https://b.example.com")
        let json = try JSONEncoder().encode(grant)
        #expect(try JSONDecoder().decode(Grant.self, from: json) == grant)
        var object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        object["subjectIssuer"] = nil
        let old = try JSONDecoder().decode(Grant.self, from: try JSONSerialization.data(withJSONObject: object))
        #expect(old.subjectIssuer == nil && old.subject == "alice")
    }

    @Test("the upstream IdP's issuer names code-flow subjects; Entra's is the tenant's v2.0 issuer")
    func upstreamIssuer() {
        var config = UpstreamConfiguration(
            preset: .oidc, tenant: nil, issuer: "https://idp.example.com", authorizationEndpoint: nil, tokenEndpoint: nil,
            revocationEndpoint: nil, clientID: "c", clientSecret: nil, tokenEndpointAuthMethod: "client_secret_basic", scopes: [],
            extraAuthorizeParams: [:], extraTokenParams: [:], timeoutSeconds: 10)
        #expect(config.subjectIssuer == "https://idp.example.com" && config.emailTrust == .emailVerifiedClaim)
        config.preset = .entra
        config.tenant = "contoso.onmicrosoft.com"
        #expect(config.subjectIssuer == "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0")
        #expect(config.emailTrust == .entraVerifiedDomainOwner)
    }
}
