import Foundation

extension ShimConfiguration {
    /// Checks of `ema.*`; each problem names its key.
    func validateEMA(issued: Bool) -> [String] {
        var problems: [String] = []
        let ownIssuer = issuerBase
        if ema.acceptsAssertions, !issued {
            problems.append("ema: accepting ID-JAGs needs tokens.access: issued (the shim answers them with its own access tokens)")
        }
        var issuers: Set<String> = []
        for (i, trusted) in ema.trustedIssuers.enumerated() {
            let key = "ema.trusted_issuers[\(i)]"
            if !Self.isHTTPSOrLoopback(trusted.issuer) {
                problems.append("\(key).issuer: must be an https URL (http only on loopback), the ID-JAG's iss exactly")
            } else if !issuers.insert(trusted.issuer).inserted {
                problems.append("\(key).issuer: \(trusted.issuer.quotedForProblem) is listed twice")
            } else if trusted.issuer == ownIssuer {
                problems.append("\(key).issuer: the shim's own ID-JAGs are accepted with ema.issuer.enabled; do not list itself")
            }
            switch (trusted.jwksURI, trusted.jwks) {
            case (nil, nil), (.some, .some):
                problems.append("\(key): give exactly one of jwks_uri or jwks (jwks_file)")
            case (let uri?, nil):
                if !(RedirectURI(uri).map { $0.scheme == "https" && !$0.hasUserinfo && !$0.hasFragment } ?? false) {
                    problems.append("\(key).jwks_uri: must be an https URL (fetched under rule 11)")
                }
            case (nil, let inline?):
                if !Self.looksLikeJWKS(inline) { problems.append("\(key).jwks: must be a JWKS document ({\"keys\": [...]})") }
            }
            if trusted.algorithms.isEmpty {
                problems.append("\(key).algorithms: at least one")
            }
            for alg in trusted.algorithms where !IDJAGRules.asymmetricAlgorithms.contains(alg) {
                problems.append("\(key).algorithms: \(alg.quotedForProblem) is not an asymmetric JWS algorithm (never none or HMAC)")
            }
        }
        var ids: Set<String> = []
        for (i, client) in ema.clients.enumerated() {
            let key = "ema.clients[\(i)]"
            if client.id.isEmpty || !client.id.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
                problems.append("\(key).id: required, visible ASCII")
            } else if client.id.lowercased().hasPrefix("https://") {
                problems.append(
                    "\(key).id: an https URL is taken for a Client ID Metadata Document, never authenticated as a configured client; choose another id"
                )
            } else if !ids.insert(client.id).inserted {
                problems.append("\(key).id: \(client.id.quotedForProblem) is listed twice")
            }
            if client.secret.utf8.count < 16 { problems.append("\(key).secret: required, at least 16 characters (or \(key).secret_file)") }
            if !["client_secret_post", "client_secret_basic"].contains(client.authMethod) {
                problems.append("\(key).token_endpoint_auth_method: client_secret_post or client_secret_basic")
            }
        }
        if ema.issuer.enabled, ema.issuer.lifetimeSeconds > ema.maxAssertionLifetimeSeconds {
            problems.append(
                "ema.issuer.lifetime: \(ema.issuer.lifetimeSeconds) s is longer than ema.max_assertion_lifetime "
                    + "(\(ema.maxAssertionLifetimeSeconds) s): the shim would refuse its own ID-JAGs")
        }
        if !ema.clients.isEmpty, !ema.acceptsAssertions {
            problems.append("ema.clients: no ema.trusted_issuers and ema.issuer.enabled is false: these clients could do nothing")
        }
        if !ema.insecurePrivateHosts.isEmpty || ema.insecureCA != nil, ema.trustedIssuers.allSatisfy({ $0.jwksURI == nil }) {
            problems.append("ema.insecure_private_hosts, ema.insecure_ca: only for trusted issuers' jwks_uri; none is configured")
        }
        problems += validateEMAPolicy(knownClients: ids)
        return problems
    }

    func validateEMAPolicy(knownClients: Set<String>) -> [String] {
        var problems: [String] = []
        if ema.issuer.enabled, ema.policy.isEmpty {
            problems.append("ema.policy: ema.issuer.enabled with no rule would deny every exchange; add a rule")
        }
        if !ema.policy.isEmpty, !ema.issuer.enabled {
            problems.append("ema.policy: rules apply to ID-JAG issuance; set ema.issuer.enabled: true")
        }
        if ema.issuer.enabled, !upstream.scopes.contains("openid") {
            problems.append(
                "ema.issuer.enabled: the upstream must sign users in with OpenID Connect (upstream.scopes needs openid) to verify their ID tokens")
        }
        if ema.issuer.enabled { problems += validateLegOneKeys() }
        for (i, rule) in ema.policy.enumerated() {
            let key = "ema.policy[\(i)]"
            if rule.clients.isEmpty { problems.append("\(key).clients: at least one client application") }
            for client in rule.clients where !knownClients.contains(client) {
                problems.append("\(key).clients: \(client.quotedForProblem) is not in ema.clients (it must authenticate)")
            }
            if !Self.isHTTPSOrLoopback(rule.audience) {
                problems.append("\(key).audience: the target authorization server's issuer (an https URL)")
            }
            if rule.resources.isEmpty { problems.append("\(key).resources: at least one") }
            for resource in rule.resources where RedirectURI(resource).map({ $0.hasFragment || !["https", "http"].contains($0.scheme) }) ?? true {
                problems.append("\(key).resources: \(resource.quotedForProblem) is not an absolute http(s) URI (RFC 8707)")
            }
            if rule.scopes.isEmpty { problems.append("\(key).scopes: at least one") }
            if rule.clientID.isEmpty { problems.append("\(key).client_id: the client's id at the target authorization server") }
        }
        problems += validateLegOneTenants()
        return problems
    }

    /// Entra's `common`, `organizations` and `consumers` accept ID tokens of
    /// every tenant whose users can sign in to the application (the issuer
    /// is the `{tenantid}` template, filled from each token's `tid`): a leg-1
    /// rule without `tenants` would issue ID-JAGs for users of any such
    /// tenant. Each rule must name the tenants it admits.
    func validateLegOneTenants() -> [String] {
        guard ema.issuer.enabled, upstream.preset == .entra, let tenant = upstream.tenant,
            EntraTenant(tenant).servesSeveralTenants
        else { return [] }
        var problems: [String] = []
        for (i, rule) in ema.policy.enumerated() {
            if rule.tenants.isEmpty {
                problems.append(
                    "ema.policy[\(i)].tenants: upstream.tenant is \(tenant.quotedForProblem), so ID tokens of any Entra tenant can "
                        + "reach leg 1; list the Directory (tenant) IDs this rule admits (or set upstream.tenant to your tenant's ID or domain)")
            }
            for value in rule.tenants where !EntraTenant.isGUID(value) {
                problems.append("ema.policy[\(i)].tenants: \(value.quotedForProblem) is not a Directory (tenant) ID; the ID token's tid is a GUID")
            }
        }
        return problems
    }

    static func isHTTPSOrLoopback(_ url: String) -> Bool {
        guard let uri = RedirectURI(url), !uri.hasUserinfo, !uri.hasFragment, uri.query == nil else { return false }
        return uri.scheme == "https" || (uri.scheme == "http" && uri.isLoopback)
    }

    /// A JSON object with a `keys` array (the key material is checked when loaded).
    static func looksLikeJWKS(_ text: String) -> Bool {
        struct Shape: Decodable { var keys: [JSONValue] }
        return (try? JSONDecoder().decode(Shape.self, from: Data(text.utf8))) != nil
    }
}

extension ShimConfiguration {
    /// Leg 1 verifies the user's ID token against the upstream's published
    /// keys and issuer; without them every exchange would fail at run time
    /// (an ID token a client presents is never read unverified).
    func validateLegOneKeys() -> [String] {
        if upstream.preset == .github {
            return ["ema.issuer.enabled: GitHub issues no ID tokens, so leg 1 has nothing to verify; it needs an OpenID Connect IdP"]
        }
        let fixedEndpoints = upstream.authorizationEndpoint != nil || upstream.tokenEndpoint != nil
        if upstream.preset == .entra && !fixedEndpoints { return [] }  // Entra's keys and issuer follow from the tenant
        if upstream.issuer == nil || (fixedEndpoints && upstream.jwksURI == nil) {
            return [
                "ema.issuer.enabled: the upstream's ID tokens cannot be verified: set upstream.issuer (discovery names the keys), "
                    + "or with fixed endpoints upstream.issuer and upstream.jwks_uri"
            ]
        }
        return []
    }
}
