import Foundation
import ShimCore
import Testing

@Suite("Registration metadata (RFC 7591 §2, §3.2.2)")
struct ClientMetadataTests {
    static let policy = RedirectPolicy(allowlist: RedirectAllowlist(clients: ["loopback", "claude"], allow: []))

    static func parse(_ json: String) throws(OAuthError) -> ClientMetadata {
        try ClientMetadata.parse(json: Data(json.utf8), policy: policy, allowedScopes: ["mcp", "openid"])
    }

    @Test("a typical MCP client registration; unknown fields ignored; defaults per §2")
    func typical() throws {
        let metadata = try Self.parse(#"{"redirect_uris":["http://127.0.0.1:5555/callback"],"client_name":"Claude Code","logo_uri":"https://x/y.png","software_id":"abc","token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"scope":"mcp"}"#)
        #expect(metadata.redirectURIs == ["http://127.0.0.1:5555/callback"])
        #expect(metadata.tokenEndpointAuthMethod == .none)
        #expect(metadata.grantTypes == ["authorization_code", "refresh_token"])
        let defaults = try Self.parse(#"{"redirect_uris":["https://claude.ai/api/mcp/auth_callback"]}"#)
        #expect(defaults.tokenEndpointAuthMethod == .clientSecretBasic)
        #expect(defaults.grantTypes == ["authorization_code"] && defaults.responseTypes == ["code"])
    }

    @Test("bad bodies are invalid_client_metadata or invalid_redirect_uri", arguments: [
        ("{", OAuthError.Code.invalidClientMetadata),
        ("[]", .invalidClientMetadata),
        ("\"x\"", .invalidClientMetadata),
        ("{}", .invalidRedirectURI),
        (#"{"redirect_uris":[]}"#, .invalidRedirectURI),
        (#"{"redirect_uris":"http://127.0.0.1/cb"}"#, .invalidRedirectURI),
        (#"{"redirect_uris":[1]}"#, .invalidRedirectURI),
        (#"{"redirect_uris":["https://evil.example/cb"]}"#, .invalidRedirectURI),
        (#"{"redirect_uris":["http://127.0.0.1/cb"],"grant_types":["password"]}"#, .invalidClientMetadata),
        (#"{"redirect_uris":["http://127.0.0.1/cb"],"grant_types":["refresh_token"]}"#, .invalidClientMetadata),
        (#"{"redirect_uris":["http://127.0.0.1/cb"],"grant_types":"authorization_code"}"#, .invalidClientMetadata),
        (#"{"redirect_uris":["http://127.0.0.1/cb"],"response_types":["token"]}"#, .invalidClientMetadata),
        (#"{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"private_key_jwt"}"#, .invalidClientMetadata),
        (#"{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":5}"#, .invalidClientMetadata),
        (#"{"redirect_uris":["http://127.0.0.1/cb"],"client_name":"a\u0007b"}"#, .invalidClientMetadata),
        (#"{"redirect_uris":["http://127.0.0.1/cb"],"client_name":{"x":1}}"#, .invalidClientMetadata),
        (#"{"redirect_uris":["http://127.0.0.1/cb"],"client_uri":"javascript:alert(1)"}"#, .invalidClientMetadata),
        (#"{"redirect_uris":["http://127.0.0.1/cb"],"scope":"admin"}"#, .invalidClientMetadata),
    ])
    func refused(_ json: String, _ code: OAuthError.Code) {
        let error = #expect(throws: OAuthError.self) { try Self.parse(json) }
        #expect(error?.code == code, "\(json)")
    }

    @Test("at most 10 redirect URIs; duplicates collapse")
    func limits() throws {
        let eleven = (0..<11).map { "\"http://127.0.0.1:\($0 + 1000)/cb\"" }.joined(separator: ",")
        #expect(throws: OAuthError.self) { try Self.parse(#"{"redirect_uris":[\#(eleven)]}"#) }
        let dup = try Self.parse(#"{"redirect_uris":["http://127.0.0.1/cb","http://127.0.0.1/cb"]}"#)
        #expect(dup.redirectURIs.count == 1)
    }
}
