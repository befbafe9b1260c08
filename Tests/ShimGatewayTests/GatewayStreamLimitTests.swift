import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import ShimCore
import ShimStorage
import ShimTesting
import Synchronization
import Testing

/// Streams end with their authority, and one grant cannot take the gateway
/// from everyone else (docs/security-rules.md, rules 15 and 16): a stream
/// ends at the token's expiry, at `gateway.max_stream_lifetime`, and within
/// `gateway.stream_recheck_interval` of its grant's revocation; streams and
/// requests per minute are capped per grant with 429 and `Retry-After`.
@Suite("Gateway: streams end with their authority; per-grant limits")
struct GatewayStreamLimitTests {
    /// Opens `/mcp/silent` (one event, then 30 s of silence) and reads it to
    /// its end; returns the text read and how long the stream lasted.
    static func readSilentStream(port: Int, token: String) async throws -> (text: String, lasted: Duration) {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/mcp/silent")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer " + token)
            request.body = .bytes(ByteBuffer(string: "{}"))
            let started = ContinuousClock.now
            let response = try await http.execute(request, timeout: .seconds(40))
            var text = "status \(response.status.code): "
            for try await chunk in response.body { text += String(buffer: chunk) }
            let lasted = ContinuousClock.now - started
            try await http.shutdown()
            return (text, lasted)
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    /// The status of a POST to `/mcp/sse` (a streamed answer), read to its end
    /// on a connection of its own.
    static func streamStatus(port: Int, token: String) async throws -> UInt {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/mcp/sse")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer " + token)
            request.body = .bytes(ByteBuffer(string: "{}"))
            let response = try await http.execute(request, timeout: .seconds(30))
            for try await _ in response.body {}
            try await http.shutdown()
            return response.status.code
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    /// Waits (up to 5 s) until the fake MCP server has received `count` requests.
    static func waitForRequests(_ harness: GatewayHarness, _ count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while harness.mcp.requests.count < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
    }

    @Test("a revoked grant's open SSE stream ends within gateway.stream_recheck_interval")
    func revocationEndsStream() async throws {
        let harness = try await GatewayHarness()
        try await harness.run(settings: ["stream_recheck_interval": .string("1s")]) { _, port in
            let token = try await harness.token()
            let reader = Task { try await Self.readSilentStream(port: port, token: token) }
            try await Self.waitForRequests(harness, 1)
            try await Task.sleep(for: .milliseconds(200))
            let revoked = ContinuousClock.now
            await harness.store.revokeGrant(id: GatewayHarness.grantID, at: harness.clock.now())
            let (text, _) = try await reader.value
            #expect(ContinuousClock.now - revoked < .seconds(20), "the stream outlived its grant's revocation (it would have run 30 s)")
            #expect(text == "status 200: data: {\"n\":1}\n\n")
            // The upstream call was cancelled with it.
            let deadline = ContinuousClock.now + .seconds(5)
            while !harness.mcp.seen.withLock({ $0.silentCancelled }), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(harness.mcp.seen.withLock { $0.silentCancelled })
        }
    }

    @Test("a stream ends at its token's exp, and at gateway.max_stream_lifetime", arguments: [(30, 31.0), (7200, 61.0)])
    func deadlineEndsStream(tokenLife: Int, advance: TimeInterval) async throws {
        let harness = try await GatewayHarness()
        try await harness.run(settings: ["stream_recheck_interval": .string("1s"), "max_stream_lifetime": .string("1m")]) { _, port in
            let now = Int(harness.clock.now().timeIntervalSince1970)
            let token = try await harness.token { $0.expiresAt = now + tokenLife }
            let reader = Task { try await Self.readSilentStream(port: port, token: token) }
            try await Self.waitForRequests(harness, 1)
            try await Task.sleep(for: .milliseconds(200))
            let moved = ContinuousClock.now
            harness.clock.advance(by: advance)
            let (text, _) = try await reader.value
            #expect(ContinuousClock.now - moved < .seconds(20), "the stream outlived its deadline (it would have run 30 s)")
            #expect(text == "status 200: data: {\"n\":1}\n\n")
        }
    }

    @Test("at gateway.max_streams_per_grant a further stream of that grant is 429 with Retry-After; other users are served")
    func streamCap() async throws {
        let harness = try await GatewayHarness()
        try await harness.run(settings: ["max_streams_per_grant": .string("1"), "stream_recheck_interval": .string("1s")]) { client, port in
            let token = try await harness.token()
            let holder = Task { try await Self.readSilentStream(port: port, token: token) }
            try await Self.waitForRequests(harness, 1)
            try await Task.sleep(for: .milliseconds(200))
            // A GET (always a stream) is refused before it reaches the MCP server.
            let get = try await client.execute(uri: "/mcp", method: .get, headers: .bearer(try await harness.token()))

            #expect(get.status == .tooManyRequests && get.headers[.retryAfter] != nil)
            #expect(harness.mcp.requests.count == 1)
            // A POST answered as a stream takes a slot too.
            harness.mcp.seen.withLock { $0.clientSawFirst = true }
            let post = try await client.execute(uri: "/mcp/sse", method: .post, headers: .bearer(try await harness.token()))
            #expect(post.status == .tooManyRequests && post.headers[.retryAfter] != nil)
            // Another user's stream and the grant's own JSON calls go through.
            // (An SSE answer ends its connection, `Connection: close`: streams go
            // over connections of their own, as a client that reads the header does.)
            #expect(try await client.execute(uri: "/mcp", method: .post, headers: .bearer(try await harness.token())).status == .ok)
            #expect(try await Self.streamStatus(port: port, token: try await harness.token(GatewayHarness.otherUser)) == 200)
            // The stream ended, its slot is free again.
            harness.clock.advance(by: 3600)
            _ = try await holder.value
            let fresh = try await harness.token()
            #expect(try await Self.streamStatus(port: port, token: fresh) == 200)
        }
    }

    @Test("a flood from one token gets 429 with Retry-After at gateway.requests_per_minute; another user's calls still succeed")
    func requestsPerMinute() async throws {
        let harness = try await GatewayHarness()
        try await harness.run(settings: ["requests_per_minute": .string("5")]) { client, _ in
            let token = try await harness.token()
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<8 { statuses.append(try await client.execute(uri: "/mcp", method: .post, headers: .bearer(token)).status) }
            #expect(statuses == Array(repeating: .ok, count: 5) + Array(repeating: .tooManyRequests, count: 3))
            let refused = try await client.execute(uri: "/mcp", method: .post, headers: .bearer(token))
            #expect(refused.status == .tooManyRequests)
            let retry = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...60).contains(retry))
            #expect(harness.mcp.requests.count == 5)
            let other = try await harness.token(GatewayHarness.otherUser)
            let otherAnswer = try await client.execute(uri: "/mcp", method: .post, headers: .bearer(other))
            #expect(otherAnswer.status == .ok, "\(otherAnswer.status) \(String(buffer: otherAnswer.body)) \(otherAnswer.headers)")
            // The next window.
            harness.clock.advance(by: 61)
            #expect(try await client.execute(uri: "/mcp", method: .post, headers: .bearer(try await harness.token())).status == .ok)
        }
    }
}
