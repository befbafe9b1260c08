import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimCore
import ShimStorage
import ShimTesting
import ShimTokens
import Testing

/// EMA leg 2 at /token: an ID-JAG as an RFC 7523 jwt-bearer grant. Every
/// negative case (threats E1-E4) is a named test, each a clear 4xx OAuth error.
@Suite("EMA leg 2: jwt-bearer grants with ID-JAGs")
struct EMAAcceptTests {
    static func expectRefused(
        _ response: TestResponse, _ words: String, code: String = "invalid_grant",
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response.status.code == 400, "\(response.status): \(response.text)", sourceLocation: sourceLocation)
        #expect(response.oauthError == code, "\(response.text)", sourceLocation: sourceLocation)
        #expect((response.json["error_description"] as? String)?.contains(words) == true, "\(response.text)", sourceLocation: sourceLocation)
        #expect(response.json["access_token"] == nil && response.headers[.cacheControl] == "no-store", sourceLocation: sourceLocation)
    }

    @Test("a good ID-JAG: an issued access token for its user and resource, no refresh token, active at /introspect, audited")
    func accepted() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            let response = try await client.jwtBearer(try await ema.idJAG())
            #expect(response.status == .ok, "\(response.text)")
            #expect(response.headers[.cacheControl] == "no-store" && response.json["refresh_token"] == nil)
            #expect(response.json["token_type"] as? String == "Bearer" && response.json["scope"] as? String == "mcp.read")
            let token = try #require(response.json["access_token"] as? String)
            let claims = try IssuedHarness.claims(token)
            // Rule 13: the user is (issuer, sub); the issuer is not authoritative for email.
            #expect(claims["sub"] as? String == EMAHarness.idpIssuer + "#employee-42" && claims["aud"] as? String == ShimHarness.resource)
            #expect(claims["sub_id"] as? [String: String] == ["format": "iss_sub", "iss": EMAHarness.idpIssuer, "sub": "employee-42"])
            #expect(claims["client_id"] as? String == EMAHarness.client.id && claims["email"] == nil)
            #expect(try await client.isActive(token))
            let events = try await ema.harness.store.auditEvents(since: nil, limit: 100).filter { $0.kind == .idJAGAccepted }
            #expect(events.count == 1 && events[0].subject == "employee-42" && events[0].detail?.contains(EMAHarness.idpIssuer) == true)
            // The grant can be revoked like any other: the token goes inactive.
            #expect(try await ema.harness.store.revokeGrants(clientID: EMAHarness.client.id, at: ema.harness.clock.now()) == 1)
            #expect(try await !client.isActive(token))
        }
    }

    @Test(
        "rule 13: a trusted issuer's ID-JAG with an upstream user's sub and email is another user, without that email (OIDC Core §5.7)")
    func subjectsQualifiedByIssuer() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            // The upstream IdP's user, signed in through the code flow.
            let upstreamClaims = try IssuedHarness.claims(try await client.signIn().accessToken)
            #expect(upstreamClaims["sub"] as? String == "https://idp.test#" + FakeUpstream.subject)
            // The trusted issuer asserts the same sub and a verified-looking email.
            let assertion = try await ema.idJAG {
                $0.subject = FakeUpstream.subject
                $0.extra = ["email": .string("alice@example.com"), "email_verified": .bool(true)]
            }
            let response = try await client.jwtBearer(assertion)
            #expect(response.status == .ok, "\(response.text)")
            let claims = try IssuedHarness.claims(try #require(response.json["access_token"] as? String))
            #expect(claims["sub"] as? String == EMAHarness.idpIssuer + "#" + FakeUpstream.subject)
            #expect(claims["sub"] as? String != upstreamClaims["sub"] as? String)
            #expect(claims["email"] == nil)
        }
    }

    @Test("rule 13: email_authoritative: a trusted issuer's email is copied only with email_verified true")
    func authoritativeEmail() async throws {
        let ema = try await EMAHarness(emailAuthoritative: true)
        try await ema.run { client async throws in
            let verified = try await client.jwtBearer(try await ema.idJAG { $0.extra["email_verified"] = .bool(true) })
            let claims = try IssuedHarness.claims(try #require(verified.json["access_token"] as? String, "\(verified.text)"))
            #expect(claims["email"] as? String == "employee@enterprise.example")
            let unverified = try await client.jwtBearer(try await ema.idJAG())
            #expect(try IssuedHarness.claims(try #require(unverified.json["access_token"] as? String))["email"] == nil)
        }
    }

    @Test("wrong typ") func wrongType() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            Self.expectRefused(try await client.jwtBearer(try await ema.idJAG(type: "JWT")), "oauth-id-jag+jwt")
            Self.expectRefused(try await client.jwtBearer(try await ema.idJAG(type: "at+jwt")), "oauth-id-jag+jwt")
        }
    }

    @Test("untrusted issuer (a valid signature by a key of an issuer that is not configured)") func untrustedIssuer() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            Self.expectRefused(try await client.jwtBearer(try await ema.idJAG { $0.issuer = "https://evil.example" }), "not trusted")
        }
    }

    @Test("unknown issuer: no iss at all") func unknownIssuer() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            let claims = #"{"sub":"s","aud":"\#(ShimHarness.issuer)","client_id":"\#(EMAHarness.client.id)","jti":"j","exp":1,"iat":1}"#
            let token =
                Base64URL.encode(Data(#"{"alg":"ES256","typ":"oauth-id-jag+jwt"}"#.utf8)) + "." + Base64URL.encode(Data(claims.utf8)) + ".c2ln"
            Self.expectRefused(try await client.jwtBearer(token), "iss")
        }
    }

    @Test("wrong aud") func wrongAudience() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            Self.expectRefused(try await client.jwtBearer(try await ema.idJAG { $0.audience = [EMAHarness.targetAS] }), "audience")
        }
    }

    @Test("client_id mismatch: an ID-JAG for another client, presented by this one") func clientMismatch() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            Self.expectRefused(try await client.jwtBearer(try await ema.idJAG { $0.clientID = "someone-else" }), "another client")
        }
    }

    @Test("unknown resource (in the ID-JAG; and asked for)") func unknownResource() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            Self.expectRefused(try await client.jwtBearer(try await ema.idJAG { $0.resources = ["https://unknown.example.com/mcp"] }), "resource")
            Self.expectRefused(
                try await client.jwtBearer(
                    try await ema.idJAG { $0.resources = [ShimHarness.resource, "https://unknown.example.com/mcp"] },
                    extra: [("resource", "https://unknown.example.com/mcp")]), "resource", code: "invalid_target")
            // An ID-JAG that names no resource: its issuer's entry does not allow that.
            Self.expectRefused(
                try await client.jwtBearer(
                    try await ema.idJAG { $0.resources = [] },
                    extra: [("resource", ShimHarness.resource)]), "names no resource")
        }
    }

    @Test("expired") func expired() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            Self.expectRefused(
                try await client.jwtBearer(
                    try await ema.idJAG {
                        $0.expiresAt = ema.now - 1
                        $0.issuedAt = ema.now - 301
                    }), "expired")
        }
    }

    @Test("future iat") func futureIssuedAt() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            Self.expectRefused(
                try await client.jwtBearer(
                    try await ema.idJAG {
                        $0.issuedAt = ema.now + 120
                        $0.expiresAt = ema.now + 420
                    }),
                "future")
        }
    }

    @Test("lifetime longer than ema.max_assertion_lifetime") func tooLong() async throws {
        let ema = try await EMAHarness(maxLifetime: "5m")
        try await ema.run { client async throws in
            Self.expectRefused(try await client.jwtBearer(try await ema.idJAG { $0.expiresAt = ema.now + 3600 }), "lifetime")
        }
    }

    @Test("replayed jti: the same ID-JAG twice") func replayed() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            let assertion = try await ema.idJAG()
            #expect(try await client.jwtBearer(assertion).status == .ok)
            Self.expectRefused(try await client.jwtBearer(assertion), "already used")
            // Another ID-JAG with the same jti from the same issuer, too.
            let jti = try #require(try IssuedHarness.claims(assertion)["jti"] as? String)
            Self.expectRefused(try await client.jwtBearer(try await ema.idJAG { $0.tokenID = jti }), "already used")
        }
    }

    // RFC 7523 §3: the used jti values are kept "for the length of time for which
    // the JWT would be considered valid" — by every replica, whatever its clock.
    @Test("replayed jti at a replica whose clock runs behind, after another replica purged expired records")
    func replayedBehindClock() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            let assertion = try await ema.idJAG()  // exp = now + 300
            #expect(try await client.jwtBearer(assertion).status == .ok)
            // A replica with a right clock purges just after exp...
            try await ema.harness.store.purgeExpiredAssertionIDs(now: ema.harness.clock.now().addingTimeInterval(301))
            // ...while one whose clock runs 60 s behind still finds the ID-JAG valid.
            ema.harness.clock.advance(by: 240)
            Self.expectRefused(try await client.jwtBearer(assertion), "already used")
        }
    }

    @Test("bad signature: the issuer's kid, another key") func badSignature() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            let other = P256.Signing.PrivateKey()
            let claims = try JSONDecoder().decode(IDJAGClaims.self, from: try CompactJWS.parse(try await ema.idJAG()).payload)
            let forged = try EMAHarness.forge(
                header: #"{"alg":"ES256","typ":"oauth-id-jag+jwt","kid":"\#(ema.idp.currentKeyID)"}"#,
                claims: claims
            ) { (try? other.signature(for: $0).rawRepresentation) ?? Data() }
            Self.expectRefused(try await client.jwtBearer(forged), "signature")
        }
    }

    @Test("alg none") func algNone() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            let claims = try JSONDecoder().decode(IDJAGClaims.self, from: try CompactJWS.parse(try await ema.idJAG()).payload)
            let forged = try EMAHarness.forge(
                header: #"{"alg":"none","typ":"oauth-id-jag+jwt","kid":"\#(ema.idp.currentKeyID)"}"#,
                claims: claims
            ) { _ in Data() }
            Self.expectRefused(try await client.jwtBearer(forged), "alg")
        }
    }

    @Test("HMAC-signed, keyed with the issuer's published EC public key") func hmacWithPublicKey() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            let claims = try JSONDecoder().decode(IDJAGClaims.self, from: try CompactJWS.parse(try await ema.idJAG()).payload)
            let jwk = try #require(ema.idp.jwks.keys.first)
            let publicBytes = Data([4]) + (Base64URL.decode(jwk.x) ?? Data()) + (Base64URL.decode(jwk.y) ?? Data())
            for secret in [publicBytes, Data(try JSONEncoder().encode(jwk))] {
                let forged = try EMAHarness.forge(header: #"{"alg":"HS256","typ":"oauth-id-jag+jwt","kid":"\#(jwk.kid)"}"#, claims: claims) {
                    Data(HMAC<SHA256>.authenticationCode(for: $0, using: SymmetricKey(data: secret)))
                }
                Self.expectRefused(try await client.jwtBearer(forged), "alg")
            }
        }
    }

    @Test("a client that may not use the grant: a DCR client that did not register it is unauthorized_client; a wrong secret is invalid_client")
    func clientNotAllowed() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            let registered = try await client.register(authMethod: "client_secret_post")
            let refused = try await client.jwtBearer(
                try await ema.idJAG { $0.clientID = registered.clientID },
                client: (registered.clientID, registered.secret ?? ""))
            #expect(refused.status == .badRequest && refused.oauthError == "unauthorized_client", "\(refused.text)")
            let wrong = try await client.jwtBearer(try await ema.idJAG(), client: (EMAHarness.client.id, "wrong-secret-0123456789"))
            #expect(wrong.status == .unauthorized && wrong.oauthError == "invalid_client")
            #expect(try await client.jwtBearer("", extra: []).oauthError == "invalid_request")
        }
    }

    @Test("a DCR client that registered the jwt-bearer grant, confidential: its own ID-JAGs are accepted; a public one cannot register it")
    func dcrClientWithTheGrant() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            let grants = ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:jwt-bearer"]
            let registered = try await client.register(authMethod: "client_secret_post", grantTypes: grants)
            let secret = try #require(registered.secret)
            let accepted = try await client.jwtBearer(
                try await ema.idJAG { $0.clientID = registered.clientID },
                client: (registered.clientID, secret))
            #expect(accepted.status == .ok, "\(accepted.text)")
            let token = try #require(accepted.json["access_token"] as? String)
            #expect(try IssuedHarness.claims(token)["client_id"] as? String == registered.clientID)
            // An ID-JAG for another client stays refused for it.
            let other = try await client.jwtBearer(try await ema.idJAG(), client: (registered.clientID, secret))
            #expect(other.status == .badRequest && other.oauthError == "invalid_grant", "\(other.text)")
            // A public client would make a stolen ID-JAG redeemable by anyone: refused at registration.
            let body =
                #"{"redirect_uris":["http://127.0.0.1:5555/callback"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","urn:ietf:params:oauth:grant-type:jwt-bearer"]}"#
            let publicClient = try await client.registerRaw(body)
            #expect(publicClient.status == .badRequest && publicClient.oauthError == "invalid_client_metadata", "\(publicClient.text)")
        }
    }

    @Test("metadata advertises the jwt-bearer grant, the ID-JAG profile, and token exchange for issuance")
    func metadata() async throws {
        let ema = try await EMAHarness()
        try await ema.run { client async throws in
            let doc = try await client.get("/.well-known/oauth-authorization-server").json
            let grants = try #require(doc["grant_types_supported"] as? [String])
            #expect(Set(grants) == ["authorization_code", "refresh_token", EMAProtocol.jwtBearerGrant, EMAProtocol.tokenExchangeGrant])
            #expect(doc["authorization_grant_profiles_supported"] as? [String] == [EMAProtocol.grantProfile])
            #expect(doc["identity_chaining_requested_token_types_supported"] as? [String] == [EMAProtocol.idJAGTokenType])
        }
        try await ShimHarness().run { client async throws in
            let doc = try await client.get("/.well-known/oauth-authorization-server").json
            #expect(doc["authorization_grant_profiles_supported"] == nil)
            let refused = try await client.post("/token", form: [("grant_type", EMAProtocol.jwtBearerGrant), ("assertion", "x"), ("client_id", "c")])
            #expect(refused.status.code >= 400 && refused.status.code < 500)
        }
    }
}
