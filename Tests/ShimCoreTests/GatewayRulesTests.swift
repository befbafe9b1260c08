import ShimCore
import Testing

/// The gateway's pure rules: bearer credentials and challenges (RFC 6750,
/// RFC 9728 §5.1), Origin and Host (MCP Streamable HTTP), CORS, the header
/// policy both ways, path confinement, hop-by-hop headers (RFC 9110
/// §7.6.1), protected-resource metadata URLs (RFC 9728 §3.1).
@Suite("Gateway rules")
struct GatewayRulesTests {
    @Test(
        "bearer credentials (RFC 6750 §2.1)",
        arguments: [
            (nil, BearerChallenge.Credential.absent),
            ("Basic dXNlcjpwYXNz", .absent),  // another scheme: a challenge without error
            ("Bearer", .absent),
            ("Bearerabc", .absent),
            ("Bearer abc.def-ghi_jkl~mno+p/q==", .token("abc.def-ghi_jkl~mno+p/q==")),
            ("bearer abc", .token("abc")),  // the scheme is case-insensitive
            ("BEARER   abc  ", .token("abc")),
            ("Bearer ", .malformed),
            ("Bearer a b", .malformed),
            ("Bearer a=b", .malformed),  // padding only at the end
            ("Bearer a\"b", .malformed),
            ("Bearer é", .malformed),
        ] as [(String?, BearerChallenge.Credential)])
    func credentials(_ header: String?, _ expected: BearerChallenge.Credential) {
        #expect(BearerChallenge.credential(header) == expected)
    }

    @Test("challenges: resource_metadata and scope from configuration, no offline_access, error only with a token")
    func challenges() {
        #expect(
            BearerChallenge.header(
                resourceMetadata: "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
                scope: ["mcp.read", "offline_access", "mcp.write"])
                == #"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp.read mcp.write""#)
        #expect(
            BearerChallenge.header(
                resourceMetadata: "https://m/x", scope: ["offline_access"], error: "invalid_token", description: "the token has expired")
                == #"Bearer resource_metadata="https://m/x", error="invalid_token", error_description="the token has expired""#)
        // Quoted-string: a quote or backslash is escaped, a control character dropped.
        #expect(
            BearerChallenge.header(resourceMetadata: "https://m/x", scope: [], error: "e", description: "a \"b\" \\ c\r\nd")
                == #"Bearer resource_metadata="https://m/x", error="e", error_description="a \"b\" \\ cd""#)
    }

    @Test(
        "Origin: absent allowed; present must be listed; normalised per RFC 6454",
        arguments: [
            (nil, true),
            ("https://mcp.example.com", true),
            ("HTTPS://MCP.EXAMPLE.COM", true),
            ("https://mcp.example.com:443", true),
            ("https://mcp.example.com/", true),
            ("http://mcp.example.com", false),  // another scheme is another origin
            ("https://mcp.example.com:8443", false),
            ("https://evil.example", false),
            ("https://mcp.example.com.evil.example", false),
            ("null", false),  // opaque origins only when configured
            ("https://user@mcp.example.com", false),
            ("not a url", false),
            ("https://mcp.example.com/path", false),
        ] as [(String?, Bool)])
    func origins(_ origin: String?, _ allowed: Bool) {
        let configured = Set(["https://mcp.example.com", "https://auth.example.com"].compactMap(OriginPolicy.normalise))
        #expect(OriginPolicy.allows(origin, allowed: configured) == allowed)
    }

    @Test("origin of a URL; default ports dropped; null kept")
    func originOf() {
        #expect(OriginPolicy.origin(of: "http://127.0.0.1:8080/mcp") == "http://127.0.0.1:8080")
        #expect(OriginPolicy.origin(of: "https://Auth.Example.com:443/x?y") == "https://auth.example.com")
        #expect(OriginPolicy.normalise("null") == "null" && OriginPolicy.allows("null", allowed: ["null"]))
    }

    @Test(
        "request headers: Authorization, Host, cookies, hop-by-hop, Connection-listed, injected and forgeable names are not forwarded",
        arguments: [
            ("Authorization", false), ("host", false), ("Cookie", false), ("Connection", false), ("Keep-Alive", false),
            ("Transfer-Encoding", false), ("TE", false), ("Trailer", false), ("Upgrade", false), ("Proxy-Authorization", false),
            ("Proxy-Connection", false), ("Content-Length", false), ("X-Secret-Hop", false), ("x-forwarded-user", false),
            ("X-Upstream-Token", false),
            // A downstream API's header: the client's copy never reaches the MCP server as the user's token.
            ("X-Graph-Token", false), ("x-GRAPH-token", false), ("X-Graph-Token-2", true),
            ("Expect", false), ("Origin", false),
            // Forgeable facts about the client: dropped whatever the gateway then sets.
            ("Forwarded", false), ("X-Forwarded-For", false), ("X-Forwarded-Host", false), ("X-Forwarded-Proto", false),
            ("x-forwarded-prefix", false), ("X-Forwarded-Groups", false), ("X-Real-IP", false), ("X-Original-URL", false),
            ("X-Rewrite-URL", false), ("Proxy", false), ("X-Auth-Request-User", false), ("X-Auth-Request-Email", false),
            ("Remote-User", false), ("X-Remote-User", false), ("X-Remote-Group", false), ("True-Client-IP", false),
            ("X_Forwarded_User", false), ("x_forwarded_for", false), ("Remote_User", false), ("Mcp_Session_Id", false),
            ("Mcp-Method", true), ("Mcp-Name", true), ("Mcp-Session-Id", true), ("MCP-Protocol-Version", true), ("Accept", true),
            ("X-Forwarded", true), ("Proxy-Status", true), ("X-Request-Id", true),
            ("Content-Type", true), ("Last-Event-ID", true), ("Mcp-Param-Region", true), ("User-Agent", true),
        ])
    func requestHeaders(_ name: String, _ forwarded: Bool) {
        let tokens = ProxyHeaderPolicy.connectionTokens(["keep-alive, X-Secret-Hop", " close"])
        let injected = ProxyHeaderPolicy.injectedNames(upstreamTokenHeader: "X-Upstream-Token", downstreamHeaders: ["X-Graph-Token"])
        #expect(ProxyHeaderPolicy.forwardsRequestHeader(name, connectionTokens: tokens, injected: injected) == forwarded)
    }

    @Test("forwarded request: the client's forgeable headers gone; X-Forwarded-For from the resolved address, Proto and Host from configuration")
    func forwardedRequest() {
        let client: [(name: String, value: String)] = [
            ("X-Forwarded-For", "10.0.0.1"), ("Forwarded", "for=10.0.0.1;host=evil.example"), ("X-Forwarded-Host", "evil.example"),
            ("X-Forwarded-Proto", "http"), ("X_Forwarded_User", "admin"), ("X-Real-IP", "10.0.0.1"), ("Proxy", "http://evil.example"),
            ("X-Original-URL", "/admin"), ("Connection", "X-Kept"), ("X-Kept", "1"), ("Accept", "application/json"),
            ("Mcp-Session-Id", "s-1"),
        ]
        let forwarded = ProxyHeaderPolicy.forwardedRequestHeaders(
            client, clientAddress: IPAddress("203.0.113.7"),
            publicURL: "https://MCP.example.com:8443/mcp", injected: ["x-forwarded-user"])
        #expect(
            forwarded.map { "\($0.name): \($0.value)" } == [
                "Accept: application/json", "Mcp-Session-Id: s-1",
                "X-Forwarded-For: 203.0.113.7", "X-Forwarded-Proto: https", "X-Forwarded-Host: mcp.example.com:8443",
            ])
        let unknown = ProxyHeaderPolicy.forwardedRequestHeaders(
            [("X-Forwarded-For", "10.0.0.1")], clientAddress: nil,
            publicURL: "https://mcp.example.com/mcp", injected: [])
        #expect(unknown.map { $0.name } == ["X-Forwarded-Proto", "X-Forwarded-Host"])
    }

    @Test("returned response: cookies, the MCP server's challenge and CORS dropped; Location mapped; private; HTML sandboxed")
    func returnedResponse() {
        let upstream: [(name: String, value: String)] = [
            ("Content-Type", "Text/HTML; charset=utf-8"), ("Set-Cookie", "sid=1; Path=/"), ("WWW-Authenticate", "Basic realm=internal"),
            ("Access-Control-Allow-Origin", "*"), ("Location", "http://127.0.0.1:9000/mcp/next?x=1"), ("Cache-Control", "public, max-age=60"),
            ("Connection", "X-Hop"), ("X-Hop", "1"), ("Mcp-Session-Id", "s-1"),
        ]
        let returned = ProxyHeaderPolicy.returnedResponseHeaders(
            upstream, status: 401, upstreamBase: "http://127.0.0.1:9000/mcp",
            publicURL: "https://mcp.example.com/mcp", challenge: "Bearer x")
        #expect(
            returned.map { "\($0.name): \($0.value)" } == [
                "Content-Type: Text/HTML; charset=utf-8", "Location: https://mcp.example.com/mcp/next?x=1", "Mcp-Session-Id: s-1",
                "Cache-Control: private, max-age=60", "WWW-Authenticate: Bearer x", "Content-Security-Policy: sandbox",
            ])
        let ok = ProxyHeaderPolicy.returnedResponseHeaders(
            [("Content-Type", "application/json"), ("WWW-Authenticate", "Bearer")], status: 200,
            upstreamBase: "http://127.0.0.1:9000/mcp", publicURL: "https://mcp.example.com/mcp",
            challenge: "Bearer x")
        #expect(ok.map { "\($0.name): \($0.value)" } == ["Content-Type: application/json", "Cache-Control: private"])
    }

    @Test(
        "Location from the MCP server: into it, mapped to the public URL; elsewhere on it, dropped; other origins and relative, kept",
        arguments: [
            ("http://127.0.0.1:9000/mcp/", "https://mcp.example.com/mcp/"),
            ("http://127.0.0.1:9000/mcp", "https://mcp.example.com/mcp"),
            ("HTTP://127.0.0.1:9000/mcp/a?b=c#f", "https://mcp.example.com/mcp/a?b=c"),
            ("/mcp/sse?x=1", "https://mcp.example.com/mcp/sse?x=1"),
            ("//127.0.0.1:9000/mcp/x", "https://mcp.example.com/mcp/x"),
            ("http://127.0.0.1:9000/admin", nil), ("/admin", nil), ("/mcp/../admin", nil), ("/mcp/..;/admin", nil),
            ("http://127.0.0.1:9000/mcpx", nil), ("/\\evil.example", nil),
            ("https://login.example.com/x", "https://login.example.com/x"), ("next", "next"), ("?page=2", "?page=2"),
        ] as [(String, String?)])
    func locations(_ location: String, _ expected: String?) {
        #expect(
            ProxyHeaderPolicy.rewrittenLocation(
                location, upstreamBase: "http://127.0.0.1:9000/mcp/",
                publicURL: "https://mcp.example.com/mcp") == expected)
    }

    @Test(
        "Cache-Control on authenticated answers is private, never public",
        arguments: [
            ([], "private"), (["public"], "private"), (["public, max-age=60"], "private, max-age=60"), (["no-store"], "private, no-store"),
            (["max-age=5, s-maxage=60", "Public"], "private, max-age=5"), (["private=\"x\", no-cache"], "private, no-cache"),
        ] as [([String], String)])
    func cacheControl(_ values: [String], _ expected: String) {
        #expect(ProxyHeaderPolicy.privateCacheControl(values) == expected)
    }

    @Test(
        "Host: only the issuer's or the resource's name, or a loopback name; the port does not count",
        arguments: [
            (nil, true), ("mcp.example.com", true), ("MCP.example.com:443", true), ("mcp.example.com.", true), ("auth.example.com:8443", true),
            ("localhost:8080", true), ("127.0.0.1:9000", true), ("[::1]:8080", true),
            ("evil.example", false), ("mcp.example.com.evil.example", false), ("user@mcp.example.com", false), ("mcp.example.com:x", false),
            ("", false), ("mcp.example.com:443:1", false), ("::1", false), ("[::1", false), ("mcp.example.com/x", false), ("10.0.0.5", false),
        ] as [(String?, Bool)])
    func hosts(_ host: String?, _ allowed: Bool) {
        #expect(HostPolicy.allows(host, hosts: ["mcp.example.com", "auth.example.com"]) == allowed)
    }

    @Test("CORS: a preflight needs Origin and Access-Control-Request-Method; allowed headers listed, Mcp-* echoed, nothing else")
    func cors() {
        #expect(CORSPolicy.isPreflight(method: "OPTIONS", origin: "https://a", requestMethod: "POST"))
        #expect(!CORSPolicy.isPreflight(method: "OPTIONS", origin: nil, requestMethod: "POST"))
        #expect(!CORSPolicy.isPreflight(method: "OPTIONS", origin: "https://a", requestMethod: nil))
        #expect(
            CORSPolicy.allowHeaders(requested: "content-type, mcp-param-region, x-evil, Mcp-Session-Id, mcp-bad name")
                == "Authorization, Content-Type, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name, mcp-param-region")
        let headers = Dictionary(uniqueKeysWithValues: CORSPolicy.responseHeaders(origin: "http://localhost:6274").map { ($0.name, $0.value) })
        #expect(headers["Access-Control-Allow-Origin"] == "http://localhost:6274" && headers["Vary"] == "Origin")
        #expect(headers["Access-Control-Expose-Headers"] == "WWW-Authenticate, Mcp-Session-Id, Retry-After")
    }

    @Test("response headers: hop-by-hop and Connection-listed dropped; Content-Length, Mcp-Session-Id, X-Accel-Buffering kept")
    func responseHeaders() {
        let tokens = ProxyHeaderPolicy.connectionTokens(["X-Internal"])
        for name in [
            "Transfer-Encoding", "Connection", "Keep-Alive", "X-Internal", "Upgrade", "Set-Cookie", "WWW-Authenticate",
            "Access-Control-Allow-Origin",
        ] {
            #expect(!ProxyHeaderPolicy.forwardsResponseHeader(name, connectionTokens: tokens), "\(name)")
        }
        for name in ["Content-Length", "Content-Type", "Mcp-Session-Id", "X-Accel-Buffering", "Cache-Control"] {
            #expect(ProxyHeaderPolicy.forwardsResponseHeader(name, connectionTokens: tokens), "\(name)")
        }
    }

    @Test(
        "paths below the resource: dot-segments (also encoded), empty segments and backslashes never reach the MCP server",
        arguments: [
            ("/mcp", ""), ("/mcp/", "/"), ("/mcp/a/b", "/a/b"), ("/mcp/a.b/..c", "/a.b/..c"),
            ("/mcpx", nil), ("/other", nil), ("/mcp/../admin", nil), ("/mcp/./x", nil), ("/mcp/%2e%2e/admin", nil), ("/mcp/%2E./x", nil),
            ("/mcp/a/..", nil), ("/mcp//admin", nil), ("/mcp/a%2fb", nil), ("/mcp/a\\..\\b", nil), ("/mcp/%5c", nil),
            // Path parameters: servlet containers cut `;…` before removing dot-segments.
            ("/mcp/..;/admin", nil), ("/mcp/..;jsessionid=1/admin", nil), ("/mcp/%2e%2e;/admin", nil), ("/mcp/.;/x", nil),
            ("/mcp/a;b", nil), ("/mcp;/x", nil), ("/mcp/..%3b/admin", nil), ("/mcp/..%3B/admin", nil), ("/mcp/a%3bb", nil),
            // An encoded percent: a second decoding makes it a dot, slash or semicolon.
            ("/mcp/%252e%252e/admin", nil), ("/mcp/%25", nil), ("/mcp/%2e%2E/admin", nil), ("/mcp/.%2e/admin", nil),
            // A combining mark after a slash: one grapheme with it, still a separator to the MCP server.
            ("/mcp/../\u{301}admin", nil), ("/mcp/\u{301}/../admin", nil),
            ("/mcp/a%20b", "/a%20b"), ("/mcp/...", "/..."), ("/mcp/.well-known", "/.well-known"),
        ] as [(String, String?)])
    func paths(_ path: String, _ expected: String?) {
        #expect(GatewayPath.suffix(path, below: "/mcp") == expected)
    }

    @Test(
        "RFC 9728 §3.1: the metadata URL inserts the well-known path between host and path",
        arguments: [
            ("https://mcp.example.com/mcp", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"),
            ("https://mcp.example.com:8443/a/b", "https://mcp.example.com:8443/.well-known/oauth-protected-resource/a/b"),
            ("https://mcp.example.com", "https://mcp.example.com/.well-known/oauth-protected-resource"),
            ("https://mcp.example.com/", "https://mcp.example.com/.well-known/oauth-protected-resource"),
        ])
    func metadataURL(_ resource: String, _ expected: String) {
        #expect(ProtectedResourceMetadata.url(for: resource) == expected)
    }

    @Test("RFC 9728 §2 document: the shim as authorization server, header bearer only, no offline_access")
    func metadataDocument() {
        let document = ProtectedResourceMetadata(resource: "https://m/mcp", issuer: "https://auth", scopes: ["mcp", "offline_access"])
        #expect(document.authorizationServers == ["https://auth"] && document.scopesSupported == ["mcp"])
        #expect(document.bearerMethodsSupported == ["header"])
    }
}
