import Foundation
import Logging
import OTel
import ServiceLifecycle
import ShimCore
import Tracing

/// `tracing.*`: the process's tracer, swift-otel's OTLP/HTTP exporter behind
/// swift-distributed-tracing's API (which the endpoints, the gateway, the
/// IdP client, the stores and AsyncHTTPClient call). Without
/// `tracing.otlp_endpoint` nothing is bootstrapped and every span is the
/// no-op tracer's.
enum TracingBootstrap {
    /// Bootstraps the tracer when traces are configured, before any HTTP
    /// client is made (AsyncHTTPClient takes the tracer when a client is
    /// created). Returns the exporter's service: it runs in the service
    /// group, after the server in shutdown order, so spans queued when
    /// SIGTERM arrives are still sent.
    static func start(_ config: TracingConfiguration, logger: Logger) throws -> (any Service)? {
        guard config.enabled, let url = config.tracesURL else { return nil }
        if ProcessInfo.processInfo.environment["OTEL_SDK_DISABLED"]?.lowercased() == "true" {
            logger.notice("traces off: OTEL_SDK_DISABLED is true", metadata: ["endpoint": "\(url)"])
            return nil
        }
        var otel = OTel.Configuration.default
        otel.serviceName = config.serviceName
        otel.diagnosticLogger = .custom(logger)
        otel.diagnosticLogLevel = .warning
        otel.propagators = [.traceContext]
        otel.metrics.enabled = false
        otel.logs.enabled = false
        otel.traces.enabled = true
        otel.traces.exporter = .otlp
        otel.traces.otlpExporter.endpoint = url
        otel.traces.otlpExporter.protocol = .httpProtobuf
        if config.sampleRatio < 1,
            let sampler = OTel.Configuration.TracesConfiguration.SamplerConfiguration.parentBasedTraceIDRatio(ratio: config.sampleRatio)
        {
            otel.traces.sampler = sampler
        } else {
            otel.traces.sampler = .parentBasedAlwaysOn
        }
        let (tracer, service) = try OTel.makeTracingBackend(configuration: otel)
        InstrumentationSystem.bootstrap(tracer)
        logger.info(
            "traces exported over OTLP/HTTP",
            metadata: ["endpoint": "\(url)", "service_name": "\(config.serviceName)", "sample_ratio": "\(config.sampleRatio)"])
        return service
    }
}
