import Foundation

/// Which request and response headers the gateway forwards, and which it
/// sets itself (RFC 9110 §7.6.1 and §7.8, MCP Streamable HTTP "Request
/// Metadata"). The whole policy is here, as tables and pure functions; the
/// gateway only applies it.
public enum ProxyHeaderPolicy {
    /// RFC 9110 §7.6.1: connection-specific fields "MUST" be removed by an
    /// intermediary before forwarding; so must every field named in
    /// `Connection`. `Proxy-Connection` and `Keep-Alive` are the legacy ones.
    public static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade",
    ]

    /// Removed from the client's request as well: its credentials (the
    /// client's token never reaches the MCP server: MCP authorization "MUST
    /// NOT accept or transit any other tokens"), its `Host` (the upstream's
    /// own is set), its cookies for the shim (the consent binding), its
    /// `Expect` (RFC 9110 §10.1.1: the gateway has read the whole body
    /// before it calls the MCP server, so there is nothing to wait for) and
    /// its `Origin` (checked by the gateway; the MCP server sees the
    /// gateway's request, not the browser's).
    public static let requestOnly: Set<String> = ["authorization", "host", "cookie", "content-length", "expect", "origin"]

    /// Headers that state a fact about the client (its address, its
    /// identity, the URL it asked for) that an application behind a proxy
    /// believes: whatever a client sends under these names is dropped, never
    /// forwarded. `Proxy` is httpoxy (CGI maps it to `HTTP_PROXY`).
    public static let forgeable: Set<String> = [
        "forwarded", "x-real-ip", "x-client-ip", "true-client-ip", "cf-connecting-ip", "x-cluster-client-ip",
        "x-original-url", "x-rewrite-url", "x-original-uri", "proxy", "remote-user",
    ]

    /// Prefixes of forgeable names: every `X-Forwarded-*` (the gateway sets
    /// its own), oauth2-proxy's `X-Auth-Request-*`, and `X-Remote-*`
    /// (`X-Remote-User`, `X-Remote-Group` of Kubernetes' front proxies).
    public static let forgeablePrefixes = ["x-forwarded-", "x-auth-request-", "x-remote-"]

    /// The identity headers the gateway sets from the validated token
    /// (`identity_headers`); `X-Forwarded-Access-Token` is never set, only
    /// reserved, as oauth2-proxy sets it.
    public static let identityHeaders = [
        "x-forwarded-user", "x-forwarded-client-id", "x-forwarded-scope", "x-forwarded-email",
        "x-forwarded-access-token", "x-dcr-shim-assertion",
    ]

    /// Whether a (lower-case) name is one a client could use to claim an
    /// address or identity: listed, with a listed prefix, or holding an
    /// underscore. CGI, PHP, WSGI and nginx's `underscores_in_headers`
    /// map `-` and `_` to the same variable, so `X_Forwarded_User` is
    /// `X-Forwarded-User` to the application (nginx drops such names by
    /// default for that reason).
    public static func isForgeable(_ lower: String) -> Bool {
        lower.utf8.contains(UInt8(ascii: "_")) || forgeable.contains(lower)
            || forgeablePrefixes.contains { lower.utf8.starts(with: $0.utf8) }
    }

    /// Lower-cased names listed in `Connection` (RFC 9110 §7.6.1 "Connection: a, b").
    public static func connectionTokens(_ values: [String]) -> Set<String> {
        Set(values.flatMap { $0.split(separator: ",") }.map { $0.trimmingWhitespace().lowercased() }.filter { !$0.isEmpty })
    }

    /// The names the gateway sets itself for a resource, lower-cased: the
    /// identity headers, the upstream-token header and every downstream
    /// API's header (`resources[i].downstream[j].header`). A client's copy
    /// of any of them is removed before the gateway sets its own, so a
    /// client cannot hand the MCP server a token of its choosing as the
    /// user's (rule 14).
    public static func injectedNames(upstreamTokenHeader: String?, downstreamHeaders: [String]) -> Set<String> {
        Set(identityHeaders + (upstreamTokenHeader.map { [$0.lowercased()] } ?? []) + downstreamHeaders.map { $0.lowercased() })
    }

    /// Whether a client request header is forwarded. `injected` are the
    /// names the gateway sets itself (identity headers, the upstream-token
    /// header): deleted first, then set, so a client cannot smuggle its own.
    public static func forwardsRequestHeader(_ name: String, connectionTokens: Set<String>, injected: Set<String>) -> Bool {
        let lower = name.lowercased()
        return !hopByHop.contains(lower) && !requestOnly.contains(lower) && !connectionTokens.contains(lower)
            && !injected.contains(lower) && !isForgeable(lower)
    }

    /// The request headers the MCP server receives, before the gateway adds
    /// the identity headers and the upstream token: the client's, less every
    /// one `forwardsRequestHeader` refuses; then `X-Forwarded-For` with the
    /// client's address as `ClientAddress` resolved it (behind
    /// `listen.trusted_proxies`, the address they forwarded; never the
    /// client's own header), and `X-Forwarded-Proto` / `X-Forwarded-Host`
    /// from the resource's public URL (configuration, never the request).
    public static func forwardedRequestHeaders(
        _ fields: [(name: String, value: String)], clientAddress: IPAddress?, publicURL: String,
        injected: Set<String>
    ) -> [(name: String, value: String)] {
        let tokens = connectionTokens(fields.filter { $0.name.lowercased() == "connection" }.map { $0.value })
        var forwarded = fields.filter { forwardsRequestHeader($0.name, connectionTokens: tokens, injected: injected) }
        if let clientAddress { forwarded.append((name: "X-Forwarded-For", value: clientAddress.description)) }
        if let uri = RedirectURI(publicURL) {
            forwarded.append((name: "X-Forwarded-Proto", value: uri.scheme))
            forwarded.append((name: "X-Forwarded-Host", value: uri.host.lowercased() + (uri.port.map { ":\($0)" } ?? "")))
        }
        return forwarded
    }

    /// Response headers never returned as the MCP server sent them:
    /// `Set-Cookie` (the client sees the shim's origin, so the MCP server's
    /// cookies would be set on the authorization server's), the MCP server's
    /// own `WWW-Authenticate` (the gateway is the resource server the client
    /// talks to; a 401 carries the gateway's challenge instead) and its CORS
    /// answers (the gateway decides which origins may read).
    public static let responseDropped: Set<String> = ["set-cookie", "set-cookie2", "www-authenticate"]

    /// Whether an MCP server's response header is returned to the client.
    /// `Content-Length` is kept (the body is passed through unchanged).
    public static func forwardsResponseHeader(_ name: String, connectionTokens: Set<String>) -> Bool {
        let lower = name.lowercased()
        return !hopByHop.contains(lower) && !connectionTokens.contains(lower) && !responseDropped.contains(lower)
            && !lower.utf8.starts(with: "access-control-".utf8)
    }

    /// The MCP server's response headers as the client receives them: the
    /// ones `forwardsResponseHeader` keeps, with
    ///
    /// * `Location` pointing into the MCP server rewritten to the resource's
    ///   public URL (`rewrittenLocation`), or dropped;
    /// * `Cache-Control` made `private` (the answer is for one signed-in
    ///   user; RFC 9111 §5.2.2.7: "MUST NOT" be stored by a shared cache);
    /// * the gateway's own challenge (`challenge`) on a 401 (RFC 6750 §3:
    ///   the client must learn where to get a token from the resource it
    ///   called);
    /// * `Content-Security-Policy: sandbox` on HTML (CSP 3 §6.3.2: scripts in
    ///   it run in an opaque origin, never the shim's, whose cookies bind
    ///   consent).
    public static func returnedResponseHeaders(
        _ fields: [(name: String, value: String)], status: Int, upstreamBase: String,
        publicURL: String, challenge: String
    ) -> [(name: String, value: String)] {
        let tokens = connectionTokens(fields.filter { $0.name.lowercased() == "connection" }.map { $0.value })
        var returned: [(name: String, value: String)] = []
        var cacheControl: [String] = []
        var isHTML = false
        for field in fields where forwardsResponseHeader(field.name, connectionTokens: tokens) {
            switch field.name.lowercased() {
            case "location":
                if let location = rewrittenLocation(field.value, upstreamBase: upstreamBase, publicURL: publicURL) {
                    returned.append((name: field.name, value: location))
                }
            case "cache-control":
                cacheControl.append(field.value)
            case "content-type":
                isHTML = isHTML || field.value.trimmingWhitespace().lowercased().utf8.starts(with: "text/html".utf8)
                returned.append(field)
            default:
                returned.append(field)
            }
        }
        returned.append((name: "Cache-Control", value: privateCacheControl(cacheControl)))
        if status == 401 { returned.append((name: "WWW-Authenticate", value: challenge)) }
        if isHTML { returned.append((name: "Content-Security-Policy", value: "sandbox")) }
        return returned
    }

    /// `Cache-Control` for an answer to an authenticated request: `private`
    /// first, the MCP server's other directives kept, its `public`,
    /// `private` and `s-maxage` (shared caches only) removed.
    public static func privateCacheControl(_ values: [String]) -> String {
        let directives = values.flatMap { $0.split(separator: ",") }.map { $0.trimmingWhitespace() }.filter { directive in
            let name = directive.lowercased().prefix { $0 != "=" }.trimmingWhitespace()
            return !directive.isEmpty && !["public", "private", "s-maxage"].contains(name)
        }
        return (["private"] + directives).joined(separator: ", ")
    }

    /// An MCP server's `Location` as the client should see it (RFC 9110
    /// §10.2.2). A redirect into the MCP server itself (its absolute URL,
    /// `//host` form or an absolute path) names an address the client
    /// cannot reach and should not learn: at or below the upstream path it
    /// becomes the same place below the resource's public URL; elsewhere on
    /// the MCP server's origin (or through a path `GatewayPath` refuses) it
    /// is dropped (nil). A relative reference resolves against the public
    /// URL already, and a URL on another origin is the MCP server's to
    /// choose: both are left as they are.
    public static func rewrittenLocation(_ location: String, upstreamBase: String, publicURL: String) -> String? {
        guard let upstream = RedirectURI(upstreamBase) else { return nil }
        let target: (path: String, query: String?)
        let bytes = location.utf8
        if bytes.starts(with: "//".utf8) {
            return rewrittenLocation(upstream.scheme + ":" + location, upstreamBase: upstreamBase, publicURL: publicURL)
        } else if bytes.first == UInt8(ascii: "/") {
            let withoutFragment = location.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let parts = withoutFragment.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            target = (String(parts[0]), parts.count > 1 ? String(parts[1]) : nil)
        } else if let uri = RedirectURI(location), uri.hasAuthority {
            guard let origin = OriginPolicy.origin(of: location), origin == OriginPolicy.origin(of: upstreamBase) else { return location }
            target = (uri.path, uri.query)
        } else {
            return location
        }
        let basePath = upstream.path.hasSuffix("/") ? String(upstream.path.dropLast()) : upstream.path
        guard let suffix = GatewayPath.suffix(target.path, below: basePath) else { return nil }
        let publicBase = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        return publicBase + suffix + (target.query.map { "?" + $0 } ?? "")
    }
}
