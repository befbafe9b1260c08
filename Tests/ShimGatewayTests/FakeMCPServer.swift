import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ShimTesting
import Synchronization

/// A stand-in MCP server with no authentication, for the gateway's unit
/// tests (the end-to-end tests use a real `mcp` SDK server). It records the
/// headers it receives and can stream, stall, or hang.
final class FakeMCPServer: Sendable {
    struct Seen: Sendable {
        var requests: [(path: String, query: String?, method: String, headers: [String: [String]], body: String)] = []
        /// The test read the first SSE event (set by the test).
        var clientSawFirst = false
        /// Whether the test had read the first event when the second was sent.
        var secondSentAfterClientSawFirst: Bool?
        /// The silent stream's handler was cancelled (its client went away).
        var silentCancelled = false
        /// Requests answered by `/mcp/early` without reading their body.
        var earlyAnswers = 0
    }

    let seen = Mutex(Seen())

    var requests: [(path: String, query: String?, method: String, headers: [String: [String]], body: String)] { seen.withLock { $0.requests } }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        for path in ["/mcp", "/mcp/**"] {
            for method in [HTTPRequest.Method.get, .post, .delete] {
                router.on(RouterPath(path), method: method) { request, _ in try await self.handle(request) }
            }
        }
        return router
    }

    func handle(_ request: Request) async throws -> Response {
        if request.uri.path == "/mcp/early" {
            // Answers before reading a byte of the body, as a refusal, a fast
            // path or a caching stand-in does; Hummingbird drains the body after.
            seen.withLock { $0.earlyAnswers += 1 }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"result":{"early":true}}"#)))
        }
        var request = request
        let body = String(buffer: try await request.collectBody(upTo: 64 * 1024 * 1024))
        var headers: [String: [String]] = [:]
        for field in request.headers { headers[field.name.canonicalName, default: []].append(field.value) }
        if let authority = request.head.authority { headers["host"] = [authority] }
        seen.withLock { $0.requests.append((request.uri.path, request.uri.query, request.method.rawValue, headers, body)) }
        switch request.uri.path {
        case "/mcp/sse": return stream()
        case "/mcp/redirect":
            // A redirect to its own address, as a server behind a proxy writes it.
            let own = "http://" + (request.head.authority ?? "127.0.0.1")
            return Response(
                status: .temporaryRedirect,
                headers: [
                    .location: own + "/mcp/next?step=2", .setCookie: "upstream-session=1; Path=/",
                    .cacheControl: "public, max-age=600",
                ])
        case "/mcp/elsewhere":
            let own = "http://" + (request.head.authority ?? "127.0.0.1")
            return Response(status: .found, headers: [.location: own + "/admin"])
        case "/mcp/html":
            return Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8", .setCookie: "tracker=1"],
                body: .init(byteBuffer: ByteBuffer(string: "<script>document.cookie</script>")))
        case "/mcp/refuse":
            return Response(
                status: .unauthorized, headers: [.wwwAuthenticate: #"Basic realm="internal""#, .contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: "{}")))
        case "/mcp/silent": return silent(request)
        case "/mcp/tools": return toolList(stream: false)  // GatewayToolPolicyTests
        case "/mcp/tools-sse": return toolList(stream: true)
        case "/mcp/slow":
            try await Task.sleep(for: .seconds(5))
            return Response(status: .ok)
        default:
            let echo = #"{"jsonrpc":"2.0","id":1,"result":{"bytes":\#(body.utf8.count)}}"#
            // Like a real server, one session per user: `session-42` for the
            // harness's first user, another id for anyone else.
            let user = request.headers[HTTPField.Name("X-Forwarded-User")!] ?? ""
            let session = user.isEmpty || user == "user-1" ? "session-42" : "session-of-" + user
            return Response(
                status: .ok,
                headers: [
                    .contentType: "application/json", HTTPField.Name("Mcp-Session-Id")!: session,
                    .connection: "X-Upstream-Hop", HTTPField.Name("X-Upstream-Hop")!: "1",
                ],
                body: .init(byteBuffer: ByteBuffer(string: echo)))
        }
    }

    /// Two events; the second waits (up to 5 s) until the client has read
    /// the first, which it can only do if the gateway does not buffer.
    func stream() -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/event-stream", HTTPField.Name("X-Accel-Buffering")!: "no"],
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "event: message\ndata: {\"n\":1}\n\n"))
                let deadline = ContinuousClock.now + .seconds(5)
                while !self.seen.withLock({ $0.clientSawFirst }), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
                self.seen.withLock { $0.secondSentAfterClientSawFirst = $0.clientSawFirst }
                try await writer.write(ByteBuffer(string: "event: message\ndata: {\"n\":2}\n\n"))
                try await writer.finish(nil)
            })
    }

    /// One event, then silence for 30 s; notices when its client (the
    /// gateway) closes the connection.
    func silent(_ request: Request) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/event-stream"],
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "data: {\"n\":1}\n\n"))
                do {
                    try await request.body.consumeWithCancellationOnInboundClose { _ in try await Task.sleep(for: .seconds(30)) }
                } catch {
                    self.seen.withLock { $0.silentCancelled = true }
                    throw error
                }
                try await writer.finish(nil)
            })
    }
}
