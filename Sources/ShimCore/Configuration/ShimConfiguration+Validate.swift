import Foundation

extension ShimConfiguration {
    /// Pure checks across keys; each returns a problem naming the key.
    public func validate() -> [String] {
        var problems: [String] = []
        problems += Self.checkIssuer(issuer)
        problems += upstream.validate()
        if resources.isEmpty { problems.append("resources: at least one resource is required") }
        for (i, resource) in resources.enumerated() {
            if let problem = Self.checkResource(resource.resource, key: "resources[\(i)].resource") { problems.append(problem) }
            if upstream.preset == .entra {
                problems += Self.checkEntraScopes(resource.scopes, key: "resources[\(i)].scopes")
            }
        }
        if Set(resources.map(\.resource)).count != resources.count { problems.append("resources: a resource is listed twice") }
        let defaults = resources.indices.filter { resources[$0].isDefault }.map { "resources[\($0)].default" }
        if defaults.count > 1 {
            problems.append("\(defaults.joined(separator: ", ")): at most one resource is the default for requests that name none")
        }
        for name in redirectClients where RedirectAllowlist.bundles[name] == nil {
            problems.append(
                "redirects.clients: \(name.quotedForProblem) is not one of \(RedirectAllowlist.bundles.keys.sorted().joined(separator: ", "))")
        }
        for (i, uri) in redirectAllow.enumerated() {
            do { try RedirectPolicy.checkShape(uri, operatorListed: true) } catch { problems.append("redirects.allow[\(i)]: \(error.description)") }
        }
        if redirectClients.isEmpty, redirectAllow.isEmpty {
            problems.append("redirects: no client could register; name redirects.clients bundles or redirects.allow URIs")
        }
        problems += validateTokenSettings()
        problems += gateway.limits.validate()
        problems += validateToolPolicies()
        problems += validateDownstream()
        if StorageLocation(storageURL) == nil {
            problems.append("storage.url: must be memory:, sqlite://PATH or postgres://user:password@host:port/database")
        }
        for (i, cidr) in trustedProxies.enumerated() where IPNetwork(cidr) == nil {
            problems.append("listen.trusted_proxies[\(i)]: \(cidr.quotedForProblem) is not an IPv4 or IPv6 address or CIDR block")
        }
        if case .postgres(let url) = storage, StorageURL.sslMode(url) == nil {
            problems.append("storage.url: sslmode must be disable, prefer or require (default require; prefer on a loopback host)")
        }
        if !previousEncryptionKeys.isEmpty, encryptionKey == nil {
            problems.append("keys.previous_encryption_keys: needs keys.encryption_key (the new key) too")
        }
        if !previousCookieKeys.isEmpty, cookieKey == nil {
            problems.append("keys.previous_cookie_keys: needs keys.cookie_key (the new key) too")
        }
        let previous =
            previousEncryptionKeys.enumerated().map { ("keys.previous_encryption_keys[\($0)]", Optional($1)) }
            + previousCookieKeys.enumerated().map { ("keys.previous_cookie_keys[\($0)]", Optional($1)) }
        for (key, value) in [("keys.encryption_key", encryptionKey), ("keys.cookie_key", cookieKey)] + previous {
            if let value, Data(base64Encoded: value)?.count != 32, Base64URL.decode(value)?.count != 32 {
                problems.append("\(key): must be base64 of exactly 32 bytes (e.g. `openssl rand -base64 32`)")
            }
        }
        problems += cimd.validate()
        problems += validateOperations()
        problems += tracing.problems()
        return problems
    }

    /// https, except a loopback issuer for local development; no
    /// query or fragment (RFC 8414 §2).
    static func checkIssuer(_ issuer: String) -> [String] {
        guard !issuer.isEmpty else { return ["issuer: required (the shim's public base URL)"] }
        guard let uri = RedirectURI(issuer), uri.query == nil, !uri.hasFragment, !uri.hasUserinfo else {
            return ["issuer: \(issuer.quotedForProblem) must be an absolute URL without query or fragment"]
        }
        if uri.scheme == "https" || (uri.scheme == "http" && uri.isLoopback) { return [] }
        return ["issuer: must be https (http only on loopback, for local development)"]
    }

    /// RFC 8707 §2: a resource indicator is an absolute URI without a fragment.
    static func checkResource(_ resource: String, key: String) -> String? {
        if RedirectURI(resource).map({ $0.hasFragment || !["https", "http"].contains($0.scheme) }) ?? true {
            return "\(key): must be an absolute http(s) URI without a fragment (RFC 8707 §2)"
        }
        return nil
    }

    /// Entra v2 wants fully qualified scopes and never mixes `.default`
    /// with named scopes (AADSTS70011).
    static func checkEntraScopes(_ scopes: [String], key: String) -> [String] {
        var problems: [String] = []
        if scopes.isEmpty { problems.append("\(key): Entra needs at least one scope such as api://<app-id>/<name>") }
        let oidc: Set<String> = ["openid", "profile", "email", "offline_access"]
        for scope in scopes where !oidc.contains(scope) && !scope.contains("://") {
            problems.append("\(key): \(scope.quotedForProblem) must be fully qualified (api://<app-id>/\(scope))")
        }
        if scopes.contains(where: { $0.hasSuffix("/.default") }), scopes.filter({ !oidc.contains($0) }).count > 1 {
            problems.append("\(key): Entra does not mix .default with named scopes")
        }
        return problems
    }
}

extension UpstreamConfiguration {
    func validate() -> [String] {
        var problems: [String] = []
        if clientID.isEmpty { problems.append("upstream.client_id: required (the client pre-registered at the IdP)") }
        problems += clientAuthProblems()
        if preset == .entra {
            if (tenant ?? "").isEmpty { problems.append("upstream.tenant: required for the entra preset (tenant id or domain)") }
        } else if issuer == nil, authorizationEndpoint == nil || tokenEndpoint == nil, preset != .github, preset != .google {
            problems.append(
                "upstream.issuer: required for discovery, unless both upstream.authorization_endpoint and upstream.token_endpoint are given")
        }
        for (key, value) in [
            ("upstream.issuer", issuer), ("upstream.authorization_endpoint", authorizationEndpoint),
            ("upstream.token_endpoint", tokenEndpoint), ("upstream.revocation_endpoint", revocationEndpoint),
            ("upstream.userinfo_endpoint", userinfoEndpoint), ("upstream.jwks_uri", jwksURI),
        ] {
            guard let value else { continue }
            if let problem = Self.checkURL(value, key: key) { problems.append(problem) }
        }
        let reserved: Set<String> = [
            "response_type", "client_id", "redirect_uri", "state", "code_challenge",
            "code_challenge_method", "nonce", "scope", "client_secret", "code",
            "code_verifier", "grant_type", "refresh_token", "client_assertion", "client_assertion_type",
        ]
        for key in extraAuthorizeParams.keys.sorted() where reserved.contains(key) {
            problems.append("upstream.extra_authorize_params.\(key): set by the shim itself; cannot be overridden")
        }
        for key in extraTokenParams.keys.sorted() where reserved.contains(key) {
            problems.append("upstream.extra_token_params.\(key): set by the shim itself; cannot be overridden")
        }
        problems += presetProblems()
        let asymmetric: Set<String> = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
        for alg in idTokenAlgorithms where !asymmetric.contains(alg) {
            problems.append(
                "upstream.id_token_algorithms: \(alg.quotedForProblem) is not one of \(asymmetric.sorted().joined(separator: ", ")) (never none or HMAC)"
            )
        }
        return problems
    }

    /// An endpoint of the IdP: https, or http on loopback (a local IdP in development).
    static func checkURL(_ value: String, key: String) -> String? {
        guard let uri = RedirectURI(value), uri.scheme == "https" || (uri.scheme == "http" && uri.isLoopback) else {
            return "\(key): must be an https URL (http only on loopback)"
        }
        return nil
    }
}
