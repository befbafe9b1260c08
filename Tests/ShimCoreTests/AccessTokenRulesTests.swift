import Foundation
import ShimCore
import ShimTesting
import Testing

/// RFC 9068 §4 (validating JWT access tokens) and RFC 8725 §3.1 (algorithm
/// fixed by the verifier), as the gateway and /introspect apply them.
@Suite("Issued tokens: RFC 9068 §4 rules")
struct AccessTokenRulesTests {
    static let kid = "key-1"
    static let issuer = "https://auth.example.com"
    static let resource = "https://mcp.example.com/mcp"
    static let now = 1_800_000_000

    static func claims(_ change: (inout AccessTokenClaims) -> Void = { _ in }) -> AccessTokenClaims {
        var claims = AccessTokenClaims(
            issuer: issuer, subject: "user-1", audience: [resource], expiresAt: now + 300, issuedAt: now,
            tokenID: "jti-1", clientID: "client-1", scope: "mcp", grantID: "grant-1")
        change(&claims)
        return claims
    }

    @Test(
        "a good header passes: typ at+jwt or application/at+jwt (any case), alg ES256, a known kid",
        arguments: [
            "at+jwt", "application/at+jwt", "AT+JWT", "Application/At+Jwt",
        ])
    func goodHeader(_ typ: String) throws {
        try AccessTokenRules.checkHeader(JOSEHeader(alg: "ES256", typ: typ, kid: Self.kid), keyIDs: [Self.kid])
    }

    @Test(
        "the header attack table",
        arguments: [
            (JOSEHeader(alg: "ES256", typ: "JWT", kid: kid), TokenProblem.wrongType(expected: "at+jwt")),  // an ID token or any JWT
            (JOSEHeader(alg: "ES256", typ: nil, kid: kid), .wrongType(expected: "at+jwt")),
            (JOSEHeader(alg: "ES256", typ: "oauth-id-jag+jwt", kid: kid), .wrongType(expected: "at+jwt")),  // an ID-JAG is not an access token
            (JOSEHeader(alg: "ES256", typ: "application/jwt", kid: kid), .wrongType(expected: "at+jwt")),
            (JOSEHeader(alg: "none", typ: "at+jwt", kid: kid), .wrongAlgorithm),  // RFC 8725 §2.1
            (JOSEHeader(alg: "HS256", typ: "at+jwt", kid: kid), .wrongAlgorithm),  // HMAC with the public key
            (JOSEHeader(alg: "RS256", typ: "at+jwt", kid: kid), .wrongAlgorithm),
            (JOSEHeader(alg: "ES384", typ: "at+jwt", kid: kid), .wrongAlgorithm),
            (JOSEHeader(alg: "es256", typ: "at+jwt", kid: kid), .wrongAlgorithm),
            (JOSEHeader(alg: nil, typ: "at+jwt", kid: kid), .wrongAlgorithm),
            (JOSEHeader(alg: "ES256", typ: "at+jwt", kid: "other"), .unknownKey),  // never "try the default key"
            (JOSEHeader(alg: "ES256", typ: "at+jwt", kid: nil), .unknownKey),
            (JOSEHeader(alg: "ES256", typ: "at+jwt", kid: kid, crit: ["b64"]), .unsupportedCritical),  // RFC 7515 §4.1.11
        ])
    func badHeader(_ header: JOSEHeader, _ expected: TokenProblem) {
        #expect(throws: expected) { try AccessTokenRules.checkHeader(header, keyIDs: [Self.kid]) }
    }

    @Test("good claims pass, also at one second before expiry and with a small clock difference")
    func goodClaims() throws {
        try AccessTokenRules.checkClaims(Self.claims(), issuer: Self.issuer, resource: Self.resource, now: Self.now)
        try AccessTokenRules.checkClaims(Self.claims(), issuer: Self.issuer, resource: Self.resource, now: Self.now + 299)
        try AccessTokenRules.checkClaims(Self.claims { $0.issuedAt = Self.now + 5 }, issuer: Self.issuer, resource: Self.resource, now: Self.now)
        try AccessTokenRules.checkClaims(
            Self.claims { $0.audience = ["https://other/mcp", Self.resource] }, issuer: Self.issuer,
            resource: Self.resource, now: Self.now)
    }

    @Test(
        "the claims attack table",
        arguments: [
            (claims { $0.issuer = "https://auth.example.com/" }, TokenProblem.wrongIssuer),  // exact match, no normalisation
            (claims { $0.issuer = "https://evil.example" }, .wrongIssuer),
            (claims { $0.audience = ["https://mcp.example.com/other"] }, .wrongAudience),  // a token for another resource
            (claims { $0.audience = ["https://mcp.example.com/mcp/"] }, .wrongAudience),
            (claims { $0.audience = [] }, .wrongAudience),
            (claims { $0.expiresAt = now }, .expired),  // "before the time in exp"
            (claims { $0.expiresAt = now - 1 }, .expired),
            (claims { $0.notBefore = now + 60 }, .notYetValid),
            (claims { $0.issuedAt = now + 60 }, .issuedInFuture),
            (claims { $0.subject = "" }, .missingClaim("sub")),
            (claims { $0.clientID = "" }, .missingClaim("client_id")),
            (claims { $0.tokenID = "" }, .missingClaim("jti")),
        ])
    func badClaims(_ claims: AccessTokenClaims, _ expected: TokenProblem) {
        #expect(throws: expected) { try AccessTokenRules.checkClaims(claims, issuer: Self.issuer, resource: Self.resource, now: Self.now) }
    }

    @Test("introspection: any audience among the caller's resources, none outside them")
    func allowedAudiences() throws {
        try AccessTokenRules.checkClaims(Self.claims(), issuer: Self.issuer, resource: nil, allowedAudiences: [Self.resource], now: Self.now)
        #expect(throws: TokenProblem.wrongAudience) {
            try AccessTokenRules.checkClaims(Self.claims(), issuer: Self.issuer, resource: nil, allowedAudiences: ["https://x/mcp"], now: Self.now)
        }
    }

    @Test("insufficient_scope names exactly the missing scopes (RFC 6750 §3.1)")
    func missingScopes() {
        #expect(AccessTokenRules.missingScopes(required: ["mcp.read", "mcp.write"], granted: "mcp.read") == ["mcp.write"])
        #expect(AccessTokenRules.missingScopes(required: ["mcp.read"], granted: "mcp.read mcp.write").isEmpty)
        #expect(AccessTokenRules.missingScopes(required: [], granted: "").isEmpty)
        #expect(AccessTokenRules.missingScopes(required: ["mcp"], granted: "mcp.read") == ["mcp"])  // no prefix matching
    }

    @Test("claims round-trip; aud as a string or an array; copied claims kept; a copied claim cannot replace iss")
    func claimsCoding() throws {
        var claims = Self.claims()
        claims.extra = ["roles": .array([.string("admin")]), "tid": .string("t-1"), "iss": .string("https://evil")]
        let data = try JSONEncoder().encode(claims)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["iss"] as? String == Self.issuer && object["aud"] as? String == Self.resource && object["sid"] as? String == "grant-1")
        #expect(object["roles"] as? [String] == ["admin"] && object["tid"] as? String == "t-1")
        let decoded = try JSONDecoder().decode(AccessTokenClaims.self, from: data)
        #expect(decoded.issuer == Self.issuer && decoded.extra == ["roles": .array([.string("admin")]), "tid": .string("t-1")])
        let arrayAud = #"{"iss":"i","sub":"s","aud":["a","b"],"exp":2.5e9,"iat":1e9,"jti":"j","client_id":"c"}"#
        let parsed = try JSONDecoder().decode(AccessTokenClaims.self, from: Data(arrayAud.utf8))
        #expect(parsed.audience == ["a", "b"] && parsed.expiresAt == 2_500_000_000 && parsed.scope == "" && parsed.grantID == nil)
        for missing in ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"] {
            var fields: [String: Any] = ["iss": "i", "sub": "s", "aud": "a", "exp": 2, "iat": 1, "jti": "j", "client_id": "c"]
            fields[missing] = nil
            let json = try JSONSerialization.data(withJSONObject: fields)
            #expect(throws: (any Error).self, "without \(missing)") { try JSONDecoder().decode(AccessTokenClaims.self, from: json) }
        }
        let stringExp = #"{"iss":"i","sub":"s","aud":"a","exp":"2","iat":1,"jti":"j","client_id":"c"}"#
        #expect(throws: (any Error).self) { try JSONDecoder().decode(AccessTokenClaims.self, from: Data(stringExp.utf8)) }
    }

    @Test(
        "compact JWS parsing refuses what is not three base64url parts with a JSON header (rule 10: bounded)",
        arguments: [
            "", "a.b", "a.b.c.d", "!!.e30.sig", "e30.!!.c2ln", "bm90IGpzb24.e30.c2ln", String(repeating: "a", count: 16 * 1024 + 1),
        ])
    func malformedJWS(_ token: String) {
        #expect(throws: TokenProblem.self) { try CompactJWS.parse(token) }
    }

    @Test(
        "byte-level base64url decoding agrees with the reference decoder, and refuses what it refuses",
        arguments: [
            "", "QQ", "QUI", "QUJD", "QUJDRA", "_-_-", "AAAA", "eyJhbGciOiJFUzI1NiJ9", "a", "QQ==", "QU=I", "Q+/A", "QR", "QUK", "é",
        ])
    func base64URLBytes(_ text: String) {
        #expect(Base64URL.decode(bytes: Array(text.utf8)) == (text.hasSuffix("R") || text.hasSuffix("K") ? nil : Base64URL.decode(text)))
    }

    @Test("compact JWS: header, payload and the exact signing input")
    func parsesJWS() throws {
        let header = Base64URL.encode(Data(#"{"alg":"ES256","typ":"at+jwt","kid":"k"}"#.utf8))
        let payload = Base64URL.encode(Data(#"{"a":1}"#.utf8))
        let jws = try CompactJWS.parse(header + "." + payload + ".c2ln")
        #expect(jws.header == JOSEHeader(alg: "ES256", typ: "at+jwt", kid: "k"))
        #expect(jws.payload == Data(#"{"a":1}"#.utf8) && jws.signature == Data("sig".utf8))
        #expect(jws.signingInput == Data((header + "." + payload).utf8))
    }

    @Test("copied ID-token claims: only the configured names, never a reserved one, nothing from a non-JWT")
    func copiedClaims() {
        let payload = Base64URL.encode(Data(#"{"sub":"u","oid":"o-1","roles":["a","b"],"email":"u@example.com","aud":"x"}"#.utf8))
        let idToken = "e30." + payload + ".c2ln"
        let copied = CopiedClaims.extract(idToken: idToken, names: ["oid", "roles", "tid", "aud"], emailTrust: .emailVerifiedClaim)
        #expect(copied == ["oid": .string("o-1"), "roles": .array([.string("a"), .string("b")])])
        #expect(CopiedClaims.extract(idToken: "not-a-jwt", names: ["oid"], emailTrust: .emailVerifiedClaim).isEmpty)
        #expect(CopiedClaims.extract(idToken: idToken, names: [], emailTrust: .emailVerifiedClaim).isEmpty)
    }

    @Test("introspection answers: inactive says nothing else; active carries the RFC 7662 §2.2 members")
    func introspectionResponse() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(String(decoding: try encoder.encode(IntrospectionResponse.inactive), as: UTF8.self) == #"{"active":false}"#)
        var claims = Self.claims()
        claims.extra = ["tid": .string("t")]
        let active = try #require(try JSONSerialization.jsonObject(with: encoder.encode(IntrospectionResponse.active(claims))) as? [String: Any])
        #expect(active["active"] as? Bool == true && active["client_id"] as? String == "client-1" && active["scope"] as? String == "mcp")
        #expect(active["token_type"] as? String == "Bearer" && active["exp"] as? Int == Self.now + 300 && active["tid"] as? String == "t")
    }

    @Test("introspection callers: id and secret must both match a configured client")
    func introspectionCallers() {
        let clients = [
            IntrospectionClient(id: "rs-1", secret: "secret-one-0123456789", resources: []),
            IntrospectionClient(id: "rs-2", secret: "secret-two-0123456789", resources: []),
        ]
        #expect(IntrospectionClient.authenticate(id: "rs-2", secret: "secret-two-0123456789", among: clients)?.id == "rs-2")
        #expect(IntrospectionClient.authenticate(id: "rs-1", secret: "secret-two-0123456789", among: clients) == nil)
        #expect(IntrospectionClient.authenticate(id: "rs-3", secret: "secret-one-0123456789", among: clients) == nil)
        #expect(IntrospectionClient.authenticate(id: "rs-1", secret: "", among: clients) == nil)
    }
}
