import Foundation
import ShimCore
import Testing

/// A Client ID Metadata Document as the shim accepts it (SEP-991,
/// draft-ietf-oauth-client-id-metadata-document §4): registration's member
/// checks, plus client_id equal to the URL, no shared secret, `none` auth.
@Suite("CIMD: metadata document validation")
struct CIMDDocumentTests {
    static let url = "https://app.example.com/oauth/client.json"
    static let allowlist = RedirectAllowlist(clients: ["loopback"], allow: [])

    static func parse(_ json: String, url: String = url) throws(OAuthError) -> CIMDDocument {
        let id: CIMDClientID
        do { id = try CIMDClientID(validating: url) } catch { throw error }
        return try CIMDDocument.parse(
            Data(json.utf8), clientID: id, allowlist: allowlist,
            scopes: ResourcePolicy(resources: [.init(resource: "https://mcp.example.com/mcp", scopes: ["mcp"])], upstreamScopes: ["openid"]))
    }

    static func doc(_ extra: String = "", clientID: String = url, redirects: String = #"["http://127.0.0.1/callback"]"#) -> String {
        #"{"client_id":"\#(clientID)","client_name":"Example MCP Client","redirect_uris":\#(redirects)\#(extra)}"#
    }

    @Test("the spec's example document is accepted; auth defaults to none; the client is public")
    func example() throws {
        let json =
            #"{"client_id":"https://app.example.com/oauth/client.json","client_name":"Example MCP Client","client_uri":"https://app.example.com","logo_uri":"https://app.example.com/logo.png","redirect_uris":["http://127.0.0.1:3000/callback","http://localhost:3000/callback"],"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none"}"#
        let document = try Self.parse(json)
        #expect(document.metadata.clientName == "Example MCP Client" && document.metadata.tokenEndpointAuthMethod == .none)
        #expect(document.metadata.redirectURIs == ["http://127.0.0.1:3000/callback", "http://localhost:3000/callback"])
        #expect(document.redirectsAreAllLoopback && document.documentHash.count == 16)
        let client = document.client(firstSeen: Date(timeIntervalSince1970: 0))
        #expect(client.clientID == Self.url && client.clientSecretHash == nil && client.tokenEndpointAuthMethod == .none)
        #expect(client.grantTypes == ["authorization_code", "refresh_token"])
        #expect(try Self.parse(Self.doc()).metadata.tokenEndpointAuthMethod == .none, "absent means none")
        #expect(try Self.parse(Self.doc()).documentHash != document.documentHash)
    }

    @Test(
        "§4: client_id must be the fetched URL, byte for byte",
        arguments: [
            "https://app.example.com/oauth/client.json/", "https://app.example.com:443/oauth/client.json",
            "https://APP.example.com/oauth/client.json", "https://app.example.com/oauth/client.JSON",
            "https://app.example.com/oauth/other.json", "https://evil.example/oauth/client.json", "",
        ])
    func mismatch(_ declared: String) {
        let error = #expect(throws: OAuthError.self) { try Self.parse(Self.doc(clientID: declared)) }
        #expect(error?.code == .invalidClient && error?.status == 400 && error?.description.contains("client_id") == true, "\(declared)")
    }

    @Test(
        "§4.1: no shared secret; private_key_jwt is refused by name",
        arguments: [
            (#","client_secret":"s3cret""#, "client_secret"), (#","client_secret_expires_at":0"#, "client_secret"),
            (#","token_endpoint_auth_method":"client_secret_basic""#, "client_secret_basic"),
            (#","token_endpoint_auth_method":"client_secret_post""#, "client_secret_post"),
            (#","token_endpoint_auth_method":"client_secret_jwt""#, "client_secret_jwt"),
            (#","token_endpoint_auth_method":"private_key_jwt","jwks_uri":"https://app.example.com/jwks""#, "private_key_jwt"),
            (#","token_endpoint_auth_method":"tls_client_auth""#, "tls_client_auth"), (#","token_endpoint_auth_method":7"#, "string"),
        ])
    func secrets(_ extra: String, _ named: String) {
        let error = #expect(throws: OAuthError.self) { try Self.parse(Self.doc(extra)) }
        #expect(error?.code == .invalidClient && error?.description.contains(named) == true, "\(extra): \(error?.description ?? "")")
    }

    @Test(
        "structure: JSON object, no repeated member, client_id and redirect_uris required",
        arguments: [
            "", "[]", "null", #"{"client_id":"https://app.example.com/oauth/client.json"}"#,
            #"{"redirect_uris":["http://127.0.0.1/callback"]}"#, #"{"client_id":1,"redirect_uris":["http://127.0.0.1/callback"]}"#,
            #"{"client_id":"https://app.example.com/oauth/client.json","client_id":"https://app.example.com/oauth/client.json","redirect_uris":["http://127.0.0.1/callback"]}"#,
        ])
    func structure(_ json: String) {
        let error = #expect(throws: OAuthError.self) { try Self.parse(json) }
        #expect(error?.code == .invalidClient, "\(json)")
    }

    @Test("redirect URIs: rule 1's shape for each; the allowlist applies at /authorize, not here")
    func redirects() throws {
        let mixed = try Self.parse(Self.doc(redirects: #"["https://app.example.com/cb","http://127.0.0.1/callback"]"#))
        #expect(mixed.metadata.redirectURIs.count == 2 && !mixed.redirectsAreAllLoopback)
        for bad in [
            #"["javascript://x/%0aalert(1)"]"#, #"["https://app.example.com/cb#f"]"#, #"["http://app.example.com/cb"]"#,
            #"["cursor://anysphere.cursor-mcp/oauth/callback"]"#, #"[]"#, #"["http://127.0.0.1/%2e%2e/cb"]"#,
        ] {
            #expect(throws: OAuthError.self, "\(bad)") { try Self.parse(Self.doc(redirects: bad)) }
        }
        // SEP-837 applies to documents too.
        #expect(throws: OAuthError.self) { try Self.parse(Self.doc(#","application_type":"web""#)) }
        #expect(try Self.parse(Self.doc(#","application_type":"native""#)).metadata.applicationType == .native)
    }

    @Test("member checks are registration's: grant types, scope, display text")
    func members() throws {
        for extra in [
            #","grant_types":["client_credentials"]"#, #","scope":5"#, #","client_name":"App\u202Egnp.exe""#,
            #","response_types":["token"]"#,
        ] {
            #expect(throws: OAuthError.self, "\(extra)") { try Self.parse(Self.doc(extra)) }
        }
        // Scope values the server does not offer are dropped, as at /register (RFC 7591 §2).
        #expect(try Self.parse(Self.doc(#","scope":"mcp admin""#)).metadata.scope == "mcp")
        #expect(try Self.parse(Self.doc(#","scope":"admin""#)).metadata.scope == nil)
    }
}
