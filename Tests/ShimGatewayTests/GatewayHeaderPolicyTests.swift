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

/// The gateway between two parties that each must not steer the other: the
/// client's forwarding and identity headers never reach the MCP server, the
/// MCP server's cookies, challenge and internal addresses never reach the
/// client; Host, path parameters, CORS and a saturated connection pool.
@Suite("Gateway: header policy, Host, CORS, path parameters, saturation")
struct GatewayHeaderPolicyTests {
    @Test("forwarding headers: the client's forgeable ones never reach the MCP server; X-Forwarded-For/-Proto/-Host are the gateway's")
    func forwardingHeaders() async throws {
        let harness = try await GatewayHarness()
        try await harness.run { client, _ in
            var headers: HTTPFields = .bearer(try await harness.token())
            let forged = [
                ("X-Forwarded-For", "10.9.8.7"), ("Forwarded", "for=10.9.8.7;host=evil.example"), ("X-Forwarded-Host", "evil.example"),
                ("X-Forwarded-Proto", "http"), ("X-Forwarded-Prefix", "/admin"), ("X-Real-IP", "10.9.8.7"), ("X-Original-URL", "/admin"),
                ("X-Rewrite-URL", "/admin"), ("Proxy", "http://evil.example:3128"), ("X-Auth-Request-User", "admin"),
                ("X-Auth-Request-Email", "admin@example.com"), ("Remote-User", "admin"), ("X-Remote-User", "admin"),
                ("X-Remote-Group", "system:masters"), ("X_Forwarded_User", "admin"), ("X_Forwarded_Email", "admin@example.com"),
                ("Expect", "100-continue"),
            ]
            for (name, value) in forged { headers.append(HTTPField(name: try #require(HTTPField.Name(name)), value: value)) }
            headers[.origin] = "https://mcp.example.com"
            #expect(try await client.execute(uri: "/mcp", method: .post, headers: headers).status == .ok)
            let seen = try #require(harness.mcp.requests.first)
            for (name, _) in forged where !["x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"].contains(name.lowercased()) {
                #expect(seen.headers[name.lowercased()] == nil, "\(name) reached the MCP server")
            }
            #expect(seen.headers["origin"] == nil)
            // Set by the gateway: the peer it saw, and the resource's public URL.
            #expect(seen.headers["x-forwarded-for"] == ["127.0.0.1"])
            #expect(seen.headers["x-forwarded-proto"] == ["https"] && seen.headers["x-forwarded-host"] == ["mcp.example.com"])
            #expect(seen.headers["x-forwarded-user"] == ["user-1"] && seen.headers["x-forwarded-email"] == ["alice@example.com"])
        }
    }

    @Test(
        "path parameters and encoded percents never carry a request out of the resource",
        arguments: [
            "/mcp/..;/admin", "/mcp/..;jsessionid=1/admin", "/mcp/%2e%2e;/admin", "/mcp/..%3b/admin", "/mcp/a;b", "/mcp/%252e%252e/admin",
        ])
    func pathParameters(_ path: String) async throws {
        let harness = try await GatewayHarness()
        try await harness.run { client, _ in
            let response = try await client.execute(uri: path, method: .post, headers: .bearer(try await harness.token()))
            #expect(response.status == .badRequest || response.status == .notFound, "\(path): \(response.status)")
            #expect(harness.mcp.requests.isEmpty)
        }
    }

    @Test("Host: another name is 421 Misdirected Request before anything else; the resource's, the issuer's and loopback pass")
    func host() async throws {
        let harness = try await GatewayHarness()
        try await harness.run { _, port in
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            let token = try await harness.token()
            func post(host: String) async throws -> Int {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/mcp")
                request.method = .POST
                request.headers.add(name: "Host", value: host)
                request.headers.add(name: "Authorization", value: "Bearer " + token)
                let response = try await http.execute(request, timeout: .seconds(10))
                _ = try await response.body.collect(upTo: 1 << 20)
                return Int(response.status.code)
            }
            for host in ["evil.example", "evil.example:\(port)", "mcp.example.com.evil.example", "10.0.0.5"] {
                #expect(try await post(host: host) == 421, "\(host)")
            }
            #expect(harness.mcp.requests.isEmpty)
            for host in ["mcp.example.com", "MCP.example.com:443", "auth.example.com", "127.0.0.1:\(port)", "localhost"] {
                #expect(try await post(host: host) == 200, "\(host)")
            }
            try await http.shutdown()
        }
    }

    @Test("the MCP server's redirects point at the public URL; its cookies, challenge and public caching never reach the client; HTML is sandboxed")
    func responseRewriting() async throws {
        let harness = try await GatewayHarness()
        try await harness.run { client, _ in
            let token = try await harness.token()
            let redirect = try await client.execute(uri: "/mcp/redirect", method: .get, headers: .bearer(token))
            #expect(redirect.status == .temporaryRedirect)
            #expect(redirect.headers[.location] == "https://mcp.example.com/mcp/next?step=2")
            #expect(redirect.headers[.setCookie] == nil && redirect.headers[.cacheControl] == "private, max-age=600")
            let elsewhere = try await client.execute(uri: "/mcp/elsewhere", method: .get, headers: .bearer(token))
            #expect(elsewhere.status == .found && elsewhere.headers[.location] == nil)  // the MCP server's own /admin: not named
            let html = try await client.execute(uri: "/mcp/html", method: .get, headers: .bearer(token))
            #expect(html.headers[.contentSecurityPolicy] == "sandbox" && html.headers[.setCookie] == nil)
            let refused = try await client.execute(uri: "/mcp/refuse", method: .post, headers: .bearer(token))
            #expect(refused.status == .unauthorized)
            #expect(
                refused.headers[values: .wwwAuthenticate]
                    == [#"Bearer resource_metadata="\#(GatewayAuthorizationTests.metadataURL)", scope="mcp.read mcp.write""#])
            let answer = try await client.execute(uri: "/mcp", method: .post, headers: .bearer(token))
            #expect(answer.status == .ok && answer.headers[.cacheControl] == "private")
            #expect(answer.headers[.contentSecurityPolicy] == nil)
        }
    }

    @Test(
        "CORS: an allowed origin's preflight is answered without a token; another origin gets 403 and no CORS; every answer to an allowed origin is readable"
    )
    func cors() async throws {
        let harness = try await GatewayHarness()
        let app = "http://localhost:6274"
        try await harness.run(gateway: ["allowed_origins": .list([.string(app)])]) { client, _ in
            let preflight = try await client.execute(
                uri: "/mcp", method: .options,
                headers: [
                    .origin: app, .accessControlRequestMethod: "POST",
                    .accessControlRequestHeaders: "authorization, content-type, mcp-protocol-version",
                ])
            #expect(preflight.status == .noContent)
            #expect(
                preflight.headers[.accessControlAllowOrigin] == app && preflight.headers[.accessControlAllowMethods] == "GET, POST, DELETE, OPTIONS")
            #expect(preflight.headers[.accessControlAllowHeaders]?.contains("Mcp-Protocol-Version") == true)
            #expect(preflight.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
            #expect(preflight.headers[.accessControlMaxAge] != nil && preflight.headers[.vary] == "Origin")

            let foreign = try await client.execute(
                uri: "/mcp", method: .options,
                headers: [
                    .origin: "https://evil.example", .accessControlRequestMethod: "POST",
                ])
            #expect(foreign.status == .forbidden && foreign.headers[.accessControlAllowOrigin] == nil)

            // The 401 is readable by the browser client: it must find the challenge.
            let challenge = try await client.execute(uri: "/mcp", method: .post, headers: [.origin: app])
            #expect(challenge.status == .unauthorized && challenge.headers[.accessControlAllowOrigin] == app)
            #expect(challenge.headers[.accessControlExposeHeaders] == "WWW-Authenticate, Mcp-Session-Id, Retry-After")
            #expect(challenge.headers[values: .vary].contains("Origin"))

            let answer = try await client.execute(
                uri: "/mcp", method: .post, headers: [.origin: app, .authorization: "Bearer " + (try await harness.token())])
            #expect(answer.status == .ok && answer.headers[.accessControlAllowOrigin] == app)
            #expect(harness.mcp.requests.count == 1 && harness.mcp.requests.first?.headers["origin"] == nil)
            // Without Origin (not a browser), no CORS headers.
            let plain = try await client.execute(uri: "/mcp", method: .post, headers: .bearer(try await harness.token()))
            #expect(plain.headers[.accessControlAllowOrigin] == nil)

            // The RFC 9728 document is public: readable from any origin, its preflight answered.
            let metadata = try await client.execute(
                uri: "/.well-known/oauth-protected-resource/mcp", method: .get, headers: [.origin: "https://elsewhere.example"])
            #expect(metadata.status == .ok && metadata.headers[.accessControlAllowOrigin] == "*")
            let metadataPreflight = try await client.execute(
                uri: "/.well-known/oauth-protected-resource/mcp", method: .options,
                headers: [
                    .origin: "https://elsewhere.example", .accessControlRequestMethod: "GET", .accessControlRequestHeaders: "mcp-protocol-version",
                ])
            #expect(metadataPreflight.status == .noContent && metadataPreflight.headers[.accessControlAllowOrigin] == "*")
            #expect(metadataPreflight.headers[.accessControlAllowHeaders]?.contains("Mcp-Protocol-Version") == true)
        }
    }

    @Test("no free connection to the MCP server within gateway.connect_timeout: 503 with Retry-After, not 502")
    func poolExhausted() async throws {
        let harness = try await GatewayHarness()
        try await harness.run(settings: ["max_connections": .string("1"), "connect_timeout": .string("1s")]) { client, port in
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            let token = try await harness.token()
            // The one connection is held by an SSE stream that stays silent.
            let holder = Task {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/mcp/silent")
                request.method = .POST
                request.headers.add(name: "Authorization", value: "Bearer " + token)
                request.body = .bytes(ByteBuffer(string: "{}"))
                let response = try await http.execute(request, timeout: .seconds(30))
                var iterator = response.body.makeAsyncIterator()
                _ = try await iterator.next()
                harness.mcp.seen.withLock { $0.clientSawFirst = true }
                _ = try await iterator.next()
            }
            let deadline = ContinuousClock.now + .seconds(10)
            while !harness.mcp.seen.withLock({ $0.clientSawFirst }), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            let started = ContinuousClock.now
            let response = try await client.execute(uri: "/mcp", method: .post, headers: .bearer(token))
            #expect(response.status == .serviceUnavailable, "\(response.status)")
            #expect(response.headers[.retryAfter] != nil)
            #expect(ContinuousClock.now - started < .seconds(10))
            holder.cancel()
            _ = await holder.result
            try await http.shutdown()
        }
    }
}
