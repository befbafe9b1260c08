extension ShimConfiguration {
    /// Reads and validates a configuration. Returns the configuration when
    /// there is no problem, and every problem found otherwise.
    /// - Parameter defaultDataDir: `data_dir` when nothing sets it: the
    ///   process's state directory (`DataDirectory.standard`), never the
    ///   working directory.
    public static func load(
        file: ConfigValue, environment: [String: String] = [:], flags: [String: String] = [:],
        defaultDataDir: String = DataDirectory.forThisProcess(),
        readFile: @escaping (String) throws -> String
    ) -> Result<ShimConfiguration, ConfigurationProblems> {
        var r = ConfigReader(root: file, environment: environment, flags: flags, readFile: readFile)
        let presetName = r.string("upstream.preset", default: "oidc")!
        let preset = UpstreamPreset(rawValue: presetName)
        if preset == nil {
            r.problem(
                "upstream.preset: \(presetName.quotedForProblem) is not one of \(UpstreamPreset.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let wireMethod = r.string("upstream.token_endpoint_auth_method")
        var upstream = UpstreamConfiguration(
            preset: preset ?? .oidc,
            tenant: r.string("upstream.tenant"),
            issuer: r.string("upstream.issuer"),
            authorizationEndpoint: r.string("upstream.authorization_endpoint"),
            tokenEndpoint: r.string("upstream.token_endpoint"),
            revocationEndpoint: r.string("upstream.revocation_endpoint"),
            clientID: r.string("upstream.client_id") ?? "",
            clientSecret: r.secret("upstream.client_secret"),
            tokenEndpointAuthMethod: wireMethod ?? (preset ?? .oidc).defaultTokenEndpointAuthMethod,
            scopes: r.stringList("upstream.scopes", default: (preset ?? .oidc).defaultScopes),
            extraAuthorizeParams: r.stringMap("upstream.extra_authorize_params"),
            extraTokenParams: r.stringMap("upstream.extra_token_params"),
            timeoutSeconds: r.duration("upstream.timeout", default: 10, range: 1...120)
        )
        upstream.audience = r.string("upstream.audience")
        upstream.userinfoEndpoint = r.string("upstream.userinfo_endpoint")
        upstream.jwksURI = r.string("upstream.jwks_uri")
        upstream.idTokenAlgorithms = r.stringList("upstream.id_token_algorithms", default: [])
        upstream.clientAuth = UpstreamClientAuthentication.read(
            &r, wireMethod: wireMethod, azureTokenFile: environment["AZURE_FEDERATED_TOKEN_FILE"])
        // An assertion (certificate or federated token) is `private_key_jwt` on the wire.
        if upstream.clientAuth.method != .clientSecret { upstream.tokenEndpointAuthMethod = "private_key_jwt" }
        var resources: [ResourcePolicy.Resource] = []
        for i in 0..<r.count("resources") {
            resources.append(
                .init(
                    resource: r.string("resources[\(i)].resource") ?? "",
                    scopes: r.stringList("resources[\(i)].scopes", default: []),
                    isDefault: r.bool("resources[\(i)].default", default: false)
                ))
        }
        let consentName = r.string("consent.mode", default: "always")!
        let consent = ConsentMode(rawValue: consentName)
        if consent == nil { r.problem("consent.mode: \(consentName.quotedForProblem) is not always or remember") }

        // A secret (it may hold a password): `storage.url_file` works too.
        let storageURL = r.secret("storage.url") ?? "sqlite://./dcr-shim.db"
        var config = ShimConfiguration(
            issuer: r.string("issuer") ?? "",
            listenHost: r.string("listen.host", default: "0.0.0.0")!,
            listenPort: r.int("listen.port", default: 8080, range: 0...65535),
            listenIdleTimeoutSeconds: r.duration("listen.idle_timeout", default: 60, range: 1...3600),
            trustedProxies: r.stringList("listen.trusted_proxies", default: []),
            clientAddressHeader: r.choice("listen.client_address_header", default: .xForwardedFor),
            dataDir: r.string("data_dir", default: defaultDataDir)!,
            upstream: upstream,
            resources: resources,
            redirectClients: r.stringList("redirects.clients", default: []),
            redirectAllow: r.stringList("redirects.allow", default: []),
            consentMode: consent ?? .always,
            consentRememberSeconds: r.duration("consent.remember_for", default: 30 * 86400, range: 60...(400 * 86400)),
            accessTokenMode: r.choice("tokens.access", default: .upstream),
            refreshTTLSeconds: r.duration("tokens.refresh_ttl", default: 30 * 86400, range: 60...(365 * 86400)),
            refreshGraceSeconds: r.duration("tokens.refresh_grace", default: 45, range: 0...300),
            storageURL: storageURL,
            storage: StorageLocation(storageURL) ?? .memory,
            sqliteSynchronous: r.choice("storage.sqlite_synchronous", default: .full),
            encryptionKey: r.secret("keys.encryption_key"),
            cookieKey: r.secret("keys.cookie_key"),
            previousEncryptionKeys: r.stringList("keys.previous_encryption_keys", default: []),
            previousCookieKeys: r.stringList("keys.previous_cookie_keys", default: []),
            logFormat: r.choice("log.format", default: .text),
            maxBodyBytes: r.int("limits.max_body_bytes", default: 64 * 1024, range: 1024...(4 * 1024 * 1024)),
            logLevel: r.choice("log.level", default: .info),
            registrationRateLimit: r.int("registration.rate_limit", default: 20, range: 0...100_000),
            maxClients: r.int("registration.max_clients", default: 100_000, range: 1...100_000_000),
            unusedClientTTLSeconds: r.duration("registration.unused_ttl", default: 86400, range: 60...(365 * 86400)),
            authorizationRateLimit: r.int("authorization.rate_limit", default: 60, range: 0...100_000),
            maxPendingAuthorizations: r.int("authorization.max_pending", default: 100_000, range: 1...100_000_000),
            auditRetentionSeconds: r.duration("audit.retention", default: 90 * 86400, range: 86400...(3650 * 86400))
        )
        config.listenShutdownGraceSeconds = r.duration("listen.shutdown_grace", default: 20, range: 0...3600)
        config.readTokenSettings(&r)
        config.readToolPolicies(&r)
        config.cimd = CIMDConfiguration.read(&r)
        config.operations = OperationsConfiguration.read(&r)
        config.tracing = TracingConfiguration.read(&r)
        config.upstream.displayName = r.string("upstream.display_name")
        r.reportUnknownKeys()
        if config.upstream.preset == .entra, !config.upstream.scopes.contains("offline_access") {
            // Entra issues a refresh token only with offline_access; without one
            // the shim could not refresh behind the client.
            config.upstream.scopes.append("offline_access")
        }
        let problems = r.problems + config.validate()
        return problems.isEmpty ? .success(config) : .failure(ConfigurationProblems(problems: problems))
    }
}

/// Every problem `check-config` prints, one per line.
public struct ConfigurationProblems: Error, Sendable, Equatable, CustomStringConvertible {
    public var problems: [String]
    public init(problems: [String]) { self.problems = problems }
    public var description: String { problems.joined(separator: "\n") }
}
