/// `api_description.*` and `reload.*`: what an operator may switch on
/// around the running server. Both are off by default.
public struct OperationsConfiguration: Sendable, Equatable {
    /// `api_description.path`: where the server answers with its OpenAPI
    /// description (docs/openapi.yaml, embedded in the binary); nil: not
    /// served (404).
    public var apiDescriptionPath: String?
    /// `reload.watch_interval`: seconds between checks of the configuration
    /// file (modification time, size, content hash); a change reloads as
    /// SIGHUP does. nil: no watch (reload on SIGHUP only).
    public var watchIntervalSeconds: Int?

    public init(apiDescriptionPath: String? = nil, watchIntervalSeconds: Int? = nil) {
        self.apiDescriptionPath = apiDescriptionPath
        self.watchIntervalSeconds = watchIntervalSeconds
    }

    static func read(_ r: inout ConfigReader) -> OperationsConfiguration {
        var read = OperationsConfiguration()
        read.apiDescriptionPath = r.string("api_description.path")
        if r.string("reload.watch_interval") != nil {
            // `0` or `off` would be the default written out: give no key instead.
            read.watchIntervalSeconds = r.duration("reload.watch_interval", default: 5, range: 1...3600)
        }
        return read
    }

    /// Where the API description may be served: a path of its own on the
    /// shim's host, absolute, a plain literal (no query, fragment, dot
    /// segment or router pattern), not `/`, not below `/.well-known/`, and
    /// not one of the shim's own endpoints or a gateway resource's path or
    /// what lies below it (either would shadow the other).
    /// - Parameters: `reserved`: the shim's own paths as served (with the
    ///   issuer's path where they are mounted under it); `gatewayPaths`: the
    ///   paths of the gateway resources.
    public static func apiDescriptionPathProblems(_ path: String, reserved: [String], gatewayPaths: [String]) -> [String] {
        let key = "api_description.path"
        guard path.hasPrefix("/"), path.count > 1 else {
            return ["\(key): \(path.quotedForProblem) must be an absolute path other than / (e.g. /openapi.yaml)"]
        }
        let segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        let plain = path.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && !"?#*{}:%\\\"".unicodeScalars.contains($0) }
        guard plain, !segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            return [
                "\(key): \(path.quotedForProblem) must be a plain path: printable ASCII, no empty, . or .. segment, "
                    + "no ? # * { } : % \\ or quote"
            ]
        }
        func within(_ base: String) -> Bool { path == base || path.hasPrefix(base + "/") || base.hasPrefix(path + "/") }
        if path.hasPrefix("/.well-known/") || path == "/.well-known" || reserved.contains(where: within) {
            return ["\(key): \(path.quotedForProblem) is one of the shim's own endpoints"]
        }
        if let resource = gatewayPaths.first(where: within) {
            return ["\(key): \(path.quotedForProblem) is served by the gateway resource with the path \(resource.quotedForProblem)"]
        }
        return []
    }
}

extension ShimConfiguration {
    /// Checks of `api_description.*` (`reload.*` is checked as it is read).
    func validateOperations() -> [String] {
        guard let path = operations.apiDescriptionPath else { return [] }
        let prefix = RedirectURI(issuer).map { $0.path == "/" ? "" : $0.path } ?? ""
        // /healthz, /readyz and /metrics are served at the host's root whatever the issuer's path.
        let reserved = Self.reservedPaths.map { prefix + $0 } + ["/healthz", "/readyz", "/metrics"]
        let gatewayPaths = gatewayResources.compactMap { RedirectURI($0.resource)?.path }.filter { !$0.isEmpty && $0 != "/" }
        return OperationsConfiguration.apiDescriptionPathProblems(path, reserved: reserved, gatewayPaths: gatewayPaths)
    }
}
