import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import ShimCore
import ShimTesting
import Synchronization
import Testing

/// The proxy itself: what the MCP server receives, what the client gets
/// back, streaming, cancellation, and every failure answered, never a hang.
@Suite("Gateway: forwarding and streaming")
struct GatewayForwardingTests {
    @Test("the MCP server never sees the client's token, cookies or hop-by-hop headers; it sees identity and MCP headers")
    func requestHeaders() async throws {
        let harness = try await GatewayHarness()
        try await harness.run { client, port in
            let token = try await harness.token()
            var headers: HTTPFields = .bearer(token)
            headers[.cookie] = "__Host-dcr-shim-browser=secret"
            headers[HTTPField.Name("Proxy-Authorization")!] = "Basic x"
            headers[HTTPField.Name("X-Forwarded-User")!] = "admin"  // smuggled identity
            headers[HTTPField.Name("Mcp-Method")!] = "tools/call"
            headers[HTTPField.Name("Mcp-Name")!] = "stream_steps"
            headers[HTTPField.Name("Mcp-Session-Id")!] = "session-42"
            headers[HTTPField.Name("MCP-Protocol-Version")!] = "2026-07-28"
            headers[.contentType] = "application/json"
            // The session opened first: the gateway lets only its opener name it.
            _ = try await client.execute(uri: "/mcp", method: .post, headers: .bearer(token))
            let response = try await client.execute(
                uri: "/mcp/sub/path?x=1&y=2", method: .post, headers: headers,
                body: ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"stream_steps"}}"#))
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == #"{"jsonrpc":"2.0","id":1,"result":{"bytes":79}}"#)
            // Response headers: Mcp-Session-Id back; the MCP server's Connection-listed header not.
            #expect(response.headers[HTTPField.Name("Mcp-Session-Id")!] == "session-42")
            #expect(response.headers[HTTPField.Name("X-Upstream-Hop")!] == nil)
            let seen = try #require(harness.mcp.requests.last)
            #expect(seen.path == "/mcp/sub/path" && seen.query == "x=1&y=2" && seen.method == "POST")
            for name in ["authorization", "cookie", "proxy-authorization"] { #expect(seen.headers[name] == nil, "\(name)") }
            #expect(!seen.headers.values.joined().contains { $0.contains(token) })
            #expect(seen.headers["host"]?.first?.hasPrefix("127.0.0.1:") == true)
            #expect(seen.headers["host"]?.first != "127.0.0.1:\(port)")
            #expect(seen.headers["x-forwarded-user"] == ["user-1"] && seen.headers["x-forwarded-client-id"] == [GatewayHarness.clientID])
            #expect(seen.headers["x-forwarded-scope"] == ["mcp.read"] && seen.headers["x-forwarded-email"] == ["alice@example.com"])
            for (name, value) in [
                ("mcp-method", "tools/call"), ("mcp-name", "stream_steps"), ("mcp-session-id", "session-42"),
                ("mcp-protocol-version", "2026-07-28"), ("content-type", "application/json"),
            ] {
                #expect(seen.headers[name] == [value], "\(name)")
            }
            #expect(harness.tokens.calls.withLock { $0.isEmpty })  // no injection configured
        }
    }

    @Test("a path that would leave the resource is refused, never forwarded")
    func dotSegments() async throws {
        let harness = try await GatewayHarness()
        try await harness.run { client, _ in
            let token = try await harness.token()
            for path in ["/mcp/../admin", "/mcp/%2e%2e/admin", "/mcp//admin"] {
                let response = try await client.execute(uri: path, method: .post, headers: .bearer(token))
                #expect(response.status == .badRequest || response.status == .notFound, "\(path): \(response.status)")
            }
            #expect(harness.mcp.requests.isEmpty)
        }
    }

    @Test("headers the client lists in Connection are not forwarded (RFC 9110 §7.6.1)")
    func connectionListed() async throws {
        let harness = try await GatewayHarness()
        try await harness.run { _, port in
            // HummingbirdTesting's client sets its own Connection header: AsyncHTTPClient sends ours.
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/mcp")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer " + (try await harness.token()))
            request.headers.add(name: "Connection", value: "keep-alive, X-Secret-Hop")
            request.headers.add(name: "X-Secret-Hop", value: "1")
            request.headers.add(name: "X-Kept", value: "1")
            let response = try await http.execute(request, timeout: .seconds(10))
            #expect(response.status == .ok)
            _ = try await response.body.collect(upTo: 1 << 20)
            try await http.shutdown()
            let seen = try #require(harness.mcp.requests.first)
            #expect(seen.headers["x-secret-hop"] == nil && seen.headers["x-kept"] == ["1"])
        }
    }

    @Test("identity headers can be turned off, and a client still cannot smuggle them")
    func identityOff() async throws {
        let harness = try await GatewayHarness()
        try await harness.run(gateway: ["identity_headers": .string("false")]) { client, _ in
            var headers: HTTPFields = .bearer(try await harness.token())
            headers[HTTPField.Name("X-Forwarded-User")!] = "admin"
            #expect(try await client.execute(uri: "/mcp", method: .post, headers: headers).status == .ok)
            let seen = try #require(harness.mcp.requests.first)
            #expect(seen.headers["x-forwarded-user"] == nil && seen.headers["x-forwarded-client-id"] == nil)
        }
    }

    @Test("injection: the user's upstream token in the configured header; a client's copy replaced; failures are 401 or 503")
    func injection() async throws {
        let harness = try await GatewayHarness()
        try await harness.run(gateway: ["upstream_token_header": .string("X-Upstream-Token")]) { client, _ in
            var headers: HTTPFields = .bearer(try await harness.token())
            headers[HTTPField.Name("X-Upstream-Token")!] = "smuggled"
            #expect(try await client.execute(uri: "/mcp", method: .post, headers: headers).status == .ok)
            #expect(harness.mcp.requests.first?.headers["x-upstream-token"] == ["upstream-access-token-77"])
            #expect(harness.tokens.calls.withLock { $0 } == [GatewayHarness.grantID])
            harness.tokens.outcome.withLock { $0 = .failure(.invalidGrant("the identity provider no longer accepts this grant")) }
            GatewayAuthorizationTests.expectChallenge(try await client.execute(uri: "/mcp", method: .post, headers: headers), error: "invalid_token")
            harness.tokens.outcome.withLock { $0 = .failure(OAuthError(.temporarilyUnavailable, "down")) }
            #expect(try await client.execute(uri: "/mcp", method: .post, headers: headers).status == .serviceUnavailable)
            #expect(harness.mcp.requests.count == 1)
        }
        try await harness.run(gateway: ["upstream_token_header": .string("Authorization")]) { client, _ in
            harness.tokens.outcome.withLock { $0 = .success("upstream-access-token-77") }
            let token = try await harness.token()
            #expect(try await client.execute(uri: "/mcp", method: .post, headers: .bearer(token)).status == .ok)
            #expect(harness.mcp.requests.last?.headers["authorization"] == ["Bearer upstream-access-token-77"])
        }
    }

    @Test("SSE: the first event reaches the client before the MCP server sends the second (no buffering)")
    func streaming() async throws {
        let harness = try await GatewayHarness()
        try await harness.run { _, port in
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { Task { try? await http.shutdown() } }
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/mcp/sse")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer " + (try await harness.token()))
            request.headers.add(name: "Accept", value: "application/json, text/event-stream")
            request.body = .bytes(ByteBuffer(string: "{}"))
            let response = try await http.execute(request, timeout: .seconds(10))
            #expect(response.status == .ok && response.headers.first(name: "content-type") == "text/event-stream")
            #expect(response.headers.first(name: "x-accel-buffering") == "no")
            var text = ""
            for try await chunk in response.body {
                text += String(buffer: chunk)
                if text.contains("\"n\":1") { harness.mcp.seen.withLock { $0.clientSawFirst = true } }
            }
            #expect(text == "event: message\ndata: {\"n\":1}\n\nevent: message\ndata: {\"n\":2}\n\n")
            #expect(harness.mcp.seen.withLock { $0.secondSentAfterClientSawFirst } == true)
        }
    }

    @Test("a client that closes a silent SSE stream cancels the upstream call (Streamable HTTP cancellation)")
    func cancellation() async throws {
        let harness = try await GatewayHarness()
        try await harness.run { _, port in
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            let token = try await harness.token()
            let reader = Task {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/mcp/silent")
                request.method = .POST
                request.headers.add(name: "Authorization", value: "Bearer " + token)
                request.body = .bytes(ByteBuffer(string: "{}"))
                let response = try await http.execute(request, timeout: .seconds(10))
                var iterator = response.body.makeAsyncIterator()
                _ = try await iterator.next()  // the first event
                harness.mcp.seen.withLock { $0.clientSawFirst = true }
                _ = try await iterator.next()  // silence until cancelled
            }
            let deadline = ContinuousClock.now + .seconds(10)
            while !harness.mcp.seen.withLock({ $0.clientSawFirst }), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            let left = ContinuousClock.now
            reader.cancel()
            // Generous for a loaded machine: the handler would otherwise run its full 30 s.
            let stop = left + .seconds(15)
            while !harness.mcp.seen.withLock({ $0.silentCancelled }), ContinuousClock.now < stop { try await Task.sleep(for: .milliseconds(20)) }
            #expect(harness.mcp.seen.withLock { $0.silentCancelled }, "the MCP server's handler was still running 15 s after the client left")
            #expect(ContinuousClock.now - left < .seconds(15))
            _ = await reader.result
            try await http.shutdown()
        }
    }

    @Test("the MCP server down: 502 with a JSON-RPC error, at once")
    func upstreamDown() async throws {
        let harness = try await GatewayHarness()
        let closedPort = try ClosedPort.make()
        try await harness.run(upstreamURL: "http://127.0.0.1:\(closedPort)/mcp") { client, _ in
            let started = ContinuousClock.now
            let response = try await client.execute(uri: "/mcp", method: .post, headers: .bearer(try await harness.token()))
            #expect(response.status == .badGateway && ContinuousClock.now - started < .seconds(5))
            let body = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
            #expect(body["jsonrpc"] as? String == "2.0" && (body["error"] as? [String: Any])?["code"] as? Int == -32000 && body["id"] == nil)
        }
    }

    @Test("an MCP server that does not answer within gateway.response_timeout: 504, not a hang")
    func upstreamSlow() async throws {
        let harness = try await GatewayHarness()
        try await harness.run(settings: ["response_timeout": .string("1s")]) { client, _ in
            let started = ContinuousClock.now
            let response = try await client.execute(uri: "/mcp/slow", method: .post, headers: .bearer(try await harness.token()))
            // The MCP server would answer 200 after 5 s: 504 is the timeout's answer.
            #expect(response.status == .gatewayTimeout && ContinuousClock.now - started < .seconds(15))
        }
    }

    @Test("bodies over gateway.max_request_bytes: 413, by Content-Length or while streaming")
    func bodyLimit() async throws {
        let harness = try await GatewayHarness()
        try await harness.run(settings: ["max_request_bytes": .string("2048")]) { client, port in
            let token = try await harness.token()
            let big = try await client.execute(uri: "/mcp", method: .post, headers: .bearer(token), body: ByteBuffer(repeating: 0x61, count: 4096))
            #expect(big.status == .contentTooLarge)
            #expect(
                try await client.execute(uri: "/mcp", method: .post, headers: .bearer(token), body: ByteBuffer(repeating: 0x61, count: 2048)).status
                    == .ok)
            // Chunked, without a Content-Length: cut off while streaming.
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/mcp")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer " + token)
            let chunks = (0..<8).map { _ in ByteBuffer(repeating: 0x62, count: 1024) }
            request.body = .stream(chunks.async, length: .unknown)
            let response = try await http.execute(request, timeout: .seconds(10))
            #expect(response.status.code == 413)
            try await http.shutdown()
        }
    }
}

/// A loopback port with nothing listening.
enum ClosedPort {
    static func make() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

extension Array where Element: Sendable {
    var async: AsyncStream<Element> {
        AsyncStream { continuation in
            for element in self { continuation.yield(element) }
            continuation.finish()
        }
    }
}
