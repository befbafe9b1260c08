import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ShimCore
import ShimGateway
import ShimStorage
import ShimTesting
import Synchronization
import Testing

/// `resources[i].downstream`: the MCP server receives, in each API's
/// header, the user's token for that API; a client cannot send its own
/// (rule 14); a revoked grant gets none (rule 15).
@Suite("Gateway: downstream tokens for the APIs behind the MCP server")
struct GatewayDownstreamTests {
    static let downstream: [String: ConfigValue] = [
        "downstream": .list([
            .map([
                "name": .string("graph"), "header": .string("X-Graph-Token"),
                "scopes": .list([.string("https://graph.microsoft.com/User.Read")]), "method": .string("token_exchange"),
            ]),
            .map([
                "name": .string("reports"), "header": .string("X-Reports-Token"), "scopes": .list([.string("reports.read")]),
                "method": .string("token_exchange"),
            ]),
        ])
    ]

    @Test("the MCP server receives each API's token in its header, obtained for the token's grant; a client's copies never reach it")
    func injected() async throws {
        let harness = try await GatewayHarness()
        try await harness.run(gateway: Self.downstream) { client, _ in
            var headers: HTTPFields = .bearer(try await harness.token())
            headers[HTTPField.Name("X-Graph-Token")!] = "forged-by-the-client"
            headers[HTTPField.Name("x-reports-token")!] = "forged-by-the-client"
            #expect(try await client.execute(uri: "/mcp", method: .post, headers: headers).status == .ok)
            let seen = try #require(harness.mcp.requests.first)
            #expect(seen.headers["x-graph-token"] == ["graph-token-1"] && seen.headers["x-reports-token"] == ["reports-token-2"])
            #expect(harness.downstream.calls.withLock { $0.map(\.grantID) } == [GatewayHarness.grantID, GatewayHarness.grantID])
        }
    }

    @Test("each request carries the token the source holds now: a renewed one reaches the MCP server")
    func renewed() async throws {
        let harness = try await GatewayHarness()
        try await harness.run(gateway: Self.downstream) { client, _ in
            let headers: HTTPFields = .bearer(try await harness.token())
            #expect(try await client.execute(uri: "/mcp", method: .post, headers: headers).status == .ok)
            #expect(try await client.execute(uri: "/mcp", method: .post, headers: headers).status == .ok)
            #expect(harness.mcp.requests.map { $0.headers["x-graph-token"] ?? [] } == [["graph-token-1"], ["graph-token-3"]])
        }
    }

    @Test("a revoked grant: 401, no downstream token obtained, nothing reaches the MCP server")
    func revokedGrant() async throws {
        let harness = try await GatewayHarness()
        try await harness.run(gateway: Self.downstream) { client, _ in
            let headers: HTTPFields = .bearer(try await harness.token())
            await harness.store.revokeGrant(id: GatewayHarness.grantID, at: harness.clock.now())
            GatewayAuthorizationTests.expectChallenge(
                try await client.execute(uri: "/mcp", method: .post, headers: headers), error: "invalid_token")
            #expect(harness.downstream.calls.withLock { $0.isEmpty } && harness.mcp.requests.isEmpty)
        }
    }

    @Test(
        "the IdP's refusal: 403 naming the API when an administrator must act, 401 with the challenge when the user must sign in again, 503 when unreachable"
    )
    func refusals() async throws {
        let harness = try await GatewayHarness()
        try await harness.run(gateway: Self.downstream) { client, _ in
            let headers: HTTPFields = .bearer(try await harness.token())
            let consent = DownstreamRefusal(
                status: 403, providerCode: "AADSTS65001", message: "The API graph has not been consented to for this application",
                operatorHint: "grant admin consent")
            harness.downstream.failure.withLock { $0 = consent }
            let forbidden = try await client.execute(uri: "/mcp", method: .post, headers: headers)
            #expect(forbidden.status == .forbidden && String(buffer: forbidden.body).contains("The API graph"))
            #expect(harness.logLines.withLock { $0 }.contains { $0.contains("grant admin consent") && $0.contains("AADSTS65001") })

            let mfa = DownstreamRefusal(status: 401, providerCode: "AADSTS50079", message: "The API graph needs a new sign-in", operatorHint: "x")
            harness.downstream.failure.withLock { $0 = mfa }
            GatewayAuthorizationTests.expectChallenge(
                try await client.execute(uri: "/mcp", method: .post, headers: headers), error: "invalid_token")

            // The grant revoked (on another replica) after the token was checked: the source says so.
            harness.downstream.failure.withLock { $0 = OAuthError.invalidGrant("the grant is revoked") }
            GatewayAuthorizationTests.expectChallenge(
                try await client.execute(uri: "/mcp", method: .post, headers: headers), error: "invalid_token")

            harness.downstream.failure.withLock { $0 = OAuthError(.temporarilyUnavailable, "down") }
            #expect(try await client.execute(uri: "/mcp", method: .post, headers: headers).status == .serviceUnavailable)
            #expect(harness.mcp.requests.isEmpty)
        }
    }
}
