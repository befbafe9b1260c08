import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ShimCore
import Testing

/// RFC 8414 §2 metadata, as docs/endpoints.md lists it, on both well-known names.
@Suite("Authorization server metadata")
struct MetadataTests {
    @Test(
        "metadata advertises the endpoints, S256 only, code, none, the grant types, iss and the scopes",
        arguments: ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"])
    func metadataFields(path: String) async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let response = try await client.get(path)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            let doc = response.json
            let issuer = ShimHarness.issuer
            // RFC 8414 §3.3: "The issuer value returned MUST be identical to the authorization server's issuer identifier".
            #expect(doc["issuer"] as? String == issuer)
            #expect(doc["authorization_endpoint"] as? String == issuer + "/authorize")
            #expect(doc["token_endpoint"] as? String == issuer + "/token")
            #expect(doc["registration_endpoint"] as? String == issuer + "/register")
            #expect(doc["revocation_endpoint"] as? String == issuer + "/revoke")
            // Rule 3: S256 only.
            #expect(doc["code_challenge_methods_supported"] as? [String] == ["S256"])
            #expect(doc["response_types_supported"] as? [String] == ["code"])
            #expect((doc["token_endpoint_auth_methods_supported"] as? [String])?.contains("none") == true)
            #expect((doc["grant_types_supported"] as? [String]).map(Set.init) == ["authorization_code", "refresh_token"])
            // RFC 9207 §3: the `iss` authorization response parameter.
            #expect(doc["authorization_response_iss_parameter_supported"] as? Bool == true)
            // True only when CIMD is enabled (clients switch to it when advertised).
            #expect(doc["client_id_metadata_document_supported"] as? Bool == false)
            let scopes = try #require(doc["scopes_supported"] as? [String])
            #expect(scopes.contains("mcp.read"))
            #expect(scopes.contains("mcp.write"))
        }
    }

    @Test("probes: /healthz and /readyz answer 200")
    func probes() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            #expect(try await client.get("/healthz").status == .ok)
            #expect(try await client.get("/readyz").status == .ok)
        }
    }

    // RFC 8414 §3.1: with an issuer path, the well-known segment goes between host and path;
    // the endpoints live below the issuer.
    @Test("an issuer with a path gets path-inserted metadata and endpoints below it")
    func issuerWithPath() async throws {
        let issuer = "http://127.0.0.1:8080/auth"
        let harness = try ShimHarness(overrides: ["issuer": .string(issuer)])
        try await harness.run { client async throws in
            let metadata = try await client.http.execute(uri: "/.well-known/oauth-authorization-server/auth", method: .get)
            #expect(metadata.status == .ok)
            #expect(metadata.json["issuer"] as? String == issuer)
            #expect(metadata.json["token_endpoint"] as? String == issuer + "/token")
            #expect(metadata.json["authorization_endpoint"] as? String == issuer + "/authorize")
            let registered = try await client.http.execute(
                uri: "/auth/register", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"redirect_uris":["http://127.0.0.1:1/cb"],"token_endpoint_auth_method":"none"}"#))
            #expect(registered.status == .created)
        }
    }
}
