import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimCore
import ShimStorage
import ShimTesting
import Synchronization
import Testing

/// EMA leg 1 at /token: RFC 8693 token exchange of an upstream ID token for
/// an ID-JAG the shim signs, under `ema.policy`.
@Suite("EMA leg 1: ID-JAG issuance by token exchange")
struct EMAIssueTests {
    static let resourceB = "https://mcp-b.example.com/mcp"

    /// An ID token the fake IdP check accepts, issued to the wiki app.
    static func idToken(
        _ ema: EMAHarness, subject: String = "alice", groups: [String] = ["engineering"], audience: String = EMAHarness.app.id,
        expiresIn: Int = 3600, emailVerified: Bool = true
    ) -> String {
        let token = "id-token-" + UUID().uuidString
        ema.subjectTokens.tokens.withLock {
            $0[token] = (
                audience,
                [
                    "sub": .string(subject), "groups": .array(groups.map { .string($0) }), "email": .string("\(subject)@example.com"),
                    "exp": .int(ema.now + expiresIn), "email_verified": .bool(emailVerified),
                ]
            )
        }
        return token
    }

    @Test("an allowed exchange: an ES256 oauth-id-jag+jwt for the audience and resource, verifiable against /jwks.json")
    func issued() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            let response = try await client.exchange(
                subjectToken: Self.idToken(ema), audience: EMAHarness.targetAS, resource: Self.resourceB,
                scope: "mcp admin")
            #expect(response.status == .ok, "\(response.text)")
            #expect(response.json["issued_token_type"] as? String == EMAProtocol.idJAGTokenType && response.json["token_type"] as? String == "N_A")
            #expect(response.json["expires_in"] as? Int == 300 && response.json["scope"] as? String == "mcp" && response.json["refresh_token"] == nil)
            #expect(response.headers[.cacheControl] == "no-store")
            let idJAG = try #require(response.json["access_token"] as? String)
            let header = try IssuedHarness.header(idJAG)
            #expect(header["typ"] as? String == "oauth-id-jag+jwt" && header["alg"] as? String == "ES256")
            #expect(try await client.verifiesAgainstJWKS(idJAG))
            let claims = try IssuedHarness.claims(idJAG)
            #expect(claims["iss"] as? String == ShimHarness.issuer && claims["aud"] as? String == EMAHarness.targetAS)
            #expect(claims["sub"] as? String == "alice" && claims["client_id"] as? String == "client-at-b")
            #expect(
                claims["resource"] as? String == Self.resourceB && claims["scope"] as? String == "mcp"
                    && claims["email"] as? String == "alice@example.com" && claims["email_verified"] as? Bool == true)
            #expect((claims["exp"] as? Int).flatMap { exp in (claims["iat"] as? Int).map { exp - $0 } } == 300 && claims["jti"] is String)
            let events = try await ema.harness.store.auditEvents(since: nil, limit: 50).filter { $0.kind == .idJAGIssued }
            #expect(events.count == 1 && events[0].subject == "alice" && events[0].detail?.contains(EMAHarness.targetAS) == true)
            #expect(!events[0].detail!.contains(idJAG))
        }
    }

    @Test("the ID-JAG never outlives its subject token: expires_in and exp are capped by the ID token's exp")
    func cappedBySubjectToken() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            let response = try await client.exchange(
                subjectToken: Self.idToken(ema, expiresIn: 60), audience: EMAHarness.targetAS,
                resource: Self.resourceB, scope: "mcp")
            #expect(response.status == .ok, "\(response.text)")
            #expect(response.json["expires_in"] as? Int == 60)
            let claims = try IssuedHarness.claims(try #require(response.json["access_token"] as? String))
            #expect(claims["exp"] as? Int == ema.now + 60)
        }
    }

    @Test("leg 1 names the user as the verifier's profile does (Entra: not the per-application sub); an unverified email stays out")
    func profileSubjectAndVerifiedEmail() async throws {
        let ema = try await EMAHarness()
        ema.subjectTokens.subjectClaim.withLock { $0 = "oid" }
        try await ema.run { client async throws in
            let token = Self.idToken(ema, subject: "pairwise-for-app", emailVerified: false)
            ema.subjectTokens.tokens.withLock { $0[token]?.claims["oid"] = .string("object-7") }
            let response = try await client.exchange(subjectToken: token, audience: EMAHarness.targetAS, resource: Self.resourceB)
            let claims = try IssuedHarness.claims(try #require(response.json["access_token"] as? String, "\(response.text)"))
            #expect(claims["sub"] as? String == "object-7")
            #expect(claims["email"] == nil && claims["email_verified"] == nil)
        }
    }

    @Test("the same shim accepts its own ID-JAG at leg 2")
    func ownIDJAG() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            let exchanged = try await client.exchange(
                subjectToken: Self.idToken(ema, subject: "bob", groups: []), audience: ShimHarness.issuer,
                resource: ShimHarness.resource)
            let idJAG = try #require(exchanged.json["access_token"] as? String, "\(exchanged.text)")
            let token = try await client.jwtBearer(idJAG)
            #expect(token.status == .ok, "\(token.text)")
            // Rule 13: the shim's own ID-JAGs name the upstream IdP's users, as the code flow does.
            let claims = try IssuedHarness.claims(try #require(token.json["access_token"] as? String))
            #expect(claims["sub"] as? String == "https://idp.test#bob" && claims["email"] as? String == "bob@example.com")
            #expect(claims["sub_id"] as? [String: String] == ["format": "iss_sub", "iss": "https://idp.test", "sub": "bob"])
            EMAAcceptTests.expectRefused(try await client.jwtBearer(idJAG), "already used")
        }
    }

    @Test(
        "a policy that denies: access_denied (wrong group, audience, resource, scope, or an application without a rule)",
        arguments: [
            ("group", "https://as-b.example.com", "https://mcp-b.example.com/mcp", nil as String?, ["marketing"]),
            ("audience", "https://evil-as.example.com", "https://mcp-b.example.com/mcp", nil, ["engineering"]),
            ("resource", "https://as-b.example.com", "https://mcp-b.example.com/other", nil, ["engineering"]),
            ("scope", "https://as-b.example.com", "https://mcp-b.example.com/mcp", "admin", ["engineering"]),
        ])
    func denied(_ name: String, _ audience: String, _ resource: String, _ scope: String?, _ groups: [String]) async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            let response = try await client.exchange(
                subjectToken: Self.idToken(ema, groups: groups), audience: audience, resource: resource, scope: scope)
            #expect(response.status == .badRequest && response.oauthError == "access_denied", "\(name): \(response.text)")
            #expect(response.json["access_token"] == nil)
            let events = try await ema.harness.store.auditEvents(since: nil, limit: 50)
            #expect(events.contains { $0.kind == .idJAGDenied } && !events.contains { $0.kind == .idJAGIssued })
        }
    }

    @Test("the subject token refused: not the IdP's, or issued to another application; wrong token types; missing parameters")
    func badRequests() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            let forged = try await client.exchange(subjectToken: "not-an-id-token", audience: EMAHarness.targetAS, resource: Self.resourceB)
            #expect(forged.status == .badRequest && forged.oauthError == "invalid_grant", "\(forged.text)")
            let other = Self.idToken(ema, audience: "another-app")
            let stolen = try await client.exchange(subjectToken: other, audience: EMAHarness.targetAS, resource: Self.resourceB)
            #expect(stolen.oauthError == "invalid_grant" && (stolen.json["error_description"] as? String)?.contains("audience") == true)
            let token = Self.idToken(ema)
            for (name, value) in [
                ("requested_token_type", "urn:ietf:params:oauth:token-type:access_token"),
                ("subject_token_type", "urn:ietf:params:oauth:token-type:saml2"),
            ] {
                var form = [
                    ("grant_type", EMAProtocol.tokenExchangeGrant), ("requested_token_type", EMAProtocol.idJAGTokenType),
                    ("subject_token", token), ("subject_token_type", EMAProtocol.idTokenType), ("audience", EMAHarness.targetAS),
                    ("resource", Self.resourceB),
                ]
                form.removeAll { $0.0 == name }
                form.append((name, value))
                let basic = Data("\(EMAHarness.app.id):\(EMAHarness.app.secret)".utf8).base64EncodedString()
                let response = try await client.post("/token", form: form, headers: [.authorization: "Basic " + basic])
                #expect(response.status == .badRequest && response.oauthError == "invalid_request", "\(name): \(response.text)")
            }
            let noResource = try await client.exchange(subjectToken: token, audience: EMAHarness.targetAS, resource: "")
            #expect(noResource.oauthError == "invalid_request")
            // The leg-2 client may not exchange (it is not in the policy's applications).
            let asClient = try await client.post(
                "/token",
                form: [
                    ("grant_type", EMAProtocol.tokenExchangeGrant),
                    ("requested_token_type", EMAProtocol.idJAGTokenType),
                    ("subject_token", Self.idToken(ema, audience: EMAHarness.client.id)),
                    ("subject_token_type", EMAProtocol.idTokenType),
                    ("audience", EMAHarness.targetAS), ("resource", Self.resourceB),
                    ("client_id", EMAHarness.client.id), ("client_secret", EMAHarness.client.secret),
                ])
            #expect(asClient.oauthError == "access_denied", "\(asClient.text)")
        }
    }
}
