import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ShimStorage
import ShimUpstream

/// `/metrics`: Prometheus text format (HTTP requests per route and status,
/// audit events by kind, upstream calls by outcome and their latency).
/// `/healthz`: the process serves. `/readyz`: the store answers and the
/// IdP's endpoints are known.
struct HealthEndpoint: Sendable {
    let store: any StoreHealth
    let upstream: any UpstreamIdP
    /// nil: `/metrics` answers 404.
    let metricsRegistry: PrometheusCollectorRegistry?

    func metrics() -> Response {
        guard let metricsRegistry else { return Response(status: .notFound) }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: ByteBuffer(bytes: metricsRegistry.emitToBuffer())))
    }

    func live() -> Response {
        JSONResponse.make(["status": "ok"])
    }

    func ready(context: ShimRequestContext) async -> Response {
        var problems: [String] = []
        do { try await store.ping() } catch {
            context.logger.warning("readyz: store", metadata: ["error": "\(error)"])
            problems.append("store")
        }
        if await !upstream.isReady() { problems.append("upstream") }
        if problems.isEmpty { return JSONResponse.make(["status": "ready"]) }
        return JSONResponse.make(NotReady(failing: problems), status: .serviceUnavailable)
    }

    /// `/readyz` when something it needs does not answer.
    struct NotReady: Encodable {
        var status = "not ready"
        var failing: [String]
    }
}
