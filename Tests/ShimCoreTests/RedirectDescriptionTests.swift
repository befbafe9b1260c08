import ShimCore
import Testing

/// Rule 4, threat C7: what the consent page says about a redirect URI.
@Suite("Consent: redirect URIs in plain words")
struct RedirectDescriptionTests {
    @Test(
        "loopback is a program on this computer; app schemes an app on this device; https the website",
        arguments: [
            ("http://127.0.0.1:33418/callback", "an application on this computer (listening on port 33418)"),
            ("http://127.0.0.1/", "an application on this computer"),
            ("http://localhost:6274/oauth/callback", "an application on this computer (listening on port 6274)"),
            ("http://[::1]:8080/cb", "an application on this computer (listening on port 8080)"),
            ("cursor://anysphere.cursor-mcp/oauth/callback", "an app on this device that opens cursor: links"),
            ("com.example.app:/oauth2redirect", "an app on this device that opens com.example.app: links"),
            ("https://claude.ai/api/mcp/auth_callback", "the website claude.ai"),
            ("https://App.Example.com:8443/cb", "the website app.example.com:8443"),
            // Not loopback to rule 1, so not "this computer" either.
            ("http://127.1/cb", "the website 127.1"),
        ])
    func plainWords(_ uri: String, _ words: String) {
        #expect(RedirectDescription(uri).plainWords == words)
        #expect(RedirectDescription(uri).uri == uri)
    }

    @Test(
        "relay and per-connector callbacks carry a note; look-alikes do not",
        arguments: [
            ("https://vscode.dev/redirect", "VS Code's relay page"), ("https://insiders.vscode.dev/redirect", "VS Code's relay page"),
            ("https://chatgpt.com/connector/oauth/c_9x", "ChatGPT connector (c_9x)"),
            ("https://vscode.dev/redirect/", nil), ("https://vscode.dev.evil.example/redirect", nil), ("https://VSCODE.dev/redirect", nil),
            ("https://chatgpt.com/connector_platform_oauth_redirect", nil), ("https://claude.ai/api/mcp/auth_callback", nil),
        ] as [(String, String?)])
    func notes(_ uri: String, _ note: String?) {
        let got = RedirectDescription(uri).note
        if let note { #expect(got?.contains(note) == true, "\(uri)") } else { #expect(got == nil, "\(uri)") }
    }
}
