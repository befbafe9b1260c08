import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimCore
import ShimStorage
import ShimTesting
import Testing

/// POST /introspect (RFC 7662) for issued tokens: who may call it, and every
/// way a token stops being active (expiry, RFC 7009 revocation, refresh-token
/// reuse, a replayed code, the admin commands).
@Suite("Introspection (RFC 7662)")
struct IntrospectionTests {
    @Test("active: the RFC 7662 §2.2 members and the copied claims")
    func active() async throws {
        let harness = try await IssuedHarness.make()
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let response = try await client.introspect(signedIn.accessToken)
            let body = response.json
            #expect(response.status == .ok && body["active"] as? Bool == true && body["token_type"] as? String == "Bearer")
            #expect(body["client_id"] as? String == signedIn.app.clientID && body["scope"] as? String == "mcp.read")
            #expect(body["sub"] as? String == FakeUpstream.subject && body["aud"] as? String == ShimHarness.resource)
            #expect(body["iss"] as? String == ShimHarness.issuer && body["exp"] is Int && body["iat"] is Int && body["jti"] is String)
            #expect(body["email"] as? String == "alice@example.com")
        }
    }

    @Test("the caller must authenticate: 401 invalid_client with a Basic challenge otherwise; client_secret_post works too")
    func callerAuthentication() async throws {
        let harness = try await IssuedHarness.make()
        try await harness.run { client async throws in
            let token = try await client.signIn().accessToken
            for response in [
                try await client.introspect(token, secret: "wrong-secret"),
                try await client.introspect(token, id: "someone-else"),
                try await client.post("/introspect", form: [("token", token)]),
                try await client.post("/introspect", form: [("token", token)], headers: [.authorization: "Bearer " + token]),
            ] {
                #expect(response.status == .unauthorized && response.oauthError == "invalid_client", "\(response.text)")
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true && response.json["active"] == nil)
            }
            // A registered MCP client is not a resource server.
            let app = try await client.register(authMethod: "client_secret_basic")
            #expect(try await client.introspect(token, id: app.clientID, secret: app.secret ?? "").status == .unauthorized)
            let posted = try await client.post(
                "/introspect",
                form: [
                    ("token", token), ("client_id", IssuedHarness.introspectionID),
                    ("client_secret", IssuedHarness.introspectionSecret),
                ])
            #expect(posted.status == .ok && posted.json["active"] as? Bool == true)
            let missing = try await client.post(
                "/introspect",
                form: [
                    ("client_id", IssuedHarness.introspectionID),
                    ("client_secret", IssuedHarness.introspectionSecret),
                ])
            #expect(missing.status == .badRequest && missing.oauthError == "invalid_request")
        }
    }

    @Test("inactive: garbage, a refresh token, the IdP's token, an expired token")
    func inactive() async throws {
        let harness = try await IssuedHarness.make(ttl: "60s")
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            #expect(try await !client.isActive("not-a-token"))
            #expect(try await !client.isActive(try #require(signedIn.refreshToken)))
            #expect(try await !client.isActive(try #require(harness.upstream.state.current.issuedAccessTokens.first)))
            harness.clock.advance(by: 59)
            #expect(try await client.isActive(signedIn.accessToken))
            harness.clock.advance(by: 1)
            #expect(try await !client.isActive(signedIn.accessToken))
        }
    }

    @Test("revoking the refresh token (RFC 7009) ends the access token at once")
    func revokeRefreshToken() async throws {
        let harness = try await IssuedHarness.make()
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            #expect(try await client.isActive(signedIn.accessToken))
            #expect(try await client.revoke(try #require(signedIn.refreshToken), app: signedIn.app).status == .ok)
            #expect(try await !client.isActive(signedIn.accessToken))
        }
    }

    @Test("revoking the access token (RFC 7009 §2.1) revokes its grant; another client cannot revoke it")
    func revokeAccessToken() async throws {
        let harness = try await IssuedHarness.make()
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let intruder = try await client.register()
            let refused = try await client.revoke(signedIn.accessToken, app: intruder)
            #expect(refused.status == .badRequest && refused.oauthError == "unauthorized_client")
            #expect(try await client.isActive(signedIn.accessToken))
            #expect(try await client.revoke(signedIn.accessToken, app: signedIn.app).status == .ok)
            #expect(try await !client.isActive(signedIn.accessToken))
            CodeTests.expectInvalidGrant(try await client.refresh(try #require(signedIn.refreshToken), app: signedIn.app))
        }
    }

    @Test("refresh-token reuse revokes the family: every access token of it becomes inactive")
    func reuse() async throws {
        let harness = try await IssuedHarness.make(overrides: ["tokens": .map(["access": .string("issued"), "refresh_grace": .string("0s")])])
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let rotated = try await client.refresh(try #require(signedIn.refreshToken), app: signedIn.app)
            let second = try #require(rotated.json["access_token"] as? String)
            harness.clock.advance(by: 1)
            CodeTests.expectInvalidGrant(try await client.refresh(try #require(signedIn.refreshToken), app: signedIn.app))
            #expect(try await !client.isActive(signedIn.accessToken))
            #expect(try await !client.isActive(second))
        }
    }

    @Test("a replayed code revokes the tokens issued from it")
    func codeReplay() async throws {
        let harness = try await IssuedHarness.make()
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            CodeTests.expectInvalidGrant(try await client.exchange(code: signedIn.code, app: signedIn.app))
            #expect(try await !client.isActive(signedIn.accessToken))
        }
    }

    @Test("the admin commands' revocation (grants revoke, clients revoke) ends the tokens")
    func adminRevocation() async throws {
        let harness = try await IssuedHarness.make()
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            #expect(try await harness.store.revokeGrants(clientID: signedIn.app.clientID, at: harness.clock.now()) == 1)
            #expect(try await !client.isActive(signedIn.accessToken))
        }
    }

    @Test("a caller limited to some resources sees tokens for others as inactive (RFC 7662 §4, token scanning)")
    func callerResources() async throws {
        let other = "https://other.example.com/mcp"
        let harness = try await IssuedHarness.make(overrides: [
            "resources": .list([
                .map(["resource": .string(ShimHarness.resource), "scopes": .list([.string("mcp.read")])]),
                .map(["resource": .string(other), "scopes": .list([.string("other")])]),
            ]),
            "introspection": .map([
                "clients": .list([
                    .map([
                        "id": .string(IssuedHarness.introspectionID), "secret": .string(IssuedHarness.introspectionSecret),
                        "resources": .list([.string(other)]),
                    ]),
                    .map(["id": .string("rs-main"), "secret": .string("rs-main-secret-0123456"), "resources": .list([.string(ShimHarness.resource)])]
                    ),
                ])
            ]),
        ])
        try await harness.run { client async throws in
            let token = try await client.signIn().accessToken
            #expect(try await !client.isActive(token))
            #expect(try await client.introspect(token, id: "rs-main", secret: "rs-main-secret-0123456").json["active"] as? Bool == true)
        }
    }
}
