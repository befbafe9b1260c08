import Foundation
import ShimCore
import Testing

/// RFC 7591 §2 client metadata and §3.2.2 errors; rule 1 for the redirect URIs.
@Suite("Registration metadata (RFC 7591 §2, §3.2.2)")
struct ClientMetadataTests {
    static let policy = RedirectPolicy(allowlist: RedirectAllowlist(clients: ["loopback", "claude"], allow: []))
    static let cb = "http://127.0.0.1/cb"

    static func parse(_ json: String) throws(OAuthError) -> ClientMetadata {
        try ClientMetadata.parse(json: Data(json.utf8), policy: policy, allowedScopes: ["mcp", "openid"])
    }

    /// A body with the given fields added to a valid redirect_uris.
    static func with(_ fields: String) -> String { #"{"redirect_uris":["http://127.0.0.1/cb"],\#(fields)}"# }

    @Test("a typical MCP client registration; unknown fields ignored (§2 \"MUST ignore\")")
    func typical() throws {
        let metadata = try Self.parse(#"{"redirect_uris":["http://127.0.0.1:5555/callback"],"client_name":"Claude Code","logo_uri":"https://x/y.png","software_id":"abc","jwks":{"keys":[]},"contacts":[1,{}],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"response_types":["code"],"scope":"mcp openid","client_uri":"https://claude.ai"}"#)
        #expect(metadata.redirectURIs == ["http://127.0.0.1:5555/callback"])
        #expect(metadata.clientName == "Claude Code" && metadata.clientURI == "https://claude.ai" && metadata.scope == "mcp openid")
        #expect(metadata.tokenEndpointAuthMethod == .none)
        #expect(metadata.grantTypes == ["authorization_code", "refresh_token"] && metadata.responseTypes == ["code"])
        #expect(metadata.responseFields["token_endpoint_auth_method"] as? String == "none")
        #expect(metadata.responseFields["logo_uri"] == nil && metadata.responseFields["software_id"] == nil)
    }

    @Test("§2 defaults: client_secret_basic, [authorization_code], [code]; null counts as absent")
    func defaults() throws {
        for json in [#"{"redirect_uris":["https://claude.ai/api/mcp/auth_callback"]}"#,
                     Self.with(#""token_endpoint_auth_method":null,"grant_types":null,"response_types":null,"client_name":null"#)] {
            let metadata = try Self.parse(json)
            #expect(metadata.tokenEndpointAuthMethod == .clientSecretBasic)
            #expect(metadata.grantTypes == ["authorization_code"] && metadata.responseTypes == ["code"])
            #expect(metadata.clientName == nil && metadata.scope == nil)
        }
        #expect(try Self.parse(Self.with(#""token_endpoint_auth_method":"client_secret_post""#)).tokenEndpointAuthMethod == .clientSecretPost)
    }

    @Test("§3.2.2: a body that is not a JSON object is invalid_client_metadata", arguments: [
        "", "{", "}", "[]", "\"x\"", "1", "null", "true", "{\"redirect_uris\":[\"http://127.0.0.1/cb\"]", "redirect_uris=x",
        "\u{feff}{", "{'redirect_uris':['http://127.0.0.1/cb']}",
    ])
    func notAnObject(_ body: String) {
        let error = #expect(throws: OAuthError.self) { try Self.parse(body) }
        #expect(error?.code == .invalidClientMetadata, "\(body.debugDescription)")
    }

    @Test("§3.2.2: missing, empty, non-array or non-string redirect_uris, or a disallowed one, is invalid_redirect_uri", arguments: [
        "{}", #"{"redirect_uris":[]}"#, #"{"redirect_uris":null}"#, #"{"redirect_uris":"http://127.0.0.1/cb"}"#,
        #"{"redirect_uris":{"0":"http://127.0.0.1/cb"}}"#, #"{"redirect_uris":[1]}"#, #"{"redirect_uris":[null]}"#,
        #"{"redirect_uris":[["http://127.0.0.1/cb"]]}"#, #"{"redirect_uris":[true]}"#, #"{"redirect_uris":[""]}"#,
        #"{"redirect_uris":["https://evil.example/cb"]}"#, #"{"redirect_uris":["http://127.0.0.1/cb","https://evil.example/cb"]}"#,
        #"{"redirect_uris":["http://127.0.0.1/cb#x"]}"#, #"{"redirect_uris":["http://u@127.0.0.1/cb"]}"#,
        #"{"redirect_uris":["http://127.0.0.1/%2e%2e/cb"]}"#, #"{"redirect_uris":["http://example.com/cb"]}"#,
        #"{"redirect_uris":["javascript://127.0.0.1/%0aalert(1)"]}"#, #"{"redirect_uris":["https://claude.ai/api/mcp/auth_callback/"]}"#,
        #"{"redirect_uri":"http://127.0.0.1/cb"}"#, #"{"Redirect_URIs":["http://127.0.0.1/cb"]}"#,
        #"{"redirect_uris":["http://127.0.0.1/cb\u0000"]}"#, #"{"redirect_uris":["http://127.0.0.1/c\u00e9"]}"#,
    ])
    func badRedirectURIs(_ json: String) {
        let error = #expect(throws: OAuthError.self) { try Self.parse(json) }
        #expect(error?.code == .invalidRedirectURI, "\(json)")
    }

    @Test("§2/§3.2.2: unsupported or mistyped fields are invalid_client_metadata", arguments: [
        #""grant_types":["password"]"#, #""grant_types":["refresh_token"]"#, #""grant_types":["authorization_code","implicit"]"#,
        #""grant_types":["authorization_code","client_credentials"]"#,
        #""grant_types":["urn:ietf:params:oauth:grant-type:jwt-bearer","authorization_code"]"#, #""grant_types":[]"#,
        #""grant_types":"authorization_code""#, #""grant_types":[1]"#, #""grant_types":["authorization_code",null]"#,
        #""response_types":["token"]"#, #""response_types":["code","token"]"#, #""response_types":["code id_token"]"#,
        #""response_types":[]"#, #""response_types":"code""#, #""response_types":["CODE"]"#,
        #""token_endpoint_auth_method":"private_key_jwt""#, #""token_endpoint_auth_method":"client_secret_jwt""#,
        #""token_endpoint_auth_method":"tls_client_auth""#, #""token_endpoint_auth_method":"None""#,
        #""token_endpoint_auth_method":"""#, #""token_endpoint_auth_method":5"#, #""token_endpoint_auth_method":["none"]"#,
        #""client_name":5"#, #""client_name":{"x":1}"#, #""client_name":["a"]"#, #""client_name":true"#,
        #""client_uri":"javascript:alert(1)""#, #""client_uri":"data:text/html,x""#, #""client_uri":"ftp://x""#, #""client_uri":5"#,
        #""client_uri":"//evil.example""#, #""scope":"admin""#, #""scope":"mcp admin""#, #""scope":5"#, #""scope":["mcp"]"#,
    ])
    func badFields(_ fields: String) {
        let error = #expect(throws: OAuthError.self) { try Self.parse(Self.with(fields)) }
        #expect(error?.code == .invalidClientMetadata, "\(fields)")
    }

    /// The name is shown on the consent page (rule 4): control characters, and
    /// bidirectional overrides that make `‮moc.elgoog` read as `google.com`, are refused.
    @Test("client_name with control or bidi-override characters is invalid_client_metadata", arguments: [
        "\\u0000", "\\u0007", "\\u0008", "\\t", "\\n", "\\r", "\\u001b[31m", "\\u007f", "\\u0085", "\\u009b",
        "\\u202e", "\\u202d", "\\u202a", "\\u202b", "\\u2066", "\\u2067", "\\u2068",
    ])
    func clientNameCharacters(_ escape: String) {
        let json = Self.with(#""client_name":"Claude\#(escape)moc.elgoog""#)
        let error = #expect(throws: OAuthError.self, "\(escape)") { try Self.parse(json) }
        if let error { #expect(error.code == .invalidClientMetadata) }
    }

    @Test("client_name: printable Unicode is kept as sent; at most 200 characters")
    func clientNameKept() throws {
        for name in ["Claude Code", "Éclair – 日本語 🚀", "a<b>&\"c'", String(repeating: "n", count: 200)] {
            let escaped = String(data: try JSONSerialization.data(withJSONObject: [name]), encoding: .utf8)!.dropFirst().dropLast()
            #expect(try Self.parse(Self.with(#""client_name":\#(escaped)"#)).clientName == name)
        }
        #expect(throws: OAuthError.self) { try Self.parse(Self.with(#""client_name":"\#(String(repeating: "n", count: 201))""#)) }
    }

    @Test("at most 10 redirect URIs; duplicates collapse; order kept")
    func limits() throws {
        let uris = (0..<11).map { "\"http://127.0.0.1:\($0 + 1000)/cb\"" }
        let eleven = try? Self.parse(#"{"redirect_uris":[\#(uris.joined(separator: ","))]}"#)
        #expect(eleven == nil)
        let ten = try Self.parse(#"{"redirect_uris":[\#(uris.prefix(10).joined(separator: ","))]}"#)
        #expect(ten.redirectURIs.count == 10 && ten.redirectURIs.first == "http://127.0.0.1:1000/cb")
        let dup = try Self.parse(#"{"redirect_uris":["http://127.0.0.1/b","http://127.0.0.1/a","http://127.0.0.1/b"]}"#)
        #expect(dup.redirectURIs == ["http://127.0.0.1/b", "http://127.0.0.1/a"])
    }
}
