import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimStorage
import Testing

/// POST /register: RFC 7591 §3 and security rule 1.
@Suite("Dynamic client registration (RFC 7591)")
struct RegisterTests {
    // RFC 7591 §3.2.1: 201 with client_id; a public client (`none`) gets no secret.
    @Test("a public client gets 201, a shim-issued client_id, no secret, Cache-Control no-store")
    func registerPublicClient() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let response = try await client.registerRaw(
                """
                {"redirect_uris":["\(ShimHarness.loopbackRedirect)"],"token_endpoint_auth_method":"none",
                 "grant_types":["authorization_code","refresh_token"],"client_name":"Claude Code"}
                """)
            #expect(response.status == .created)
            #expect(response.headers[.cacheControl] == "no-store")
            let body = response.json
            let clientID = try #require(body["client_id"] as? String)
            #expect(!clientID.isEmpty)
            #expect(clientID != ShimHarness.upstreamClientID)
            #expect(body["client_secret"] == nil)
            #expect(body["token_endpoint_auth_method"] as? String == "none")
            #expect(body["redirect_uris"] as? [String] == [ShimHarness.loopbackRedirect])
        }
    }

    // RFC 7591 §2: token_endpoint_auth_method defaults to client_secret_basic, which gets a secret.
    @Test(
        "a confidential client gets a client_secret (default method client_secret_basic)",
        arguments: [nil, "client_secret_basic", "client_secret_post"])
    func registerConfidentialClient(method: String?) async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let field = method.map { #","token_endpoint_auth_method":"\#($0)""# } ?? ""
            let response = try await client.registerRaw(#"{"redirect_uris":["\#(ShimHarness.allowedHTTPS)"]\#(field)}"#)
            #expect(response.status == .created)
            #expect(response.headers[.cacheControl] == "no-store")
            let secret = try #require(response.json["client_secret"] as? String)
            #expect(secret.count >= 32)
            #expect(response.json["client_secret_expires_at"] as? Int == 0)
            #expect(response.json["token_endpoint_auth_method"] as? String == method ?? "client_secret_basic")
        }
    }

    @Test("two registrations get different client_ids")
    func clientIDsAreUnique() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let first = try await client.register()
            let second = try await client.register()
            #expect(first.clientID != second.clientID)
        }
    }

    /// Registration bodies that must be refused, with the RFC 7591 §3.2.2 error.
    static let rejections: [(String, String, String)] = [
        ("redirect not on the operator allowlist", #"{"redirect_uris":["https://evil.example.com/cb"]}"#, "invalid_redirect_uri"),
        ("http on a non-loopback host", #"{"redirect_uris":["http://app.example.com/oauth/callback"]}"#, "invalid_redirect_uri"),
        ("fragment", #"{"redirect_uris":["https://app.example.com/oauth/callback#frag"]}"#, "invalid_redirect_uri"),
        ("userinfo", #"{"redirect_uris":["https://app.example.com@evil.example.com/oauth/callback"]}"#, "invalid_redirect_uri"),
        ("dot-segment", #"{"redirect_uris":["http://127.0.0.1:3000/a/../callback"]}"#, "invalid_redirect_uri"),
        ("encoded dot-segment", #"{"redirect_uris":["http://127.0.0.1:3000/a/%2e%2e/callback"]}"#, "invalid_redirect_uri"),
        ("wildcard", #"{"redirect_uris":["https://*.example.com/cb"]}"#, "invalid_redirect_uri"),
        ("javascript scheme", #"{"redirect_uris":["javascript:alert(1)"]}"#, "invalid_redirect_uri"),
        ("no redirect_uris", #"{"client_name":"x"}"#, "invalid_redirect_uri"),
        ("one bad among good", #"{"redirect_uris":["http://127.0.0.1:1/cb","https://evil.example.com/cb"]}"#, "invalid_redirect_uri"),
        ("implicit grant", #"{"redirect_uris":["http://127.0.0.1:1/cb"],"grant_types":["implicit"]}"#, "invalid_client_metadata"),
        ("token response type", #"{"redirect_uris":["http://127.0.0.1:1/cb"],"response_types":["token"]}"#, "invalid_client_metadata"),
        (
            "unsupported auth method", #"{"redirect_uris":["http://127.0.0.1:1/cb"],"token_endpoint_auth_method":"private_key_jwt"}"#,
            "invalid_client_metadata"
        ),
        ("client_name not a string", #"{"redirect_uris":["http://127.0.0.1:1/cb"],"client_name":42}"#, "invalid_client_metadata"),
        ("scope not a scope list", #"{"redirect_uris":["http://127.0.0.1:1/cb"],"scope":"mcp.read \"admin\""}"#, "invalid_client_metadata"),
        ("JSON array body", #"[{"redirect_uris":["http://127.0.0.1:1/cb"]}]"#, "invalid_client_metadata"),
        ("malformed JSON", #"{"redirect_uris":["http://127.0.0.1:1/cb"]"#, "invalid_client_metadata"),
        (
            "repeated member", #"{"redirect_uris":["http://127.0.0.1:1/cb"],"redirect_uris":["http://127.0.0.1:2/cb"]}"#,
            "invalid_client_metadata"
        ),
        (
            "repeated member through an escape",
            #"{"token_endpoint_auth_method":"none","redirect_uris":["http://127.0.0.1:1/cb"],"token_endpoint_auth_m\u0065thod":"client_secret_basic"}"#,
            "invalid_client_metadata"
        ),
        ("repeated member, nested", #"{"redirect_uris":["http://127.0.0.1:1/cb"],"jwks":{"keys":[],"keys":[]}}"#, "invalid_client_metadata"),
    ]

    // Rule 1; RFC 7591 §3.2.2: 400 with `invalid_redirect_uri` or `invalid_client_metadata`.
    @Test("a bad registration is refused with 400 and the RFC 7591 error", arguments: rejections)
    func registrationRejected(name: String, body: String, error: String) async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let response = try await client.registerRaw(body)
            #expect(response.status == .badRequest, "\(name)")
            #expect(response.oauthError == error, "\(name): \(response.text)")
            #expect(response.headers[.cacheControl] == "no-store")
            #expect(try await harness.store.countClients() == 0)
        }
    }
}
