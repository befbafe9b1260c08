import ShimCore
import Testing

/// `tracing.*`: off unless an OTLP endpoint is given; the endpoint's form;
/// the OpenTelemetry environment values the exporter would stop the
/// process on, refused with a sentence instead.
@Suite("Configuration: tracing")
struct TracingConfigurationTests {
    static func load(_ tracing: [String: ConfigValue]) -> Result<ShimConfiguration, ConfigurationProblems> {
        OperationsConfigurationTests.load(tracing.isEmpty ? [:] : ["tracing": .map(tracing)])
    }

    @Test("off by default")
    func offByDefault() throws {
        let config = try Self.load([:]).get()
        #expect(!config.tracing.enabled && config.tracing.tracesURL == nil)
        #expect(config.tracing.serviceName == "dcr-shim" && config.tracing.sampleRatio == 1)
    }

    @Test(
        "a collector's base address gets /v1/traces; an address with a path is used as it is",
        arguments: [
            ("http://otel-collector:4318", "http://otel-collector:4318/v1/traces"),
            ("http://otel-collector:4318/", "http://otel-collector:4318/v1/traces"),
            ("https://otlp.example.com/v1/traces", "https://otlp.example.com/v1/traces"),
            ("https://otlp.example.com/otlp/v1/traces", "https://otlp.example.com/otlp/v1/traces"),
        ])
    func endpoint(_ given: String, _ posted: String) throws {
        let config = try Self.load(["otlp_endpoint": .string(given), "service_name": .string("shim-eu"), "sample_ratio": .string("0.25")]).get()
        #expect(config.tracing.enabled && config.tracing.tracesURL == posted)
        #expect(config.tracing.serviceName == "shim-eu" && config.tracing.sampleRatio == 0.25)
    }

    @Test(
        "an endpoint that is not a plain http(s) URL, or a ratio outside 0...1, is a problem",
        arguments: [
            (["otlp_endpoint": ConfigValue.string("otel-collector:4318")], "http or https URL"),
            (["otlp_endpoint": .string("grpc://otel-collector:4317")], "http or https URL"),
            (["otlp_endpoint": .string("https://user:key@otlp.example.com")], "OTEL_EXPORTER_OTLP_HEADERS"),
            (["otlp_endpoint": .string("https://otlp.example.com/v1/traces?api_key=x")], "OTEL_EXPORTER_OTLP_HEADERS"),
            (["otlp_endpoint": .string("http://c:4318"), "sample_ratio": .string("1.5")], "tracing.sample_ratio"),
            (["otlp_endpoint": .string("http://c:4318"), "sample_ratio": .string("half")], "tracing.sample_ratio"),
        ])
    func refused(_ tracing: [String: ConfigValue], _ fragment: String) {
        guard case .failure(let problems) = Self.load(tracing) else {
            Issue.record("\(tracing) accepted")
            return
        }
        #expect(problems.problems.contains { $0.contains(fragment) }, "\(problems.problems)")
    }

    @Test("environment values the exporter cannot honour are named; supported ones and unset ones pass")
    func environment() {
        #expect(TracingConfiguration.environmentProblems([:]).isEmpty)
        #expect(
            TracingConfiguration.environmentProblems([
                "OTEL_PROPAGATORS": "tracecontext", "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_TRACES_EXPORTER": "otlp",
            ]).isEmpty)
        // The usual default elsewhere (tracecontext,baggage) stops swift-otel at start.
        let problems = TracingConfiguration.environmentProblems([
            "OTEL_PROPAGATORS": "tracecontext,baggage", "OTEL_TRACES_SAMPLER": "xray", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc",
            "OTEL_TRACES_EXPORTER": "zipkin",
        ])
        #expect(problems.count == 4, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("OTEL_PROPAGATORS: \"baggage\"") })
        #expect(problems.contains { $0.hasPrefix("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: \"grpc\"") })
    }

    @Test("a reload keeps the running tracing settings and names them")
    func restartOnly() throws {
        let running = try Self.load(["otlp_endpoint": .string("http://a:4318")]).get()
        let new = try Self.load(["otlp_endpoint": .string("http://b:4318")]).get()
        let (applied, kept) = running.reloading(new)
        #expect(applied.tracing == running.tracing && kept.contains("tracing"))
    }
}
