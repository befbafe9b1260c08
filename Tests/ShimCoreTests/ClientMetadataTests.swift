import Foundation
import ShimCore
import Testing

/// RFC 7591 §2 client metadata and §3.2.2 errors; rule 1 for the redirect URIs.
@Suite("Registration metadata (RFC 7591 §2, §3.2.2)")
struct ClientMetadataTests {
    static let policy = RedirectPolicy(allowlist: RedirectAllowlist(clients: ["loopback", "claude"], allow: []))
    static let cb = "http://127.0.0.1/cb"

    static func parse(_ json: String, assertionGrant: Bool = false) throws(OAuthError) -> ClientMetadata {
        try ClientMetadata.parse(
            json: Data(json.utf8), policy: policy,
            scopes: ResourcePolicy(resources: [.init(resource: "https://mcp.example.com/mcp", scopes: ["mcp"])], upstreamScopes: ["openid"]),
            assertionGrant: assertionGrant)
    }

    @Test("the jwt-bearer grant (ID-JAG): only where the shim accepts assertions, and only for a confidential client")
    func assertionGrant() throws {
        let grants = #""grant_types":["authorization_code","urn:ietf:params:oauth:grant-type:jwt-bearer"]"#
        let confidential = Self.with(grants + #","token_endpoint_auth_method":"client_secret_post""#)
        #expect(throws: OAuthError.self) { try Self.parse(confidential) }
        #expect(try Self.parse(confidential, assertionGrant: true).grantTypes.contains("urn:ietf:params:oauth:grant-type:jwt-bearer"))
        let error = #expect(throws: OAuthError.self) {
            try Self.parse(Self.with(grants + #","token_endpoint_auth_method":"none""#), assertionGrant: true)
        }
        #expect(error?.code == .invalidClientMetadata && error?.description.contains("confidential") == true)
        // Other grants stay refused either way.
        #expect(throws: OAuthError.self) {
            try Self.parse(
                Self.with(#""grant_types":["authorization_code","client_credentials"],"token_endpoint_auth_method":"client_secret_post""#),
                assertionGrant: true)
        }
    }

    /// The §3.2.1 response as a JSON object, to look at it as a client would.
    static func responseObject(_ information: ClientInformation) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: information.jsonBody()) as? [String: Any])
    }

    /// A body with the given fields added to a valid redirect_uris.
    static func with(_ fields: String) -> String { #"{"redirect_uris":["http://127.0.0.1/cb"],\#(fields)}"# }

    @Test("a typical MCP client registration; unknown fields ignored (§2 \"MUST ignore\")")
    func typical() throws {
        let metadata = try Self.parse(
            #"{"redirect_uris":["http://127.0.0.1:5555/callback"],"client_name":"Claude Code","logo_uri":"https://x/y.png","software_id":"abc","jwks":{"keys":[]},"contacts":[1,{}],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"response_types":["code"],"scope":"mcp openid","client_uri":"https://claude.ai"}"#
        )
        #expect(metadata.redirectURIs == ["http://127.0.0.1:5555/callback"])
        #expect(metadata.clientName == "Claude Code" && metadata.clientURI == "https://claude.ai" && metadata.scope == "mcp openid")
        #expect(metadata.tokenEndpointAuthMethod == .none)
        #expect(metadata.grantTypes == ["authorization_code", "refresh_token"] && metadata.responseTypes == ["code"])
        let echoed = try Self.responseObject(ClientInformation(clientID: "c", clientSecret: nil, clientIDIssuedAt: Date(), metadata: metadata))
        #expect(echoed["token_endpoint_auth_method"] as? String == "none")
        #expect(echoed["logo_uri"] == nil && echoed["software_id"] == nil)
    }

    @Test("§2 defaults: client_secret_basic, [authorization_code], [code]; null counts as absent")
    func defaults() throws {
        for json in [
            #"{"redirect_uris":["https://claude.ai/api/mcp/auth_callback"]}"#,
            Self.with(#""token_endpoint_auth_method":null,"grant_types":null,"response_types":null,"client_name":null"#),
        ] {
            let metadata = try Self.parse(json)
            #expect(metadata.tokenEndpointAuthMethod == .clientSecretBasic)
            #expect(metadata.grantTypes == ["authorization_code"] && metadata.responseTypes == ["code"])
            #expect(metadata.clientName == nil && metadata.scope == nil)
        }
        #expect(try Self.parse(Self.with(#""token_endpoint_auth_method":"client_secret_post""#)).tokenEndpointAuthMethod == .clientSecretPost)
    }

    // RFC 7591 §2: the server "MAY ... replace the requested scope"; §3.2.1 returns what was registered.
    @Test(
        "§2 scope: values the server does not offer are dropped, not refused; the response carries the narrowed scope",
        arguments: [
            ("mcp openid", "mcp openid"),  // all offered: kept as sent
            ("openid offline_access email", "openid offline_access"),
            ("admin mcp", "mcp"),
            ("admin", nil), ("email profile", nil),  // nothing offered: registered with no scope, as if none was sent
        ] as [(String, String?)])
    func scopeNarrowed(_ asked: String, _ registered: String?) throws {
        let metadata = try Self.parse(Self.with(#""scope":"\#(asked)""#))
        #expect(metadata.scope == registered, "\(asked)")
        let echoed = try Self.responseObject(ClientInformation(clientID: "c", clientSecret: nil, clientIDIssuedAt: Date(), metadata: metadata))
        #expect(echoed["scope"] as? String == registered, "\(asked)")
    }

    @Test(
        "§3.2.2: a body that is not a JSON object is invalid_client_metadata",
        arguments: [
            "", "{", "}", "[]", "\"x\"", "1", "null", "true", "{\"redirect_uris\":[\"http://127.0.0.1/cb\"]", "redirect_uris=x",
            "\u{feff}{", "{'redirect_uris':['http://127.0.0.1/cb']}",
        ])
    func notAnObject(_ body: String) {
        let error = #expect(throws: OAuthError.self) { try Self.parse(body) }
        #expect(error?.code == .invalidClientMetadata, "\(body.debugDescription)")
    }

    @Test(
        "§3.2.2: missing, empty, non-array or non-string redirect_uris, or a disallowed one, is invalid_redirect_uri",
        arguments: [
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

    @Test(
        "§2/§3.2.2: unsupported or mistyped fields are invalid_client_metadata",
        arguments: [
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
            #""client_uri":"//evil.example""#, #""scope":5"#, #""scope":["mcp"]"#, #""scope":"mcp\u0000""#,
        ])
    func badFields(_ fields: String) {
        let error = #expect(throws: OAuthError.self) { try Self.parse(Self.with(fields)) }
        #expect(error?.code == .invalidClientMetadata, "\(fields)")
    }

    /// The name is shown on the consent page (rule 4): control characters, and
    /// bidirectional overrides that make `‮moc.elgoog` read as `google.com`, are refused.
    @Test(
        "client_name with control or bidi-override characters is invalid_client_metadata",
        arguments: [
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

    /// RFC 8259 §4: with a repeated member, what the shim reads could differ
    /// from what a proxy or log pipeline reads; refused, however it is spelled.
    @Test(
        "a member named twice is invalid_client_metadata, also through escapes and when nested",
        arguments: [
            #"{"redirect_uris":["http://127.0.0.1/cb"],"redirect_uris":["https://evil.example/cb"]}"#,
            #"{"redirect_uris":["http://127.0.0.1/cb"],"redirect\u005furis":["https://evil.example/cb"]}"#,
            #"{"redirect\u005furis":["http://127.0.0.1/cb"],"redirect_uris":["http://127.0.0.1/cb"]}"#,
            #"{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none","token_endpoint_auth_method":"client_secret_basic"}"#,
            #"{"redirect_uris":["http://127.0.0.1/cb"],"scope":"mcp","sc\u006fpe":"openid"}"#,
            #"{"redirect_uris":["http://127.0.0.1/cb"],"client_name":"a","client_name":"b"}"#,
            #"{"redirect_uris":["http://127.0.0.1/cb"],"jwks":{"keys":[],"keys":[]}}"#,
            #"{"redirect_uris":["http://127.0.0.1/cb"],"contacts":[{"x":1,"x":2}]}"#,
            #"{"redirect_uris":["http://127.0.0.1/cb"],"unknown":1,"unknown":2}"#,
        ])
    func duplicateMembers(_ json: String) {
        let error = #expect(throws: OAuthError.self) { try Self.parse(json) }
        #expect(error?.code == .invalidClientMetadata, "\(json)")
        #expect(error?.description.contains("more than once") == true, "\(error?.description ?? "")")
    }

    @Test("the error names a repeated member only when it is short printable ASCII")
    func duplicateNameEcho() {
        let plain = #expect(throws: OAuthError.self) { try Self.parse(#"{"redirect_uris":[],"redirect_uris":[]}"#) }
        #expect(plain?.description == #"request body names the member "redirect_uris" more than once"#)
        let control = #expect(throws: OAuthError.self) { try Self.parse(#"{"a\r\nb":1,"a\r\nb":2}"#) }
        #expect(control?.description == "request body names a member more than once")
    }

    @Test("nesting and list sizes are capped in unknown members too")
    func bounded() {
        let deep = Self.with(#""x":"# + String(repeating: "[", count: 40) + String(repeating: "]", count: 40))
        #expect((#expect(throws: OAuthError.self) { try Self.parse(deep) })?.code == .invalidClientMetadata)
        let long = Self.with(#""contacts":["# + Array(repeating: "1", count: 1000).joined(separator: ",") + "]")
        #expect((#expect(throws: OAuthError.self) { try Self.parse(long) })?.code == .invalidClientMetadata)
    }

    @Test("the §3.2.1 response: credentials, then the metadata as accepted; absent optional members left out")
    func response() throws {
        let metadata = try Self.parse(Self.with(#""client_name":"n","token_endpoint_auth_method":"client_secret_post""#))
        let at = Date(timeIntervalSince1970: 1_800_000_000.7)
        let confidential = try Self.responseObject(ClientInformation(clientID: "id", clientSecret: "s", clientIDIssuedAt: at, metadata: metadata))
        #expect(confidential["client_id"] as? String == "id" && confidential["client_secret"] as? String == "s")
        #expect(confidential["client_id_issued_at"] as? Int == 1_800_000_000 && confidential["client_secret_expires_at"] as? Int == 0)
        #expect(confidential["redirect_uris"] as? [String] == [Self.cb] && confidential["client_name"] as? String == "n")
        #expect(confidential["grant_types"] as? [String] == ["authorization_code"] && confidential["response_types"] as? [String] == ["code"])
        #expect(confidential["client_uri"] == nil && confidential["scope"] == nil)
        let publicClient = try Self.responseObject(ClientInformation(clientID: "id", clientSecret: nil, clientIDIssuedAt: at, metadata: metadata))
        #expect(publicClient["client_secret"] == nil && publicClient["client_secret_expires_at"] == nil)
        // URIs stay readable: slashes are not escaped.
        #expect(
            String(
                decoding: try ClientInformation(clientID: "i", clientSecret: nil, clientIDIssuedAt: at, metadata: metadata).jsonBody(),
                as: UTF8.self
            ).contains(#""http://127.0.0.1/cb""#))
    }

    @Test("client ids: 12 hex digits of the issue time, then 16 base64url characters of randomness; later ids sort after earlier ones")
    func clientIDs() {
        let first = ClientInformation.newClientID(issuedAt: Date(timeIntervalSince1970: 1_800_000_000))
        let second = ClientInformation.newClientID(issuedAt: Date(timeIntervalSince1970: 1_800_000_000.001))
        #expect(first.hasPrefix("01a3185c5000") && first.utf8.count == 28 && second.hasPrefix("01a3185c5001"))
        #expect(first < second && first.utf8.allSatisfy { $0 < 0x80 })
        #expect(Set((0..<1000).map { _ in ClientInformation.newClientID(issuedAt: Date(timeIntervalSince1970: 1_800_000_000)) }).count == 1000)
    }
}
