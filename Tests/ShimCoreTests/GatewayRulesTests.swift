import ShimCore
import Testing

/// The gateway's pure rules: bearer credentials and challenges (RFC 6750,
/// RFC 9728 §5.1), Origin (MCP Streamable HTTP), hop-by-hop headers (RFC 9110
/// §7.6.1), protected-resource metadata URLs (RFC 9728 §3.1).
@Suite("Gateway rules")
struct GatewayRulesTests {
    @Test("bearer credentials (RFC 6750 §2.1)", arguments: [
        (nil, BearerChallenge.Credential.absent),
        ("Basic dXNlcjpwYXNz", .absent),                  // another scheme: a challenge without error
        ("Bearer", .absent),
        ("Bearerabc", .absent),
        ("Bearer abc.def-ghi_jkl~mno+p/q==", .token("abc.def-ghi_jkl~mno+p/q==")),
        ("bearer abc", .token("abc")),                    // the scheme is case-insensitive
        ("BEARER   abc  ", .token("abc")),
        ("Bearer ", .malformed),
        ("Bearer a b", .malformed),
        ("Bearer a=b", .malformed),                       // padding only at the end
        ("Bearer a\"b", .malformed),
        ("Bearer é", .malformed),
    ] as [(String?, BearerChallenge.Credential)])
    func credentials(_ header: String?, _ expected: BearerChallenge.Credential) {
        #expect(BearerChallenge.credential(header) == expected)
    }

    @Test("challenges: resource_metadata and scope from configuration, no offline_access, error only with a token")
    func challenges() {
        #expect(BearerChallenge.header(resourceMetadata: "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
                                       scope: ["mcp.read", "offline_access", "mcp.write"])
                == #"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp.read mcp.write""#)
        #expect(BearerChallenge.header(resourceMetadata: "https://m/x", scope: ["offline_access"], error: "invalid_token", description: "the token has expired")
                == #"Bearer resource_metadata="https://m/x", error="invalid_token", error_description="the token has expired""#)
        // Quoted-string: a quote or backslash is escaped, a control character dropped.
        #expect(BearerChallenge.header(resourceMetadata: "https://m/x", scope: [], error: "e", description: "a \"b\" \\ c\r\nd")
                == #"Bearer resource_metadata="https://m/x", error="e", error_description="a \"b\" \\ cd""#)
    }

    @Test("Origin: absent allowed; present must be listed; normalised per RFC 6454", arguments: [
        (nil, true),
        ("https://mcp.example.com", true),
        ("HTTPS://MCP.EXAMPLE.COM", true),
        ("https://mcp.example.com:443", true),
        ("https://mcp.example.com/", true),
        ("http://mcp.example.com", false),                 // another scheme is another origin
        ("https://mcp.example.com:8443", false),
        ("https://evil.example", false),
        ("https://mcp.example.com.evil.example", false),
        ("null", false),                                   // opaque origins only when configured
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

    @Test("request headers: Authorization, Host, cookies, hop-by-hop, Connection-listed and injected names are not forwarded", arguments: [
        ("Authorization", false), ("host", false), ("Cookie", false), ("Connection", false), ("Keep-Alive", false),
        ("Transfer-Encoding", false), ("TE", false), ("Trailer", false), ("Upgrade", false), ("Proxy-Authorization", false),
        ("Proxy-Connection", false), ("Content-Length", false), ("X-Secret-Hop", false), ("x-forwarded-user", false),
        ("X-Upstream-Token", false),
        ("Mcp-Method", true), ("Mcp-Name", true), ("Mcp-Session-Id", true), ("MCP-Protocol-Version", true), ("Accept", true),
        ("Content-Type", true), ("Last-Event-ID", true), ("Mcp-Param-Region", true), ("User-Agent", true),
    ])
    func requestHeaders(_ name: String, _ forwarded: Bool) {
        let tokens = ProxyHeaderPolicy.connectionTokens(["keep-alive, X-Secret-Hop", " close"])
        let injected: Set<String> = ["x-forwarded-user", "x-upstream-token"]
        #expect(ProxyHeaderPolicy.forwardsRequestHeader(name, connectionTokens: tokens, injected: injected) == forwarded)
    }

    @Test("response headers: hop-by-hop and Connection-listed dropped; Content-Length, Mcp-Session-Id, X-Accel-Buffering kept")
    func responseHeaders() {
        let tokens = ProxyHeaderPolicy.connectionTokens(["X-Internal"])
        for name in ["Transfer-Encoding", "Connection", "Keep-Alive", "X-Internal", "Upgrade"] {
            #expect(!ProxyHeaderPolicy.forwardsResponseHeader(name, connectionTokens: tokens), "\(name)")
        }
        for name in ["Content-Length", "Content-Type", "Mcp-Session-Id", "X-Accel-Buffering", "Cache-Control"] {
            #expect(ProxyHeaderPolicy.forwardsResponseHeader(name, connectionTokens: tokens), "\(name)")
        }
    }

    @Test("paths below the resource: dot-segments (also encoded), empty segments and backslashes never reach the MCP server", arguments: [
        ("/mcp", ""), ("/mcp/", "/"), ("/mcp/a/b", "/a/b"), ("/mcp/a.b/..c", "/a.b/..c"),
        ("/mcpx", nil), ("/other", nil), ("/mcp/../admin", nil), ("/mcp/./x", nil), ("/mcp/%2e%2e/admin", nil), ("/mcp/%2E./x", nil),
        ("/mcp/a/..", nil), ("/mcp//admin", nil), ("/mcp/a%2fb", nil), ("/mcp/a\\..\\b", nil), ("/mcp/%5c", nil),
    ] as [(String, String?)])
    func paths(_ path: String, _ expected: String?) {
        #expect(GatewayPath.suffix(path, below: "/mcp") == expected)
    }

    @Test("RFC 9728 §3.1: the metadata URL inserts the well-known path between host and path", arguments: [
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
