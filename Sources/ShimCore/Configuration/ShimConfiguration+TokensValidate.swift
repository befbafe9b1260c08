import Crypto

extension ShimConfiguration {
    /// The shim's own paths; a gateway resource may not shadow them.
    static let reservedPaths = [
        "/register", "/authorize", "/consent", "/callback", "/token", "/revoke", "/introspect",
        "/jwks.json", "/healthz", "/readyz", "/metrics",
    ]

    /// Checks of `tokens.*`, `keys.*signing*`, `introspection.*` and gateway
    /// resources; each problem names its key.
    func validateTokenSettings() -> [String] {
        var problems: [String] = []
        let issued = accessTokenMode == .issued
        if case .postgres = storage, issued || ema.issuer.enabled, signingKeys.signingKey == nil {
            problems.append(
                "keys.signing_key: required with PostgreSQL storage (replicas): without it each replica generates its own key, "
                    + "and a token one replica signs fails at another (set keys.signing_key_file on every replica)")
        }
        problems += Self.checkUpstreamAudience(
            mode: accessTokenMode, preset: upstream.preset,
            acknowledged: issuedTokens.insecureUpstreamAudienceAck)
        for (i, name) in issuedTokens.copiedClaims.enumerated() {
            if AccessTokenClaims.reservedNames.contains(name) {
                problems.append("tokens.claims[\(i)]: \(name.quotedForProblem) is set by the shim itself and cannot be copied")
            } else if name.isEmpty || !name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") }) {
                problems.append("tokens.claims[\(i)]: \(name.quotedForProblem) is not a claim name")
            }
        }
        if let pem = signingKeys.signingKey, (try? P256.Signing.PrivateKey(pemRepresentation: pem)) == nil {
            problems.append(
                "keys.signing_key: must be a P-256 (ES256) private key in PEM, e.g. `openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt`"
            )
        }
        for (i, pem) in signingKeys.previousSigningKeys.enumerated()
        where (try? P256.Signing.PrivateKey(pemRepresentation: pem)) == nil && (try? P256.Signing.PublicKey(pemRepresentation: pem)) == nil {
            problems.append("keys.previous_signing_keys[\(i)]: must be a P-256 private or public key in PEM")
        }
        if !signingKeys.previousSigningKeys.isEmpty, signingKeys.signingKey == nil {
            problems.append("keys.previous_signing_keys: needs keys.signing_key (the new key) too")
        }
        problems += validateIntrospection(issued: issued)
        problems += validateGateway(issued: issued)
        problems += validateEMA(issued: issued)
        return problems
    }

    /// The audience problem (MCP authorization "Token Audience Binding and
    /// Validation", RFC 8707): a GitHub or Google access token is a general
    /// API token of the user, not bound to the MCP server. Handed to clients
    /// (`tokens.access: upstream`), every approved client would hold a
    /// token that works at GitHub's or Google's APIs (say with `repo`
    /// scope), and the MCP server could not tell a token meant for it from
    /// one meant for another service. Issued tokens are bound to the resource.
    static func checkUpstreamAudience(mode: AccessTokenMode, preset: UpstreamPreset, acknowledged: Bool) -> [String] {
        guard mode == .upstream, [.github, .google].contains(preset), !acknowledged else { return [] }
        return [
            "tokens.access: upstream with the \(preset.rawValue) preset hands every client a general \(preset.rawValue) API token "
                + "that is not bound to the MCP server (RFC 8707 audience binding cannot hold, and the token works at \(preset.rawValue)'s "
                + "own APIs); use tokens.access: issued, or set tokens.insecure_upstream_audience_ack: true to accept this"
        ]
    }

    func validateIntrospection(issued: Bool) -> [String] {
        var problems: [String] = []
        if !introspectionClients.isEmpty, !issued {
            problems.append("introspection.clients: /introspect answers for issued tokens only; set tokens.access: issued")
        }
        var seen: Set<String> = []
        for (i, client) in introspectionClients.enumerated() {
            let key = "introspection.clients[\(i)]"
            if client.id.isEmpty { problems.append("\(key).id: required") }
            if !seen.insert(client.id).inserted { problems.append("\(key).id: \(client.id.quotedForProblem) is listed twice") }
            if client.secret.utf8.count < 16 { problems.append("\(key).secret: required, at least 16 characters (or \(key).secret_file)") }
            for resource in client.resources where !resources.contains(where: { $0.resource == resource }) {
                problems.append("\(key).resources: \(resource.quotedForProblem) is not a configured resource")
            }
        }
        return problems
    }

    func validateGateway(issued: Bool) -> [String] {
        var problems: [String] = []
        var paths: Set<String> = []
        let prefix = RedirectURI(issuer).map { $0.path == "/" ? "" : $0.path } ?? ""
        for gatewayResource in gatewayResources {
            let i = resources.firstIndex { $0.resource == gatewayResource.resource } ?? 0
            let key = "resources[\(i)]"
            if !issued {
                problems.append("\(key).upstream: gateway mode needs tokens.access: issued (the gateway validates the shim's own tokens)")
            }
            problems += Self.checkGatewayUpstream(gatewayResource, key: key)
            let path = RedirectURI(gatewayResource.resource)?.path ?? ""
            if path.isEmpty || path == "/" {
                problems.append("\(key).resource: a gateway resource needs a path (e.g. /mcp); the shim's own endpoints share the host")
            } else if path.hasSuffix("/") {
                // The gateway serves the path and what lies below `path + "/"`: with the slash in the
                // resource, `/mcp//x` would be the only form below it (and is refused as an empty segment).
                problems.append(
                    "\(key).resource: a gateway resource's path must not end in \"/\" (write \(path.dropLast().quotedForProblem)); "
                        + "nothing below it could be reached")
            } else if path.hasPrefix("/.well-known/")
                || Self.reservedPaths.contains(where: { path == prefix + $0 || path.hasPrefix(prefix + $0 + "/") })
                || path.contains("*") || path.contains("{") || path.contains(":")
            {
                problems.append("\(key).resource: the path \(path.quotedForProblem) is one of the shim's own endpoints")
            } else if !paths.insert(path).inserted {
                problems.append("\(key).resource: another gateway resource has the path \(path.quotedForProblem)")
            }
            let offered = Set(resources[i].scopes)
            for scope in gatewayResource.requiredScopes where !offered.contains(scope) {
                problems.append("\(key).required_scopes: \(scope.quotedForProblem) is not in \(key).scopes")
            }
            if let header = gatewayResource.upstreamTokenHeader, !Self.canCarryUpstreamToken(header) {
                problems.append(
                    "\(key).upstream_token_header: \(header.quotedForProblem) cannot carry the token (a hop-by-hop, "
                        + "identity, forwarding or request header the gateway removes or sets itself)")
            }
            for (j, origin) in gatewayResource.allowedOrigins.enumerated() where OriginPolicy.normalise(origin) == nil {
                problems.append("\(key).allowed_origins[\(j)]: \(origin.quotedForProblem) is not an origin (scheme://host[:port] or null)")
            }
        }
        return problems
    }

    /// `resources[i].upstream`: an http(s) URL without userinfo, query or
    /// fragment (the request's own path and query are appended to it), and
    /// https unless the MCP server is on loopback or
    /// `insecure_http_upstream` says the clear-text hop is intended.
    static func checkGatewayUpstream(_ gatewayResource: GatewayResource, key: String) -> [String] {
        guard let uri = RedirectURI(gatewayResource.upstream), uri.hasAuthority else {
            return ["\(key).upstream: must be an absolute http(s) URL"]
        }
        var problems: [String] = []
        if !["http", "https"].contains(uri.scheme) || uri.hasUserinfo || uri.hasFragment || uri.query != nil {
            problems.append("\(key).upstream: must be an http(s) URL without userinfo, query or fragment")
        } else if uri.scheme == "http", !uri.isLoopback, !gatewayResource.insecureHTTPUpstream {
            problems.append(
                "\(key).upstream: plain http to \(uri.host.quotedForProblem) sends the user's identity (and upstream token) "
                    + "in clear text; use https, a loopback address, or set \(key).insecure_http_upstream: true")
        }
        return problems
    }

    /// Whether a header name may carry the user's upstream token: a plain
    /// token name (letters, digits, `-`) that the gateway neither removes
    /// from requests nor sets itself (hop-by-hop, Host, Cookie, Content-*,
    /// Origin, Expect, the identity headers, every forgeable forwarding
    /// name). `Authorization` is the one request header it may replace.
    static func canCarryUpstreamToken(_ header: String) -> Bool {
        let lower = header.lowercased()
        if lower == "authorization" { return true }
        let token =
            !header.isEmpty
            && header.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == UInt8(ascii: "-")
            }
        return token && !ProxyHeaderPolicy.hopByHop.contains(lower) && !ProxyHeaderPolicy.requestOnly.contains(lower)
            && lower != "content-type" && !ProxyHeaderPolicy.identityHeaders.contains(lower) && !ProxyHeaderPolicy.isForgeable(lower)
    }
}
