import ShimCore
import Testing

/// `gateway.session_idle_timeout`, `max_stream_lifetime`,
/// `stream_recheck_interval`, `max_streams_per_grant`, `requests_per_minute`
/// (docs/configuration.md).
@Suite("Configuration: gateway sessions, streams and per-grant limits")
struct GatewayGrantLimitsConfigurationTests {
    @Test("defaults: 1h idle sessions, 1h streams re-checked every 5s, 16 streams and 600 requests a minute per grant")
    func defaults() throws {
        let limits = try ConfigurationTests.load(TokenConfigurationTests.tree()).get().gateway.limits
        #expect(limits == GatewayGrantLimits())
        #expect(limits.sessionIdleTimeoutSeconds == 3600 && limits.maxStreamLifetimeSeconds == 3600 && limits.streamRecheckIntervalSeconds == 5)
        #expect(limits.maxStreamsPerGrant == 16 && limits.requestsPerMinute == 600)
    }

    @Test("every key read, from the file and the environment")
    func everyKey() throws {
        let tree = TokenConfigurationTests.tree([
            "gateway": .map([
                "session_idle_timeout": .string("2h"), "max_stream_lifetime": .string("10m"), "stream_recheck_interval": .string("2s"),
                "max_streams_per_grant": .string("3"),
            ])
        ])
        let config = try ConfigurationTests.load(tree, env: ["DCR_SHIM_GATEWAY_REQUESTS_PER_MINUTE": "0"]).get()
        #expect(config.gateway.limits.sessionIdleTimeoutSeconds == 7200 && config.gateway.limits.maxStreamLifetimeSeconds == 600)
        #expect(config.gateway.limits.streamRecheckIntervalSeconds == 2 && config.gateway.limits.maxStreamsPerGrant == 3)
        #expect(config.gateway.limits.requestsPerMinute == 0)
    }

    @Test(
        "refused, naming the key",
        arguments: [
            (["session_idle_timeout": ConfigValue.string("10s")], "gateway.session_idle_timeout:"),
            (["max_stream_lifetime": .string("0")], "gateway.max_stream_lifetime:"),
            (["max_stream_lifetime": .string("2d")], "gateway.max_stream_lifetime:"),
            (["stream_recheck_interval": .string("0s")], "gateway.stream_recheck_interval:"),
            (["stream_recheck_interval": .string("10m")], "gateway.stream_recheck_interval:"),
            (["max_stream_lifetime": .string("30s"), "stream_recheck_interval": .string("1m")], "gateway.stream_recheck_interval:"),
            (["max_streams_per_grant": .string("-1")], "gateway.max_streams_per_grant:"),
            (["requests_per_minute": .string("many")], "gateway.requests_per_minute:"),
            (["max_sessions": .string("3")], "gateway.max_sessions"),
        ])
    func refused(_ gateway: [String: ConfigValue], _ key: String) {
        let problems = ConfigurationTests.problems(TokenConfigurationTests.tree(["gateway": .map(gateway)]))
        #expect(problems.contains { $0.hasPrefix(key) }, "\(problems)")
    }
}
