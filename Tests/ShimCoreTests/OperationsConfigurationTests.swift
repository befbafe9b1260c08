import ShimCore
import Testing

/// `api_description.path` (off by default; a path of its own on the shim's
/// host) and `reload.watch_interval` (off by default; restart-only).
@Suite("Configuration: api_description and reload")
struct OperationsConfigurationTests {
    static func load(_ overrides: [String: ConfigValue]) -> Result<ShimConfiguration, ConfigurationProblems> {
        ConfigurationTests.load(ConfigurationReloadTests.tree(overrides))
    }

    @Test("both are off unless configured")
    func offByDefault() throws {
        let config = try Self.load([:]).get()
        #expect(config.operations == OperationsConfiguration())
        #expect(config.operations.apiDescriptionPath == nil && config.operations.watchIntervalSeconds == nil)
    }

    @Test("a path of its own is accepted; a watch interval is read as a duration")
    func accepted() throws {
        let config = try Self.load([
            "api_description": .map(["path": .string("/openapi.yaml")]), "reload": .map(["watch_interval": .string("5s")]),
        ]).get()
        #expect(config.operations.apiDescriptionPath == "/openapi.yaml")
        #expect(config.operations.watchIntervalSeconds == 5)
    }

    /// (path, a fragment of the problem); the running configuration has a
    /// gateway resource at /mcp and the issuer at the host's root.
    static let refusedPaths: [(String, String)] = [
        ("openapi.yaml", "absolute path"),
        ("/", "absolute path"),
        ("/api/../openapi.yaml", "plain path"),
        ("/api//openapi.yaml", "plain path"),
        ("/openapi.yaml?x=1", "plain path"),
        ("/docs/{name}", "plain path"),
        ("/docs/*", "plain path"),
        ("/open api.yaml", "plain path"),
        ("/token", "own endpoints"),
        ("/register/openapi.yaml", "own endpoints"),
        ("/metrics", "own endpoints"),
        ("/.well-known/openapi.yaml", "own endpoints"),
        ("/mcp", "gateway resource"),
        ("/mcp/openapi.yaml", "gateway resource"),
    ]

    @Test("a path that is not plain, or that the shim or a gateway resource serves, is a problem check-config reports", arguments: refusedPaths)
    func refused(_ path: String, _ fragment: String) {
        guard case .failure(let problems) = Self.load(["api_description": .map(["path": .string(path)])]) else {
            Issue.record("\(path) accepted")
            return
        }
        #expect(problems.problems.count == 1, "\(problems.problems)")
        #expect(problems.problems.allSatisfy { $0.hasPrefix("api_description.path: ") && $0.contains(fragment) }, "\(problems.problems)")
    }

    @Test("an issuer with a path: its endpoints below it are reserved, /healthz stays reserved at the root")
    func issuerWithPath() {
        let reserved = ["/auth/token", "/auth/register", "/healthz", "/readyz", "/metrics"]
        #expect(!OperationsConfiguration.apiDescriptionPathProblems("/auth/token", reserved: reserved, gatewayPaths: []).isEmpty)
        #expect(!OperationsConfiguration.apiDescriptionPathProblems("/healthz", reserved: reserved, gatewayPaths: []).isEmpty)
        #expect(OperationsConfiguration.apiDescriptionPathProblems("/token", reserved: reserved, gatewayPaths: []).isEmpty)
        #expect(OperationsConfiguration.apiDescriptionPathProblems("/auth/openapi.yaml", reserved: reserved, gatewayPaths: []).isEmpty)
    }

    @Test("reload.watch_interval out of range, and unknown keys under either, are problems")
    func badValues() {
        let cases: [([String: ConfigValue], String)] = [
            (["reload": .map(["watch_interval": .string("0s")])], "reload.watch_interval: "),
            (["reload": .map(["watch_interval": .string("soon")])], "reload.watch_interval: "),
            (["reload": .map(["interval": .string("5s")])], "reload.interval: unknown key"),
            (["api_description": .map(["url": .string("/openapi.yaml")])], "api_description.url: unknown key"),
        ]
        for (overrides, expected) in cases {
            guard case .failure(let problems) = Self.load(overrides) else {
                Issue.record("\(overrides) accepted")
                continue
            }
            #expect(problems.problems.contains { $0.hasPrefix(expected) }, "\(problems.problems)")
        }
    }

    @Test("the file watch changes only at a restart; the API description's path at a reload")
    func reloading() throws {
        let running = try Self.load([:]).get()
        let new = try Self.load([
            "api_description": .map(["path": .string("/openapi.yaml")]), "reload": .map(["watch_interval": .string("5s")]),
        ]).get()
        let (applied, restartOnly) = running.reloading(new)
        #expect(restartOnly == ["reload.watch_interval"])
        #expect(applied.operations.watchIntervalSeconds == nil)
        #expect(applied.operations.apiDescriptionPath == "/openapi.yaml")
    }
}
