import Hummingbird
import NIOCore

extension Gateway {
    /// The client's request body, as the MCP server will receive it.
    enum RequestBodyRead: Sendable {
        /// The request has none (no Content-Length above 0, not chunked).
        case none
        case body(ByteBuffer)
        /// Over `gateway.max_request_bytes`, declared or counted.
        case tooLarge
        /// The client stopped before the end it declared, or sent a broken body.
        case incomplete
    }

    /// Reads the client's whole request body in the handler's own task, up
    /// to `limit` bytes, before the MCP server is called.
    ///
    /// Why whole, and here: a request body is a view of its connection's
    /// inbound stream. Handed to the HTTP client as a stream, it is read by an
    /// upload task that outlives the exchange when the MCP server answers
    /// before reading it (a refusal, a fast path, a caching stand-in); that
    /// task then reads the stream at the same time as the server reading the
    /// connection's next request, and the stream's state machine traps: any
    /// signed-in user could stop the process. Read here, nothing that outlives
    /// the request touches its body. An MCP message is one JSON-RPC document
    /// that a server cannot act on before its end anyway, and a policy that
    /// looks into it needs it whole; the cost is at most `limit` bytes held
    /// per request in flight. What is left unread (past the limit, or after a
    /// refused Content-Length) the HTTP server discards before it reads the
    /// connection's next request. The body is collected into the request
    /// (`collectBody`), which keeps the connection's own stream beside it:
    /// watching that stream for the client's close during an SSE answer
    /// needs it.
    static func readBody(_ request: inout Request, limit: Int) async -> RequestBodyRead {
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        let chunked = request.headers[values: .transferEncoding].contains { $0.lowercased().contains("chunked") }
        if let declared, declared > limit { return .tooLarge }
        guard (declared ?? 0) > 0 || chunked else { return .none }
        do {
            let buffer = try await request.collectBody(upTo: limit)
            if let declared, buffer.readableBytes != declared { return .incomplete }
            return .body(buffer)
        } catch is NIOTooManyBytesError {
            return .tooLarge
        } catch {
            return .incomplete
        }
    }
}
