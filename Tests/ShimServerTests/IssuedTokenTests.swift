import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimCore
import ShimStorage
import ShimTesting
import Testing

/// `tokens.access: issued`: the shim's own RFC 9068 access tokens at the
/// token endpoint, /jwks.json and the metadata that points to it.
@Suite("Issued access tokens at /token (RFC 9068)")
struct IssuedTokenTests {
    @Test("code exchange: an ES256 at+jwt for the resource, verifiable against /jwks.json, with the copied claims")
    func codeExchange() async throws {
        let harness = try await IssuedHarness.make()
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let response = signedIn.tokenResponse
            #expect(response.headers[.cacheControl] == "no-store")
            #expect(response.json["token_type"] as? String == "Bearer" && response.json["expires_in"] as? Int == 300)
            #expect(response.json["scope"] as? String == "mcp.read" && signedIn.refreshToken != nil)
            let jwt = signedIn.accessToken
            #expect(!harness.upstream.state.current.issuedAccessTokens.contains(jwt))  // not the IdP's token
            let header = try IssuedHarness.header(jwt)
            #expect(header["alg"] as? String == "ES256" && header["typ"] as? String == "at+jwt")
            #expect(try await client.verifiesAgainstJWKS(jwt))
            let claims = try IssuedHarness.claims(jwt)
            let now = Int(harness.clock.now().timeIntervalSince1970)
            #expect(claims["iss"] as? String == ShimHarness.issuer && claims["aud"] as? String == ShimHarness.resource)
            #expect(claims["sub"] as? String == FakeUpstream.subject && claims["client_id"] as? String == signedIn.app.clientID)
            #expect(claims["scope"] as? String == "mcp.read" && claims["iat"] as? Int == now && claims["exp"] as? Int == now + 300)
            #expect((claims["jti"] as? String)?.count ?? 0 >= 16 && claims["sid"] is String)
            // tokens.claims: email and tid copied; oid was not configured.
            #expect(claims["email"] as? String == "alice@example.com" && claims["tid"] as? String == "tenant-7" && claims["oid"] == nil)
            // Rule 13: one issuer, so `sub` is unqualified; sub_id names the pair (RFC 9493 iss_sub).
            let subjectID = try #require(claims["sub_id"] as? [String: String])
            #expect(subjectID == ["format": "iss_sub", "iss": "https://idp.test", "sub": FakeUpstream.subject])
        }
    }

    @Test("rule 13: an ID token's email without email_verified true is not copied into issued tokens (OIDC Core §5.7)")
    func unverifiedEmailNotCopied() async throws {
        let harness = try await IssuedHarness.make()
        harness.upstream.state.withLock { $0.idTokenFlags = [:] }
        try await harness.run { client async throws in
            let unverified = try IssuedHarness.claims(try await client.signIn().accessToken)
            #expect(unverified["email"] == nil && unverified["tid"] as? String == "tenant-7")
            harness.upstream.state.withLock { $0.idTokenFlags = ["email_verified": false] }
            #expect(try IssuedHarness.claims(try await client.signIn().accessToken)["email"] == nil)
        }
    }

    @Test("refresh: a new JWT (new jti, same grant), the refresh token rotated, the upstream refresh token still never returned")
    func refresh() async throws {
        let harness = try await IssuedHarness.make()
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            harness.clock.advance(by: 60)
            let rotated = try await client.refresh(try #require(signedIn.refreshToken), app: signedIn.app)
            #expect(rotated.status == .ok, "\(rotated.text)")
            let next = try #require(rotated.json["access_token"] as? String)
            let (first, second) = (try IssuedHarness.claims(signedIn.accessToken), try IssuedHarness.claims(next))
            #expect(first["jti"] as? String != second["jti"] as? String && first["sid"] as? String == second["sid"] as? String)
            #expect(second["iat"] as? Int == (first["iat"] as? Int).map { $0 + 60 })
            #expect(rotated.json["refresh_token"] as? String != signedIn.refreshToken)
            let upstream = harness.upstream.state.current
            #expect(!upstream.issuedRefreshTokens.contains { rotated.text.contains($0) || signedIn.tokenResponse.text.contains($0) })
            #expect(!upstream.issuedAccessTokens.contains { rotated.text.contains($0) })
        }
    }

    @Test("a client without the refresh_token grant gets no refresh token, and its token's grant is still checkable")
    func noRefreshGrant() async throws {
        let harness = try await IssuedHarness.make()
        try await harness.run { client async throws in
            let app = try await client.register(grantTypes: ["authorization_code"])
            let signedIn = try await client.signIn(app)
            #expect(signedIn.refreshToken == nil)
            #expect(try await client.isActive(signedIn.accessToken))
        }
    }

    @Test("an IdP without ID tokens (GitHub): sub names the grant, pseudonymously")
    func noIDToken() async throws {
        let harness = try await IssuedHarness.make()
        harness.upstream.state.withLock { $0.omitIDToken = true }
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let claims = try IssuedHarness.claims(signedIn.accessToken)
            #expect(claims["sub"] as? String == "grant:" + (claims["sid"] as? String ?? "?"))
        }
    }

    @Test("metadata: jwks_uri and the introspection endpoint in issued mode only; /jwks.json 404 in upstream mode")
    func metadata() async throws {
        try await IssuedHarness.make().run { client async throws in
            let doc = try await client.get("/.well-known/oauth-authorization-server").json
            #expect(doc["jwks_uri"] as? String == ShimHarness.issuer + "/jwks.json")
            #expect(doc["introspection_endpoint"] as? String == ShimHarness.issuer + "/introspect")
            #expect(doc["introspection_endpoint_auth_methods_supported"] as? [String] == ["client_secret_basic", "client_secret_post"])
            let jwks = try await client.get("/jwks.json")
            #expect(jwks.status == .ok && jwks.headers[.cacheControl] == "public, max-age=300")
            #expect((jwks.json["keys"] as? [[String: Any]])?.count == 1)
            #expect(!jwks.text.contains("\"d\""))  // never the private part
        }
        try await ShimHarness().run { client async throws in
            let doc = try await client.get("/.well-known/oauth-authorization-server").json
            #expect(doc["jwks_uri"] == nil && doc["introspection_endpoint"] == nil)
            #expect(try await client.get("/jwks.json").status == .notFound)
            #expect(try await client.post("/introspect", form: [("token", "x")]).status == .notFound)
        }
    }

    @Test("every issued token is audited, with its jti prefix and never the token")
    func audited() async throws {
        let harness = try await IssuedHarness.make()
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let events = try await harness.store.auditEvents(since: nil, limit: 100).filter { $0.kind == .accessTokenIssued }
            let event = try #require(events.first)
            let jti = try #require(try IssuedHarness.claims(signedIn.accessToken)["jti"] as? String)
            #expect(events.count == 1 && event.clientID == signedIn.app.clientID && event.resource == ShimHarness.resource)
            #expect(event.detail?.contains("jti " + jti.prefix(8)) == true && event.detail?.contains(jti) == false)
            #expect(!harness.logLines.current.contains { $0.contains(signedIn.accessToken) || $0.contains(jti) })
        }
    }

    @Test("rotation: tokens signed with the previous key still verify at /introspect; /jwks.json publishes both")
    func keyRotation() async throws {
        let oldKey = P256.Signing.PrivateKey()
        let old = try await IssuedHarness.make(key: oldKey)
        let token = try await old.run { client async throws in try await client.signIn().accessToken }
        // The same store after a restart with a new key, the old one listed as previous.
        let rotated = try await IssuedHarness.make(key: P256.Signing.PrivateKey(), previous: [oldKey.publicKey], store: old.store)
        try await rotated.run { client async throws in
            #expect(try await client.isActive(token))
            let keys = try #require(try await client.get("/jwks.json").json["keys"] as? [[String: Any]])
            #expect(keys.count == 2)
            let fresh = try await client.signIn().accessToken
            #expect(try IssuedHarness.header(fresh)["kid"] as? String == keys[0]["kid"] as? String)
        }
        // Once the old key is dropped, its tokens are inactive.
        let dropped = try await IssuedHarness.make(store: old.store)
        try await dropped.run { client async throws in #expect(try await !client.isActive(token)) }
    }
}
