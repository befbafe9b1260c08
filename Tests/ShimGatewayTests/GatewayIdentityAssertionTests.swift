import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ShimCore
import ShimGateway
import ShimTesting
import ShimTokens
import Testing

/// `resources[i].identity_assertion`: the MCP server can verify who is
/// calling against the shim's `/jwks.json` instead of trusting headers.
@Suite("Gateway: signed identity assertion")
struct GatewayIdentityAssertionTests {
    @Test("identity_assertion: X-DCR-Shim-Assertion is an ES256 identity+jwt by the shim's key, for this resource, for 60 s, naming the token's user")
    func signedAssertion() async throws {
        let harness = try await GatewayHarness()
        try await harness.run(gateway: ["identity_assertion": .string("true")]) { client, _ in
            let subject = IssuerSubjectIdentifier(issuer: "https://idp.example", subject: "user-1")
            let token = try await harness.token { $0.subjectID = subject }
            var headers: HTTPFields = .bearer(token)
            headers[HTTPField.Name("X-DCR-Shim-Assertion")!] = "forged"
            let response = try await client.execute(uri: "/mcp", method: .post, headers: headers, body: ByteBuffer(string: "{}"))
            #expect(response.status == .ok)
            let seen = try #require(harness.mcp.requests.first)
            let values = try #require(seen.headers["x-dcr-shim-assertion"])
            #expect(values.count == 1 && values != ["forged"])
            let assertion = values[0]
            let jws = try CompactJWS.parse(assertion)
            #expect(jws.header.alg == "ES256" && jws.header.typ == "identity+jwt")
            #expect(harness.keys.keyIDs.contains(try #require(jws.header.kid)))
            #expect(await harness.keys.verifySignature(assertion))
            let claims = try JSONDecoder().decode(AccessTokenClaims.self, from: jws.payload)
            let now = Int(harness.clock.now().timeIntervalSince1970)
            #expect(claims.issuer == GatewayHarness.issuer && claims.audience == [GatewayHarness.resource])
            #expect(claims.subject == "user-1" && claims.subjectID == subject)
            #expect(claims.clientID == GatewayHarness.clientID && claims.scope == "mcp.read")
            #expect(claims.issuedAt == now && claims.expiresAt == now + 60 && claims.grantID == nil)
            #expect(claims.extra["email"] == .string("alice@example.com"))
            // Not a bearer token: the gateway requires at+jwt.
            let replayed = try await client.execute(uri: "/mcp", method: .post, headers: .bearer(assertion), body: ByteBuffer(string: "{}"))
            #expect(replayed.status == .unauthorized)
        }
    }

    @Test("without identity_assertion no assertion is sent, and a client's own X-DCR-Shim-Assertion never reaches the MCP server")
    func offByDefault() async throws {
        let harness = try await GatewayHarness()
        try await harness.run { client, _ in
            var headers: HTTPFields = .bearer(try await harness.token())
            headers[HTTPField.Name("X-DCR-Shim-Assertion")!] = "forged"
            let response = try await client.execute(uri: "/mcp", method: .post, headers: headers, body: ByteBuffer(string: "{}"))
            #expect(response.status == .ok)
            let seen = try #require(harness.mcp.requests.first)
            #expect(seen.headers["x-dcr-shim-assertion"] == nil)
        }
    }
}
