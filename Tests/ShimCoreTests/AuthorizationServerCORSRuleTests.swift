import ShimCore
import Testing

/// Rule 17: which paths of the authorization server get CORS, with and
/// without an issuer path, and what the answers say.
@Suite("Rule 17: CORS on the authorization server's public endpoints")
struct AuthorizationServerCORSRuleTests {
    @Test(
        "discovery, the key set, /register, /token and /revoke only; never the browser-navigation endpoints, /introspect or the probes",
        arguments: [
            ("", "/.well-known/oauth-authorization-server", "GET, OPTIONS"),
            ("", "/.well-known/openid-configuration", "GET, OPTIONS"),
            ("", "/jwks.json", "GET, OPTIONS"),
            ("", "/register", "POST, OPTIONS"), ("", "/token", "POST, OPTIONS"), ("", "/revoke", "POST, OPTIONS"),
            ("", "/authorize", nil), ("", "/consent", nil), ("", "/callback", nil), ("", "/introspect", nil),
            ("", "/metrics", nil), ("", "/healthz", nil), ("", "/readyz", nil), ("", "/", nil),
            ("", "/token/", nil), ("", "/Token", nil), ("", "/token/x", nil), ("", "//token", nil),
            ("", "/.well-known/oauth-protected-resource/mcp", nil), ("", "/mcp", nil),
            // RFC 8414 §3.1 inserts the issuer's path; OpenID Connect Discovery §4.1 appends to it.
            ("/auth", "/.well-known/oauth-authorization-server/auth", "GET, OPTIONS"),
            ("/auth", "/.well-known/openid-configuration/auth", "GET, OPTIONS"),
            ("/auth", "/auth/.well-known/openid-configuration", "GET, OPTIONS"),
            ("/auth", "/auth/jwks.json", "GET, OPTIONS"), ("/auth", "/auth/token", "POST, OPTIONS"),
            ("/auth", "/auth/register", "POST, OPTIONS"), ("/auth", "/auth/revoke", "POST, OPTIONS"),
            ("/auth", "/token", nil), ("/auth", "/.well-known/oauth-authorization-server", nil),
            ("/auth", "/auth/authorize", nil), ("/auth", "/auth/consent", nil), ("/auth", "/auth/introspect", nil),
        ] as [(String, String, String?)])
    func paths(_ prefix: String, _ path: String, _ methods: String?) {
        #expect(CORSPolicy.authorizationServerMethods(path: path, pathPrefix: prefix) == methods)
    }

    @Test("any origin, never credentials; a fixed header list; the challenge and Retry-After readable")
    func headers() {
        let preflight = Dictionary(
            uniqueKeysWithValues: CORSPolicy.authorizationServerPreflightHeaders(methods: "POST, OPTIONS").map { ($0.name, $0.value) })
        #expect(
            preflight == [
                "Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "POST, OPTIONS",
                "Access-Control-Allow-Headers": "Authorization, Content-Type, MCP-Protocol-Version",
                "Access-Control-Max-Age": String(CORSPolicy.maxAgeSeconds),
            ])
        let response = Dictionary(uniqueKeysWithValues: CORSPolicy.authorizationServerResponseHeaders.map { ($0.name, $0.value) })
        #expect(response == ["Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "WWW-Authenticate, Retry-After"])
    }
}
