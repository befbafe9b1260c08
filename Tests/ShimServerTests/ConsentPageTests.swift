import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimCore
import Testing

/// What the consent page tells the user (rule 4; threats C5 and C7): the
/// full redirect URI with plain words for where it leads, relay and
/// per-connector notes, the identity provider, and for a CIMD
/// client its document's host and a warning when all its redirects are local.
@Suite("Consent page content")
struct ConsentPageTests {
    /// The text of the element with `id` (the page's identified elements hold
    /// text only), unescaped, whitespace collapsed.
    static func element(_ id: String, in html: String) -> String? {
        guard let start = html.range(of: "id=\"\(id)\">") else { return nil }
        let text = html[start.upperBound...].prefix { $0 != "<" }
        return text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&").split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    static func page(_ harness: ShimHarness, params: AuthorizeParams) async throws -> String {
        try await harness.run { client async throws in
            var browser = Browser()
            let first = try await client.authorize(params, browser: &browser)
            #expect(first.status == .seeOther, "\(first.text)")
            return try await client.consentPage(try #require(first.location), browser: browser).page.text
        }
    }

    @Test("consent page: a registered client's page shows the full redirect URI, in plain words for loopback, and the IdP")
    func registeredLoopback() async throws {
        let harness = try ShimHarness()
        let app = try await harness.run { client async throws in try await client.register(name: "Loop App") }
        let html = try await Self.page(harness, params: AuthorizeParams(app: app))
        #expect(Self.element("redirect-uri", in: html) == ShimHarness.loopbackRedirect)
        #expect(Self.element("redirect-destination", in: html) == "an application on this computer (listening on port 33418)")
        #expect(Self.element("identity-provider", in: html) == "idp.test")
        #expect(Self.element("self-registered", in: html)?.contains("registered itself") == true)
        #expect(Self.element("document-host", in: html) == nil && Self.element("redirect-note", in: html) == nil)
    }

    @Test(
        "consent page: relay and per-connector callbacks are shown whole, with what they mean",
        arguments: [
            ("https://vscode.dev/redirect", "the website vscode.dev", "VS Code's relay page"),
            ("https://insiders.vscode.dev/redirect", "the website insiders.vscode.dev", "VS Code's relay page"),
            ("https://chatgpt.com/connector/oauth/abc_123", "the website chatgpt.com", "ChatGPT connector (abc_123)"),
            ("https://claude.ai/api/mcp/auth_callback", "the website claude.ai", nil),
            ("cursor://anysphere.cursor-mcp/oauth/callback", "an app on this device that opens cursor: links", nil),
        ])
    func bundles(_ uri: String, _ destination: String, _ note: String?) async throws {
        let harness = try ShimHarness(overrides: [
            "redirects": .map(["clients": .list(["vscode", "chatgpt", "claude", "cursor"].map(ConfigValue.string))]),
            "upstream": .map([
                "preset": .string("entra"), "tenant": .string("contoso.onmicrosoft.com"), "client_id": .string("x"),
                "client_secret": .string("y"),
            ]),
            "resources": .list([.map(["resource": .string(ShimHarness.resource), "scopes": .list([.string("api://app/mcp.read")])])]),
        ])
        let app = try await harness.run { client async throws in try await client.register(redirectURIs: [uri]) }
        var params = AuthorizeParams(app: app)
        params.scope = nil
        let html = try await Self.page(harness, params: params)
        #expect(Self.element("redirect-uri", in: html) == uri)
        #expect(Self.element("redirect-destination", in: html) == destination)
        #expect(Self.element("identity-provider", in: html) == "Microsoft Entra ID")
        if let note {
            #expect(Self.element("redirect-note", in: html)?.contains(note) == true, "\(html)")
        } else {
            #expect(Self.element("redirect-note", in: html) == nil)
        }
    }

    @Test("a CIMD client's page shows its document host and URL, and warns when every redirect is local")
    func cimdClient() async throws {
        let url = "https://tools.example.com/mcp/client.json"
        for (redirects, warned) in [([ShimHarness.loopbackRedirect], true), ([ShimHarness.loopbackRedirect, ShimHarness.allowedHTTPS], false)] {
            let (harness, documents) = try CIMDFlowTests.harness()
            documents.publish(url, FakeDocuments.document(url, name: "Claude <Code>", redirects: redirects))
            var params = AuthorizeParams(app: TestApp(clientID: url, secret: nil, redirectURIs: redirects, authMethod: "none"))
            params.redirectURI = ShimHarness.loopbackRedirect
            let html = try await Self.page(harness, params: params)
            #expect(Self.element("client-name", in: html) == "Claude <Code>")
            #expect(Self.element("document-host", in: html) == "tools.example.com")
            #expect(Self.element("client-id", in: html) == url)
            #expect(Self.element("redirect-uri", in: html) == ShimHarness.loopbackRedirect)
            #expect(Self.element("redirect-destination", in: html)?.hasPrefix("an application on this computer") == true)
            #expect((Self.element("loopback-warning", in: html) != nil) == warned, "\(redirects)")
            #expect(Self.element("self-registered", in: html) == nil)
        }
    }
}
