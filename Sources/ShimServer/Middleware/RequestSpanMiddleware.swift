import HTTPTypes
import Hummingbird
import Tracing

/// A server span per request: the first middleware, so every endpoint and
/// every gateway route is inside it; the spans of the IdP calls, the store,
/// metadata-document fetches and the gateway's forwarded call are its
/// children. A `traceparent` from the caller is continued.
///
/// What it records is chosen for an authorization server: the method, the
/// route's pattern (`/token`, the gateway resource's path), the path and the
/// status. Never the query string (`/callback?code=…&state=…`,
/// `/authorize?…`), never a header (Authorization, cookies), never a body.
/// Unlike Hummingbird's TracingMiddleware, which records the query unless
/// each parameter is named for redaction.
///
/// A recorded span ends when the response body has been written, so an
/// SSE stream's span lasts as long as the stream.
struct RequestSpanMiddleware: RouterMiddleware {
    typealias Context = ShimRequestContext

    /// Probes and scrapes (Kubernetes asks every few seconds) are not traced:
    /// they would be most of the traces and tell nothing about a sign-in.
    static let untraced: Set<String> = ["/healthz", "/readyz", "/metrics"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.untraced.contains(request.uri.path) { return try await next(request, context) }
        let tracer = InstrumentationSystem.tracer
        var parent = ServiceContext.current ?? .topLevel
        tracer.extract(request.headers, into: &parent, using: HTTPFieldsExtractor())
        let method = request.method.rawValue
        let span = tracer.startSpan(method, context: parent, ofKind: .server)
        span.updateAttributes { attributes in
            attributes["http.request.method"] = method
            attributes["url.path"] = request.uri.path
        }
        func named(status: Int) {
            // The route's pattern, never the raw path: unmatched paths would make a name per probe.
            if let route = context.endpointPath { span.operationName = "\(method) \(route)" }
            span.updateAttributes { attributes in
                attributes["http.route"] = context.endpointPath
                attributes["http.response.status_code"] = status
            }
            if status >= 500 { span.setStatus(SpanStatus(code: .error)) }
        }
        do {
            var response = try await ServiceContext.$current.withValue(span.context) { try await next(request, context) }
            named(status: response.status.code)
            // Traces off (the no-op tracer) or this trace not sampled: the body is left as it is.
            guard span.isRecording else {
                span.end()
                return response
            }
            let ending = SpanEnding(span)
            let body = response.body
            let spanContext = span.context
            response.body = ResponseBody(contentLength: body.contentLength) { writer in
                defer { ending.end() }
                // What runs while the body is written (a stream's grant rechecks) belongs to this request.
                try await ServiceContext.$current.withValue(spanContext) { try await body.write(writer) }
            }
            return response
        } catch {
            named(status: (error as? any HTTPResponseError)?.status.code ?? 500)
            span.recordError(error)
            span.end()
            throw error
        }
    }
}

/// Ends the span once, after the body is written.
private final class SpanEnding: Sendable {
    let span: any Span
    init(_ span: any Span) { self.span = span }
    func end() { span.end() }
}

/// W3C trace context read from request headers.
struct HTTPFieldsExtractor: Extractor {
    func extract(key: String, from fields: HTTPFields) -> String? {
        HTTPField.Name(key).flatMap { fields[$0] }
    }
}
