import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimCore
import ShimTesting
import Testing

/// POST /revoke (RFC 7009): who may revoke what, and what a revocation ends.
/// Issued access tokens at /revoke are in `IntrospectionTests`.
@Suite("POST /revoke (RFC 7009)")
struct RevokeEndpointTests {
    // RFC 7009 §2.1: revoking a refresh token; rule 7: the whole family dies.
    @Test("revoking a refresh token revokes its family, here and at the IdP")
    func revokeKillsFamily() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let first = try #require(signedIn.refreshToken)
            let rotated = try await client.refresh(first, app: signedIn.app)
            let second = try #require(rotated.json["refresh_token"] as? String)

            let revoked = try await client.revoke(second, app: signedIn.app)
            #expect(revoked.status == .ok)
            #expect(revoked.headers[.cacheControl] == "no-store")
            let after = try await client.refresh(second, app: signedIn.app)
            #expect(after.status == .badRequest)
            #expect(after.oauthError == "invalid_grant")
            #expect(try await client.refresh(first, app: signedIn.app).oauthError == "invalid_grant")
            let upstream = harness.upstream.state.current
            #expect(upstream.revoked.contains { upstream.issuedRefreshTokens.contains($0) })
        }
    }

    // RFC 7009 §2.2: "invalid tokens do not cause an error response".
    @Test("revoking an unknown token answers 200")
    func revokeUnknownToken() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let app = try await client.register()
            let response = try await client.revoke("not-a-token-the-shim-issued", app: app)
            #expect(response.status == .ok)
        }
    }

    // RFC 7009 §2.1: the server verifies the token was issued to the client making the request.
    @Test("another client cannot revoke a refresh token")
    func revokeByOtherClientChangesNothing() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let intruder = try await client.register()
            let response = try await client.revoke(try #require(signedIn.refreshToken), app: intruder)
            #expect(response.status == .badRequest)
            #expect(response.text.contains("unauthorized_client"))
            #expect(try await client.refresh(try #require(signedIn.refreshToken), app: signedIn.app).status == .ok)
        }
    }
}
