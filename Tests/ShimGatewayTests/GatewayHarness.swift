import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ShimCore
import ShimGateway
import ShimStorage
import ShimTesting
import ShimTokens
import Synchronization
import Testing

/// What the gateway injects, or how it fails.
final class FakeUpstreamTokens: UpstreamAccessTokens, Sendable {
    let outcome = Mutex<Result<String?, OAuthError>>(.success("upstream-access-token-77"))
    let calls = Mutex<[String]>([])
    func upstreamAccessToken(grantID: String, logger: Logger) async throws -> String? {
        calls.withLock { $0.append(grantID) }
        return try outcome.withLock { $0 }.get()
    }
}

/// The downstream tokens the gateway injects (a new one per call, named
/// after the API and the grant), or how it fails.
final class FakeDownstreamTokens: DownstreamTokens, Sendable {
    let failure = Mutex<(any Error & Sendable)?>(nil)
    let calls = Mutex<[(grantID: String, api: String)]>([])
    func downstreamToken(grantID: String, api: DownstreamAPI, logger: Logger) async throws -> String {
        let count = calls.withLock { calls in
            calls.append((grantID, api.name))
            return calls.count
        }
        if let failure = failure.withLock({ $0 }) { throw failure }
        return "\(api.name)-token-\(count)"
    }
}

/// A gateway in front of `FakeMCPServer`, both served live on loopback.
struct GatewayHarness: Sendable {
    static let issuer = "https://auth.example.com"
    static let resource = "https://mcp.example.com/mcp"
    static let grantID = "grant-1"
    static let clientID = "client-1"

    let clock = TestClock()
    let store = MemoryStore()
    let tokens = FakeUpstreamTokens()
    let downstream = FakeDownstreamTokens()
    let mcp = FakeMCPServer()
    /// The gateway's log lines (the per-call audit among them).
    let logLines = Locked<[String]>([])
    let keys: SigningKeys

    init() async throws {
        keys = try await SigningKeys.make(current: P256.Signing.PrivateKey())
        let upstream = SealedUpstreamTokens(accessToken: "x", accessTokenExpiresAt: nil, refreshToken: nil, tokenType: "Bearer", scope: nil)
        let now = clock.now()
        _ = try await store.createGrant(
            Grant(
                id: Self.grantID, clientID: Self.clientID, subject: "user-1", resource: Self.resource, scope: ScopeSet("mcp.read"),
                upstreamScope: ScopeSet("mcp.read"), upstream: upstream, createdAt: now, expiresAt: now.addingTimeInterval(86400)),
            refreshTokenHash: "h", refreshToken: RefreshTokenRecord(grantID: Self.grantID, clientID: Self.clientID, issuedAt: now))
        // Another user's grant through the same client (`otherUser`).
        _ = try await store.createGrant(
            Grant(
                id: Self.otherGrantID, clientID: Self.clientID, subject: "user-2", resource: Self.resource, scope: ScopeSet("mcp.read"),
                upstreamScope: ScopeSet("mcp.read"), upstream: upstream, createdAt: now, expiresAt: now.addingTimeInterval(86400)),
            refreshTokenHash: "h2", refreshToken: RefreshTokenRecord(grantID: Self.otherGrantID, clientID: Self.clientID, issuedAt: now))
    }

    static let otherGrantID = "grant-2"

    /// A change to `token` that makes it the other user's (`user-2`, `grant-2`).
    static func otherUser(_ claims: inout AccessTokenClaims) {
        claims.subject = "user-2"
        claims.grantID = otherGrantID
        claims.extra = [:]
    }

    /// An issued token as the shim would mint it (changed by `change`).
    func token(_ change: (inout AccessTokenClaims) -> Void = { _ in }) async throws -> String {
        let now = Int(clock.now().timeIntervalSince1970)
        var claims = AccessTokenClaims(
            issuer: Self.issuer, subject: "user-1", audience: [Self.resource], expiresAt: now + 300, issuedAt: now,
            tokenID: UUID().uuidString, clientID: Self.clientID, scope: "mcp.read", grantID: Self.grantID,
            extra: ["email": .string("alice@example.com")])
        change(&claims)
        return try await keys.sign(claims, type: "at+jwt")
    }

    static func configuration(upstream: String, gateway: [String: ConfigValue], settings: [String: ConfigValue]) throws -> ShimConfiguration {
        var resource: [String: ConfigValue] = [
            "resource": .string(resource), "scopes": .list([.string("mcp.read"), .string("mcp.write")]),
            "upstream": .string(upstream),
        ]
        resource.merge(gateway) { $1 }
        let tree: ConfigValue = .map([
            "issuer": .string(issuer),
            "upstream": .map(["issuer": .string("https://idp.example"), "client_id": .string("c"), "client_secret": .string("s")]),
            "resources": .list([.map(resource)]),
            "redirects": .map(["clients": .list([.string("loopback")])]),
            "tokens": .map(["access": .string("issued")]),
            "gateway": .map(settings),
        ])
        return try ShimConfiguration.load(file: tree, readFile: { _ in "" }).get()
    }

    /// Runs `body` with a live gateway (its port) in front of a live fake MCP server.
    func run(
        gateway: [String: ConfigValue] = [:], settings: [String: ConfigValue] = [:], upstreamURL: String? = nil,
        _ body: @escaping @Sendable (_ client: any TestClientProtocol, _ port: Int) async throws -> Void
    ) async throws {
        let mcpApp = Application(router: mcp.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let harness = self
        try await mcpApp.test(.live) { mcpClient in
            let mcpPort = try #require(mcpClient.port)
            let config = try Self.configuration(upstream: upstreamURL ?? "http://127.0.0.1:\(mcpPort)/mcp", gateway: gateway, settings: settings)
            let http = Gateway.makeHTTPClient(config.gateway)
            let router = Router(context: GatewayTestContext.self)
            Gateway(
                config: config, validator: IssuedTokenValidator(keys: harness.keys, issuer: Self.issuer, store: harness.store),
                upstreamTokens: harness.tokens, httpClient: http, sessions: harness.store, clock: harness.clock,
                downstreamTokens: harness.downstream
            ).register(on: router)
            let lines = harness.logLines
            let app = Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                logger: Logger(label: "gateway-test") { _ in CapturingLogHandler(lines: lines) })
            do {
                try await app.test(.live) { client in try await body(client, try #require(client.port)) }
            } catch {
                try? await http.shutdown()
                throw error
            }
            try await http.shutdown()
        }
    }
}

/// The gateway's request context in tests: like the shim's own, it knows
/// the client's address (here always the TCP peer, loopback).
struct GatewayTestContext: RequestContext, ClientAddressCarrying {
    var coreContext: CoreRequestContextStorage
    let clientAddress: IPAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress.flatMap { IPAddress($0) }
    }
}

extension HTTPFields {
    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer " + token] }
}
