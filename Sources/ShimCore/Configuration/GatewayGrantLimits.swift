/// `gateway.*` bounds on what one grant holds through the gateway: how long
/// its MCP sessions stay bound to it unused, how long and how many streams
/// it keeps open, how often a stream re-checks it, how many requests a
/// minute it sends (docs/tokens-and-gateway.md, "Sessions, streams and
/// limits"; docs/security-rules.md, rules 15 and 16).
public struct GatewayGrantLimits: Sendable, Equatable {
    /// `gateway.session_idle_timeout` (default 1h): an MCP session no request
    /// used for this long is forgotten by the gateway; a request naming it
    /// then gets 404 and the client starts a new session. Keep it at least
    /// as long as the MCP server keeps an idle session.
    public var sessionIdleTimeoutSeconds = 3600
    /// `gateway.max_stream_lifetime` (default 1h): a streamed answer (SSE)
    /// ends at this age, or at its token's `exp` if sooner; the client
    /// resumes with `Last-Event-ID` and a fresh token.
    public var maxStreamLifetimeSeconds = 3600
    /// `gateway.stream_recheck_interval` (default 5s): an open stream checks
    /// that its grant is still live this often; a revoked grant's streams
    /// end within it.
    public var streamRecheckIntervalSeconds = 5
    /// `gateway.max_streams_per_grant` (default 16, 0 = no cap): streams one
    /// grant holds open at once in this process (an MCP client holds its GET
    /// stream and one per call in flight answered as SSE); one more gets 429.
    public var maxStreamsPerGrant = 16
    /// `gateway.requests_per_minute` (default 600, 0 = no limit): requests
    /// one grant sends per minute; more get 429 with `Retry-After`. Counted
    /// in the store when replicas share it (PostgreSQL), else in-process.
    public var requestsPerMinute = 600

    public init() {}

    static func read(_ r: inout ConfigReader) -> GatewayGrantLimits {
        var limits = GatewayGrantLimits()
        limits.sessionIdleTimeoutSeconds = r.duration("gateway.session_idle_timeout", default: 3600, range: 60...(30 * 86400))
        limits.maxStreamLifetimeSeconds = r.duration("gateway.max_stream_lifetime", default: 3600, range: 1...86400)
        limits.streamRecheckIntervalSeconds = r.duration("gateway.stream_recheck_interval", default: 5, range: 1...300)
        limits.maxStreamsPerGrant = r.int("gateway.max_streams_per_grant", default: 16, range: 0...10_000)
        limits.requestsPerMinute = r.int("gateway.requests_per_minute", default: 600, range: 0...1_000_000)
        return limits
    }

    /// What the ranges above cannot say alone.
    func validate() -> [String] {
        guard streamRecheckIntervalSeconds > maxStreamLifetimeSeconds else { return [] }
        return [
            "gateway.stream_recheck_interval: \(streamRecheckIntervalSeconds)s is longer than gateway.max_stream_lifetime "
                + "(\(maxStreamLifetimeSeconds)s); a revoked grant's stream would outlive the lifetime bound"
        ]
    }
}
