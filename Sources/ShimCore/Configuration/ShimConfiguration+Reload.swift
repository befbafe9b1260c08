extension ShimConfiguration {
    /// What a reload (SIGHUP) applies: `new`, except the settings only a
    /// restart can change, which keep their running values and are named in
    /// `restartOnly` (the caller logs them). Those are what the process built
    /// once at start: the listening socket, the store, the issuer every
    /// token and URL carries, the keys, the upstream IdP client, the log
    /// format, the token mode, the outbound fetchers and the gateway's
    /// connection pool. Everything else (redirect allowlists and bundles,
    /// consent, resources and their scopes, rate limits and caps, CIMD host
    /// lists, EMA policy and clients, gateway resources and their policies,
    /// introspection clients, token lifetimes, the log level) applies to the
    /// requests that start after the reload.
    public func reloading(_ new: ShimConfiguration) -> (applied: ShimConfiguration, restartOnly: [String]) {
        var applied = new
        var kept: [String] = []
        func keep<Value: Equatable>(_ name: String, _ path: WritableKeyPath<ShimConfiguration, Value>) {
            guard applied[keyPath: path] != self[keyPath: path] else { return }
            applied[keyPath: path] = self[keyPath: path]
            kept.append(name)
        }
        keep("issuer", \.issuer)
        keep("listen.host", \.listenHost)
        keep("listen.port", \.listenPort)
        keep("listen.idle_timeout", \.listenIdleTimeoutSeconds)
        keep("listen.shutdown_grace", \.listenShutdownGraceSeconds)
        keep("data_dir", \.dataDir)
        // Housekeeping sweeps with the values it started with.
        keep("registration.unused_ttl", \.unusedClientTTLSeconds)
        keep("audit.retention", \.auditRetentionSeconds)
        keep("upstream", \.upstream)
        keep("storage.url", \.storageURL)
        applied.storage = storage  // storage.url parsed: kept, and named, with it
        keep("storage.sqlite_synchronous", \.sqliteSynchronous)
        keep("keys.encryption_key", \.encryptionKey)
        keep("keys.cookie_key", \.cookieKey)
        keep("keys.previous_encryption_keys", \.previousEncryptionKeys)
        keep("keys.previous_cookie_keys", \.previousCookieKeys)
        keep("keys.signing_key", \.signingKeys)
        keep("log.format", \.logFormat)
        keep("tokens.access", \.accessTokenMode)
        keep("cimd.enabled", \.cimd.enabled)
        keep("cimd.fetch_timeout", \.cimd.fetchTimeoutSeconds)
        keep("cimd.cache_min", \.cimd.cacheMinSeconds)
        keep("cimd.cache_max", \.cimd.cacheMaxSeconds)
        keep("cimd.insecure_private_hosts", \.cimd.insecurePrivateHosts)
        keep("cimd.insecure_ca", \.cimd.insecureCAPEM)
        keep("cimd.nat64_prefixes", \.cimd.nat64Prefixes)
        keep("ema.trusted_issuers", \.ema.trustedIssuers)
        keep("ema.issuer.enabled", \.ema.issuer.enabled)
        keep("ema.insecure_private_hosts", \.ema.insecurePrivateHosts)
        keep("ema.insecure_ca", \.ema.insecureCA)
        keep("gateway.max_connections", \.gateway.maxConnections)
        keep("gateway.connect_timeout", \.gateway.connectTimeoutSeconds)
        keep("gateway.idle_timeout", \.gateway.idleTimeoutSeconds)
        keep("gateway.pool_idle_timeout", \.gateway.poolIdleTimeoutSeconds)
        // The file watch is started, or not, with the process.
        keep("reload.watch_interval", \.operations.watchIntervalSeconds)
        // The tracer is bootstrapped once per process (swift-distributed-tracing).
        keep("tracing", \.tracing)
        return (applied, kept)
    }
}
