import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import ShimCore
import ShimGateway
import ShimTesting
import ShimTokens
import Synchronization
import Testing

/// The gateway's router, replaceable as the shim's `ReloadableResponder` is:
/// a reload builds a new gateway and swaps it in.
final class ReloadableGatewayResponder: HTTPResponder, Sendable {
    typealias Context = GatewayTestContext
    private let current: Mutex<RouterResponder<GatewayTestContext>>

    init(_ responder: RouterResponder<GatewayTestContext>) { current = Mutex(responder) }

    func replace(with responder: RouterResponder<GatewayTestContext>) { current.withLock { $0 = responder } }

    func respond(to request: Request, context: GatewayTestContext) async throws -> Response {
        let responder = current.withLock { $0 }
        return try await responder.respond(to: request, context: context)
    }
}

extension GatewayHarness {
    /// As `run`, with a `reload` that builds the gateway again from new
    /// `gateway.*` settings and swaps it in, handing it the same
    /// `GatewayCounters` (as the executable's RunningParts does on SIGHUP).
    func runReloading(
        settings: [String: ConfigValue],
        _ body:
            @escaping @Sendable (
                _ client: any TestClientProtocol, _ port: Int, _ reload: @escaping @Sendable ([String: ConfigValue]) throws -> Void
            ) async throws -> Void
    ) async throws {
        let mcpApp = Application(router: mcp.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let harness = self
        try await mcpApp.test(.live) { mcpClient in
            let mcpPort = try #require(mcpClient.port)
            let upstream = "http://127.0.0.1:\(mcpPort)/mcp"
            let http = Gateway.makeHTTPClient(try Self.configuration(upstream: upstream, gateway: [:], settings: settings).gateway)
            let counters = GatewayCounters()
            let build: @Sendable ([String: ConfigValue]) throws -> RouterResponder<GatewayTestContext> = { settings in
                let config = try Self.configuration(upstream: upstream, gateway: [:], settings: settings)
                let router = Router(context: GatewayTestContext.self)
                Gateway(
                    config: config, validator: IssuedTokenValidator(keys: harness.keys, issuer: Self.issuer, store: harness.store),
                    upstreamTokens: harness.tokens, httpClient: http, sessions: harness.store, clock: harness.clock, counters: counters
                ).register(on: router)
                return router.buildResponder()
            }
            let responder = ReloadableGatewayResponder(try build(settings))
            let lines = harness.logLines
            let app = Application(
                responder: responder, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                logger: Logger(label: "gateway-test") { _ in CapturingLogHandler(lines: lines) })
            do {
                try await app.test(.live) { client in
                    try await body(client, try #require(client.port)) { settings in responder.replace(with: try build(settings)) }
                }
            } catch {
                try? await http.shutdown()
                throw error
            }
            try await http.shutdown()
        }
    }
}

/// A reload builds the gateway again; the per-grant counts are made once
/// (`GatewayCounters`) and outlive it: a grant at its request limit gets no
/// fresh budget, and the streams it holds keep their slots, so after a
/// reload it cannot open `gateway.max_streams_per_grant` more
/// (docs/security-rules.md, rule 16).
@Suite("Gateway reload: the per-grant counts outlive the rebuilt gateway")
struct GatewayReloadCountersTests {
    @Test("a stream open across a reload keeps its slot; a raised cap counts it; its end frees the slot", .timeLimit(.minutes(1)))
    func openStreamKeepsItsSlot() async throws {
        let harness = try await GatewayHarness()
        let settings: [String: ConfigValue] = ["max_streams_per_grant": .string("1"), "stream_recheck_interval": .string("1s")]
        try await harness.runReloading(settings: settings) { client, port, reload in
            let token = try await harness.token()
            let holder = Task { try await GatewayStreamLimitTests.readSilentStream(port: port, token: token) }
            try await GatewayStreamLimitTests.waitForRequests(harness, 1)
            try await Task.sleep(for: .milliseconds(200))
            try reload(settings)
            let get = try await client.execute(uri: "/mcp", method: .get, headers: .bearer(try await harness.token()))
            #expect(get.status == .tooManyRequests, "the reload forgot the open stream's slot")
            #expect(get.headers[.retryAfter] != nil)
            #expect(harness.mcp.requests.count == 1)
            // A raised cap applies to the stream already open: one more, not two.
            try reload(settings.merging(["max_streams_per_grant": .string("2")]) { $1 })
            harness.mcp.seen.withLock { $0.clientSawFirst = true }
            #expect(try await GatewayStreamLimitTests.streamStatus(port: port, token: try await harness.token()) == 200)
            // The stream opened before the reloads gives its slot back to the same counts when it ends.
            try reload(settings)
            harness.clock.advance(by: 3600)
            _ = try await holder.value
            #expect(try await GatewayStreamLimitTests.streamStatus(port: port, token: try await harness.token()) == 200)
        }
    }

    @Test("a grant at gateway.requests_per_minute is still refused after a reload")
    func requestCountSurvivesReload() async throws {
        let harness = try await GatewayHarness()
        let settings: [String: ConfigValue] = ["requests_per_minute": .string("2")]
        try await harness.runReloading(settings: settings) { client, _, reload in
            let token = try await harness.token()
            #expect(try await client.execute(uri: "/mcp", method: .post, headers: .bearer(token)).status == .ok)
            #expect(try await client.execute(uri: "/mcp", method: .post, headers: .bearer(token)).status == .ok)
            #expect(try await client.execute(uri: "/mcp", method: .post, headers: .bearer(token)).status == .tooManyRequests)
            try reload(settings)
            let refused = try await client.execute(uri: "/mcp", method: .post, headers: .bearer(token))
            #expect(refused.status == .tooManyRequests, "the reload gave the grant a fresh budget")
            #expect(harness.mcp.requests.count == 2)
            // The window ends as it would have without the reload.
            harness.clock.advance(by: 61)
            #expect(try await client.execute(uri: "/mcp", method: .post, headers: .bearer(try await harness.token())).status == .ok)
        }
    }
}
