import Foundation
import ShimCore
import Testing

/// SEP-837 (MCP 2026-07-28): clients send OIDC Registration §2
/// `application_type`; the shim holds each redirect URI to the declared type
/// (RFC 8252 for `native`, https on a real host for `web`).
@Suite("SEP-837: application_type on registration")
struct ApplicationTypeTests {
    static let policy = RedirectPolicy(
        allowlist: RedirectAllowlist(
            clients: ["loopback", "claude", "cursor"], allow: ["https://localhost/cb", "com.example.app:/oauth2redirect"]))

    static func parse(_ type: String?, _ uris: [String]) throws(OAuthError) -> ClientMetadata {
        let list = uris.map { "\"\($0)\"" }.joined(separator: ",")
        let typeMember = type.map { #","application_type":\#($0)"# } ?? ""
        return try ClientMetadata.parse(
            json: Data(#"{"redirect_uris":[\#(list)]\#(typeMember)}"#.utf8), policy: policy,
            scopes: ResourcePolicy(resources: [.init(resource: "https://mcp.example.com/mcp", scopes: ["mcp"])], upstreamScopes: []))
    }

    @Test(
        "SEP-837: native accepts loopback http, private-use schemes and claimed https",
        arguments: [
            ["http://127.0.0.1:33418/callback"], ["http://localhost:8787/callback", "http://[::1]/cb"],
            ["cursor://anysphere.cursor-mcp/oauth/callback"], ["com.example.app:/oauth2redirect"],
            ["https://claude.ai/api/mcp/auth_callback"],
        ])
    func nativeAccepted(_ uris: [String]) throws {
        #expect(try Self.parse(#""native""#, uris).applicationType == .native)
    }

    @Test("SEP-837: web accepts https on a public host only")
    func webAccepted() throws {
        #expect(
            try Self.parse(#""web""#, ["https://claude.ai/api/mcp/auth_callback", "https://claude.com/api/mcp/auth_callback"])
                .applicationType == .web)
    }

    @Test(
        "SEP-837: a redirect that does not fit the declared type is invalid_redirect_uri",
        arguments: [
            ("web", "http://127.0.0.1:33418/callback"), ("web", "http://localhost:8787/callback"),
            ("web", "cursor://anysphere.cursor-mcp/oauth/callback"), ("web", "com.example.app:/oauth2redirect"),
            ("web", "https://localhost/cb"), ("native", "https://localhost/cb"),
        ])
    func mismatched(_ type: String, _ uri: String) {
        let error = #expect(throws: OAuthError.self) { try Self.parse("\"\(type)\"", [uri]) }
        #expect(error?.code == .invalidRedirectURI && error?.description.contains("SEP-837") == (type == "web"), "\(type) \(uri)")
    }

    // oidc-agent registers `web` (OIDC's default) with an http://localhost redirect: the error must say what to send instead.
    @Test(
        "SEP-837: a web client with a loopback or app-scheme redirect is told to register as native",
        arguments: [
            ("http://localhost:4242/callback", "http://localhost"), ("http://127.0.0.1:33418/callback", "http://localhost"),
            ("cursor://anysphere.cursor-mcp/oauth/callback", "app's own scheme"),
        ])
    func webErrorNamesTheFix(_ uri: String, _ names: String) {
        let error = #expect(throws: OAuthError.self) { try Self.parse(#""web""#, [uri]) }
        let text = error?.description ?? ""
        #expect(text.contains("application_type \"web\" requires https redirect URIs"), "\(text)")
        #expect(text.contains(names) && text.contains("registers as application_type \"native\""), "\(text)")
    }

    @Test(
        "SEP-837: only \"web\" and \"native\"; anything else is invalid_client_metadata",
        arguments: [
            #""browser""#, #""Native""#, #""""#, "1", "true", #"["native"]"#, #"{"type":"native"}"#,
        ])
    func unknownType(_ member: String) {
        let error = #expect(throws: OAuthError.self) { try Self.parse(member, ["http://127.0.0.1/cb"]) }
        #expect(error?.code == .invalidClientMetadata, "\(member)")
    }

    @Test("SEP-837: absent (or null) means no type rule and none echoed; a declared type is echoed")
    func echo() throws {
        for absent in [nil, "null"] as [String?] {
            let metadata = try Self.parse(absent, ["http://127.0.0.1/cb", "https://claude.ai/api/mcp/auth_callback"])
            #expect(metadata.applicationType == nil)
            let body = try ClientInformation(clientID: "c", clientSecret: nil, clientIDIssuedAt: Date(), metadata: metadata).jsonBody()
            #expect(!String(decoding: body, as: UTF8.self).contains("application_type"))
        }
        let native = try Self.parse(#""native""#, ["http://127.0.0.1/cb"])
        let object =
            try JSONSerialization.jsonObject(
                with: ClientInformation(clientID: "c", clientSecret: nil, clientIDIssuedAt: Date(), metadata: native).jsonBody()) as? [String: Any]
        #expect(object?["application_type"] as? String == "native")
    }
}
