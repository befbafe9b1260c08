/// `tracing.*`: OpenTelemetry traces, exported over OTLP/HTTP. Off unless
/// `tracing.otlp_endpoint` is given.
///
/// What a trace holds, and what it never holds, is in docs/operations.md
/// ("Traces"): a span per request named by its route (never its query:
/// queries carry authorization codes and `state`), and spans for the calls
/// to the IdP, the store, metadata-document fetches and the gateway's
/// forwarded call. Trace context (`traceparent`) is sent on to the IdP and
/// to the MCP server, the operator's own parties; never to the hosts a
/// client names (metadata documents).
public struct TracingConfiguration: Sendable, Equatable {
    /// `tracing.otlp_endpoint`: the collector's OTLP/HTTP address. A URL
    /// with no path (`http://collector:4318`) gets the traces path
    /// `/v1/traces`, as OTEL_EXPORTER_OTLP_ENDPOINT does; a URL with a path
    /// is used as it is. nil: no traces.
    public var otlpEndpoint: String?
    /// `tracing.service_name` (default `dcr-shim`): the `service.name` of
    /// every span.
    public var serviceName = "dcr-shim"
    /// `tracing.sample_ratio` (default 1): the share of new traces
    /// recorded; a request that arrives with a sampled `traceparent`
    /// follows its caller's decision (parent-based sampling).
    public var sampleRatio = 1.0

    public init() {}

    public var enabled: Bool { otlpEndpoint != nil }

    /// Where spans are posted.
    public var tracesURL: String? {
        guard let otlpEndpoint, let url = RedirectURI(otlpEndpoint) else { return otlpEndpoint }
        guard url.path.isEmpty || url.path == "/" else { return otlpEndpoint }
        return String(otlpEndpoint.reversed().drop { $0 == "/" }.reversed()) + "/v1/traces"
    }

    static func read(_ r: inout ConfigReader) -> TracingConfiguration {
        var read = TracingConfiguration()
        read.otlpEndpoint = r.string("tracing.otlp_endpoint")
        read.serviceName = r.string("tracing.service_name", default: read.serviceName) ?? read.serviceName
        if let raw = r.string("tracing.sample_ratio") {
            if let ratio = Double(raw), (0...1).contains(ratio) {
                read.sampleRatio = ratio
            } else {
                r.problem("tracing.sample_ratio: \(raw.quotedForProblem) is not a number from 0 to 1")
            }
        }
        return read
    }

    /// The endpoint must be an http(s) URL with a host, without credentials,
    /// query or fragment (collector credentials go in
    /// OTEL_EXPORTER_OTLP_HEADERS, never in a URL that is logged).
    func problems() -> [String] {
        guard let otlpEndpoint else { return [] }
        let key = "tracing.otlp_endpoint"
        guard let url = RedirectURI(otlpEndpoint), url.scheme == "http" || url.scheme == "https", !url.host.isEmpty else {
            return ["\(key): \(otlpEndpoint.quotedForProblem) must be an http or https URL with a host (e.g. http://otel-collector:4318)"]
        }
        if url.hasUserinfo || url.query != nil || url.hasFragment {
            return ["\(key): no user, password, query or fragment in the URL (collector credentials go in OTEL_EXPORTER_OTLP_HEADERS)"]
        }
        return serviceName.isEmpty ? ["tracing.service_name: must not be empty"] : []
    }

    /// The OpenTelemetry environment variables the exporter also reads, and
    /// which of their values it cannot honour: the library stops the process
    /// on them (an unimplemented propagator or sampler, the gRPC protocol,
    /// which this build leaves out), so they are refused here with a sentence
    /// instead, before anything starts.
    public static func environmentProblems(_ environment: [String: String]) -> [String] {
        let supported: [(name: String, values: Set<String>)] = [
            ("OTEL_PROPAGATORS", ["tracecontext", "none"]),
            (
                "OTEL_TRACES_SAMPLER",
                [
                    "always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off",
                    "parentbased_traceidratio",
                ]
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", ["http/protobuf", "http/json"]),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", ["http/protobuf", "http/json"]),
            ("OTEL_TRACES_EXPORTER", ["otlp", "none"]),
        ]
        var problems: [String] = []
        for (name, values) in supported {
            guard let raw = environment[name], !raw.isEmpty else { continue }
            let unsupported = raw.split(separator: ",").map { $0.trimmingWhitespace().lowercased() }.filter { !values.contains($0) }
            if !unsupported.isEmpty {
                problems.append(
                    "\(name): \(unsupported.joined(separator: ", ").quotedForProblem) is not supported by this build's exporter "
                        + "(supported: \(values.sorted().joined(separator: ", ")))")
            }
        }
        return problems
    }
}
