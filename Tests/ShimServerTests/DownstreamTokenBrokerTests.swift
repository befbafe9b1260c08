import Foundation
import ShimCore
import ShimServer
import ShimStorage
import ShimTesting
import Testing

/// `DownstreamTokenBroker`: a token for an API behind an MCP server,
/// obtained with the user's current upstream access token, cached sealed
/// per grant and API, obtained again before it expires or when the upstream
/// token is renewed, never for a revoked grant (rule 15).
@Suite("Downstream tokens: obtained as the user, cached, renewed, never for a revoked grant")
struct DownstreamTokenBrokerTests {
    static let graph = DownstreamAPI(
        name: "graph", header: "X-Graph-Token", scopes: ["https://graph.microsoft.com/User.Read"], method: .onBehalfOf)

    /// Signs a user in through the shim and answers the grant's id.
    static func signedInGrant(_ harness: ShimHarness, _ client: ShimClient) async throws -> String {
        _ = try await client.signIn()
        return try #require(try await harness.store.listGrants(clientID: nil, limit: 10).first?.id)
    }

    @Test("obtained with the user's upstream access token as the assertion; reused until 60 s before its expiry, then obtained again")
    func cachedUntilNearExpiry() async throws {
        let harness = try ShimHarness()
        harness.upstream.state.withLock { $0.downstreamLifetime = 300 }
        try await harness.run { client async throws in
            let grantID = try await Self.signedInGrant(harness, client)
            let broker = harness.services.downstreamTokens
            let first = try await broker.token(grantID: grantID, api: Self.graph, logger: harness.logger)
            let calls = harness.upstream.state.current.downstreamCalls
            #expect(calls.count == 1 && calls.first?.method == .onBehalfOf && calls.first?.api == "graph")
            #expect(calls.first?.assertion == harness.upstream.state.current.issuedAccessTokens.last)
            harness.clock.advance(by: 239)
            #expect(try await broker.token(grantID: grantID, api: Self.graph, logger: harness.logger) == first)
            #expect(harness.upstream.state.current.downstreamCalls.count == 1)
            harness.clock.advance(by: 2)  // 59 s left
            let renewed = try await broker.token(grantID: grantID, api: Self.graph, logger: harness.logger)
            #expect(renewed != first && harness.upstream.state.current.downstreamCalls.count == 2)
            // Rule 9: the tokens never reach the log.
            let log = harness.logLines.current.joined(separator: "\n")
            #expect(!log.contains(first) && !log.contains(renewed))
        }
    }

    @Test("a renewed upstream access token gets a new downstream token, obtained with the new one")
    func renewedWithTheUpstreamToken() async throws {
        let harness = try ShimHarness()
        harness.upstream.state.withLock {
            $0.accessTokenLifetime = 100
            $0.downstreamLifetime = 3600
        }
        try await harness.run { client async throws in
            let grantID = try await Self.signedInGrant(harness, client)
            let broker = harness.services.downstreamTokens
            let first = try await broker.token(grantID: grantID, api: Self.graph, logger: harness.logger)
            harness.clock.advance(by: 80)  // the upstream token is refreshed before it is used again
            let second = try await broker.token(grantID: grantID, api: Self.graph, logger: harness.logger)
            let state = harness.upstream.state.current
            #expect(second != first && state.refreshCalls.count == 1 && state.downstreamCalls.count == 2)
            #expect(state.downstreamCalls.last?.assertion == state.issuedAccessTokens.last)
        }
    }

    @Test("a revoked grant gets no downstream token, cached or new: invalid_grant, and the IdP is not asked")
    func revokedGrant() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let grantID = try await Self.signedInGrant(harness, client)
            let broker = harness.services.downstreamTokens
            _ = try await broker.token(grantID: grantID, api: Self.graph, logger: harness.logger)
            try await harness.store.revokeGrant(id: grantID, at: harness.clock.now())
            let refused = await #expect(throws: OAuthError.self) {
                try await broker.token(grantID: grantID, api: Self.graph, logger: harness.logger)
            }
            #expect(refused?.code == .invalidGrant)
            #expect(harness.upstream.state.current.downstreamCalls.count == 1)
        }
    }

    @Test("each API has its own token; a token without a stated lifetime is not cached")
    func perAPIAndUncached() async throws {
        let harness = try ShimHarness()
        harness.upstream.state.withLock { $0.downstreamLifetime = nil }
        try await harness.run { client async throws in
            let grantID = try await Self.signedInGrant(harness, client)
            let broker = harness.services.downstreamTokens
            let sharepoint = DownstreamAPI(name: "sharepoint", header: "X-SharePoint-Token", scopes: ["Sites.Read.All"], method: .onBehalfOf)
            let graph = try await broker.token(grantID: grantID, api: Self.graph, logger: harness.logger)
            let sites = try await broker.token(grantID: grantID, api: sharepoint, logger: harness.logger)
            #expect(graph.hasPrefix("graph-token-") && sites.hasPrefix("sharepoint-token-"))
            _ = try await broker.token(grantID: grantID, api: Self.graph, logger: harness.logger)
            #expect(harness.upstream.state.current.downstreamCalls.map(\.api) == ["graph", "sharepoint", "graph"])
        }
    }

    @Test("the IdP's refusal reaches the caller as it was explained")
    func refusal() async throws {
        let harness = try ShimHarness()
        let consent = DownstreamRefusal(status: 403, providerCode: "AADSTS65001", message: "consent", operatorHint: "grant admin consent")
        harness.upstream.state.withLock { $0.downstreamRefusal = consent }
        try await harness.run { client async throws in
            let grantID = try await Self.signedInGrant(harness, client)
            let refused = await #expect(throws: DownstreamRefusal.self) {
                try await harness.services.downstreamTokens.token(grantID: grantID, api: Self.graph, logger: harness.logger)
            }
            #expect(refused == consent)
        }
    }
}
