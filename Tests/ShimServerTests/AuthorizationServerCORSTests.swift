import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ShimCore
import Testing

/// Rule 17 through the router: a browser MCP client (MCP Inspector in direct
/// mode, a web client) may call discovery, /register, /token, /revoke and
/// /jwks.json from any origin and read every answer, errors included; the
/// browser-navigation endpoints, /introspect and the probes get no CORS.
@Suite("CORS on the authorization server's endpoints (rule 17)")
struct AuthorizationServerCORSTests {
    /// The MCP Inspector's origin.
    static let origin = "http://localhost:6274"

    static func preflightHeaders(method: String) -> HTTPFields {
        [
            .origin: origin, .accessControlRequestMethod: method,
            .accessControlRequestHeaders: "authorization,content-type,mcp-protocol-version",
        ]
    }

    @Test(
        "a preflight from any origin is answered 204 before the endpoint: any origin, the endpoint's methods, the allowed headers",
        arguments: [
            ("/.well-known/oauth-authorization-server", "GET"), ("/.well-known/openid-configuration", "GET"), ("/jwks.json", "GET"),
            ("/register", "POST"), ("/token", "POST"), ("/revoke", "POST"),
        ])
    func preflight(path: String, method: String) async throws {
        let harness = try await IssuedHarness.make()
        try await harness.run { client async throws in
            let response = try await client.http.execute(uri: path, method: .options, headers: Self.preflightHeaders(method: method))
            #expect(response.status == .noContent, "\(path): \(response.status)")
            #expect(response.headers[.accessControlAllowOrigin] == "*")
            #expect(response.headers[.accessControlAllowMethods] == method + ", OPTIONS")
            #expect(response.headers[.accessControlAllowHeaders] == "Authorization, Content-Type, MCP-Protocol-Version")
            #expect(response.headers[.accessControlMaxAge] == String(CORSPolicy.maxAgeSeconds))
            #expect(response.headers[.accessControlAllowCredentials] == nil)
            #expect(response.body.readableBytes == 0)
        }
    }

    /// One request a browser client makes, from another origin.
    enum Call: String, CaseIterable, Sendable {
        case metadata, openIDConfiguration, keys, register, tokenInvalidGrant, tokenBadSecret, revoke

        /// Sends the call; returns the answer and the status it must have.
        func send(_ client: ShimClient) async throws -> (TestResponse, HTTPResponse.Status) {
            let origin: HTTPFields = [.origin: AuthorizationServerCORSTests.origin]
            switch self {
            case .metadata:
                let headers: HTTPFields = [.origin: AuthorizationServerCORSTests.origin, HTTPField.Name("MCP-Protocol-Version")!: "2025-06-18"]
                return (try await client.get("/.well-known/oauth-authorization-server", headers: headers), .ok)
            case .openIDConfiguration:
                return (try await client.get("/.well-known/openid-configuration", headers: origin), .ok)
            case .keys:
                return (try await client.get("/jwks.json", headers: origin), .ok)
            case .register:
                let body = #"{"redirect_uris":["http://127.0.0.1:33418/callback"],"token_endpoint_auth_method":"none"}"#
                return (try await client.registerRaw(body, headers: origin), .created)
            case .tokenInvalidGrant:
                let app = try await client.register()
                let (form, headers) = app.authenticate([
                    ("grant_type", "authorization_code"), ("code", "not-a-code"), ("code_verifier", RFC7636.verifier),
                    ("redirect_uri", app.redirectURI),
                ])
                var fields = headers
                fields[.origin] = AuthorizationServerCORSTests.origin
                return (try await client.post("/token", form: form, headers: fields), .badRequest)
            case .tokenBadSecret:
                var app = try await client.register(authMethod: "client_secret_basic")
                app.secret = "not-the-secret"
                let (form, headers) = app.authenticate([("grant_type", "refresh_token"), ("refresh_token", "x")])
                var fields = headers
                fields[.origin] = AuthorizationServerCORSTests.origin
                return (try await client.post("/token", form: form, headers: fields), .unauthorized)
            case .revoke:
                let app = try await client.register()
                let (form, headers) = app.authenticate([("token", "unknown-token")])
                var fields = headers
                fields[.origin] = AuthorizationServerCORSTests.origin
                return (try await client.post("/revoke", form: form, headers: fields), .ok)
            }
        }
    }

    @Test("every answer, errors included, is readable from any origin, exposes the challenge, and never allows credentials", arguments: Call.allCases)
    func actualRequest(_ call: Call) async throws {
        let harness = try await IssuedHarness.make()
        try await harness.run { client async throws in
            let (response, status) = try await call.send(client)
            #expect(response.status == status, "\(call): \(response.text)")
            #expect(response.headers[.accessControlAllowOrigin] == "*", "\(call)")
            #expect(response.headers[.accessControlExposeHeaders] == "WWW-Authenticate, Retry-After", "\(call)")
            #expect(response.headers[.accessControlAllowCredentials] == nil)
            // The same answer whatever the Origin: no Vary needed for the cached documents.
            #expect(response.headers[.vary] == nil)
            if call == .tokenInvalidGrant { #expect(response.oauthError == "invalid_grant") }
            if call == .tokenBadSecret {
                #expect(response.oauthError == "invalid_client" && response.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
            }
        }
    }

    @Test(
        "the browser-navigation endpoints, /introspect and the probes: no CORS headers, and a preflight is not answered 204",
        arguments: [
            ("/authorize", "GET"), ("/consent", "GET"), ("/consent", "POST"), ("/callback", "GET"), ("/introspect", "POST"),
            ("/metrics", "GET"), ("/healthz", "GET"), ("/readyz", "GET"),
        ])
    func closed(path: String, method: String) async throws {
        let harness = try await IssuedHarness.make()
        try await harness.run { client async throws in
            let preflight = try await client.http.execute(uri: path, method: .options, headers: Self.preflightHeaders(method: method))
            #expect(preflight.status != .noContent && preflight.status != .ok, "\(path): \(preflight.status)")
            #expect(preflight.headers[.accessControlAllowOrigin] == nil && preflight.headers[.accessControlAllowMethods] == nil)
            let actual = try await client.http.execute(
                uri: path, method: method == "POST" ? .post : .get,
                headers: [.origin: Self.origin, .contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: "token=x"))
            #expect(actual.headers[.accessControlAllowOrigin] == nil, "\(path): \(actual.status)")
            #expect(actual.headers[.accessControlExposeHeaders] == nil && actual.headers[.accessControlAllowCredentials] == nil)
        }
    }

    @Test("with an issuer path: the endpoints below it and the path-inserted metadata, not the root names")
    func issuerPath() async throws {
        let harness = try ShimHarness(overrides: ["issuer": .string("http://127.0.0.1:8080/auth")])
        try await harness.run { client async throws in
            for (path, method, answered) in [
                ("/auth/token", "POST", true), ("/auth/register", "POST", true),
                ("/.well-known/oauth-authorization-server/auth", "GET", true), ("/auth/.well-known/openid-configuration", "GET", true),
                ("/token", "POST", false), ("/auth/authorize", "GET", false),
            ] {
                let response = try await client.http.execute(uri: path, method: .options, headers: Self.preflightHeaders(method: method))
                #expect((response.status == .noContent) == answered, "\(path): \(response.status)")
                #expect((response.headers[.accessControlAllowOrigin] == "*") == answered, "\(path)")
            }
            let metadata = try await client.get("/.well-known/oauth-authorization-server/auth", headers: [.origin: Self.origin])
            #expect(metadata.status == .ok && metadata.headers[.accessControlAllowOrigin] == "*")
        }
    }
}
