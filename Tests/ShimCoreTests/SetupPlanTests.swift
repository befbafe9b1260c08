import ShimConfigFile
import ShimCore
import Testing

/// `dcr-shim init`: the configuration it writes passes check-config's
/// checks, for each kind of answer; the answers are asked again when a
/// check refuses them; what it prints to register matches the file.
@Suite("dcr-shim init: answers to configuration")
struct SetupPlanTests {
    static let entraClient = "11111111-2222-3333-4444-555555555555"

    static func answers(_ preset: UpstreamPreset, mode: SetupAnswers.Mode) -> SetupAnswers {
        SetupAnswers(
            preset: preset,
            tenant: preset == .entra ? "contoso.onmicrosoft.com" : nil,
            upstreamIssuer: SetupAnswers.needsUpstreamIssuer(preset) ? issuer(of: preset) : nil,
            audience: preset == .auth0 ? "https://mcp.example.com" : nil,
            clientID: preset == .entra ? entraClient : "shim-client",
            issuer: "https://auth.example.com",
            mcpURL: mode == .gateway ? "http://127.0.0.1:9000/mcp" : "https://mcp.example.com/mcp",
            mode: mode,
            scopes: preset == .entra ? [SetupAnswers.defaultEntraScope(clientID: entraClient)] : [],
            clients: ["claude", "vscode"],
            secretFile: "/etc/dcr-shim/client-secret")
    }

    static func issuer(of preset: UpstreamPreset) -> String {
        switch preset {
        case .okta: "https://example.okta.com/oauth2/default"
        case .keycloak: "https://sso.example.com/realms/mcp"
        case .auth0: "https://tenant.eu.auth0.com/"
        default: "https://idp.example.com"
        }
    }

    static func load(_ text: String) -> Result<ShimConfiguration, ConfigurationProblems> {
        let tree: ConfigValue
        do { tree = try YAMLConfiguration.tree(yaml: text) } catch { return .failure(error) }
        return ShimConfiguration.load(file: tree) { path in
            guard path == "/etc/dcr-shim/client-secret" else { throw ConfigurationProblems(problems: ["no file"]) }
            return "the-secret"
        }
    }

    @Test(
        "The written YAML parses and validates: every preset, gateway and issue-only",
        arguments: UpstreamPreset.allCases, SetupAnswers.Mode.allCases)
    func writtenConfigurationValidates(preset: UpstreamPreset, mode: SetupAnswers.Mode) throws {
        let a = Self.answers(preset, mode: mode)
        let text = SetupPlan.yaml(a)
        #expect(SetupPlan.problems(yaml: text, secretFile: a.secretFile) { _ in throw ConfigurationProblems(problems: ["no file"]) } == [])
        let config = try Self.load(text).get()
        #expect(config.upstream.preset == preset)
        #expect(config.upstream.clientSecret == "the-secret")
        #expect(config.redirectClients == ["claude", "vscode"])
        #expect(config.resources.map(\.resource) == [a.resource])
        if mode == .gateway {
            #expect(config.accessTokenMode == .issued)
            #expect(config.gatewayResources.map(\.upstream) == ["http://127.0.0.1:9000/mcp"])
            #expect(a.resource == "https://auth.example.com/mcp")
        } else {
            #expect(config.gatewayResources.isEmpty)
            #expect(config.accessTokenMode == ([.google, .github].contains(preset) ? .issued : .upstream))
        }
        #expect(text.contains("# "))  // commented
        #expect(!text.contains("the-secret"))
    }

    @Test("Entra: tenant and fully qualified scope written; registration names the callback, Application ID URI, scope and az commands")
    func entraRegistration() throws {
        let a = Self.answers(.entra, mode: .gateway)
        let config = try Self.load(SetupPlan.yaml(a)).get()
        #expect(config.upstream.tenant == "contoso.onmicrosoft.com")
        #expect(config.resources[0].scopes == ["api://\(Self.entraClient)/access_as_user"])
        let text = SetupPlan.registration(a, scopeID: "99999999-8888-7777-6666-555555555555")
        for expected in [
            "https://auth.example.com/callback", "Application ID URI:           api://\(Self.entraClient)",
            "az ad app update --id \(Self.entraClient) --web-redirect-uris https://auth.example.com/callback",
            "az ad app update --id \(Self.entraClient) --identifier-uris api://\(Self.entraClient)",
            "az ad app permission add --id \(Self.entraClient) --api \(Self.entraClient) --api-permissions 99999999-8888-7777-6666-555555555555=Scope",
            "az ad app credential reset --id \(Self.entraClient) --append",
            "\"value\":\"access_as_user\"",
        ] {
            #expect(text.contains(expected), "\(expected)")
        }
    }

    @Test("Generic OIDC: the registration names the redirect URI and the scopes")
    func genericRegistration() {
        let text = SetupPlan.registration(Self.answers(.oidc, mode: .issue), scopeID: "x")
        #expect(text.contains("Redirect URI:   https://auth.example.com/callback"))
        #expect(text.contains("Scopes:         openid profile"))
        #expect(!text.contains("az "))
    }

    @Test("An answer that is YAML syntax is written as text")
    func answersAreQuoted() throws {
        var a = Self.answers(.oidc, mode: .issue)
        a.clientID = "a: b\n# \"c\" \\ {d}"
        let config = try Self.load(SetupPlan.yaml(a)).get()
        #expect(config.upstream.clientID == "a: b\n# \"c\" \\ {d}")
    }

    @Test("A file check-config refuses is reported, with the key")
    func refusedConfiguration() {
        var a = Self.answers(.okta, mode: .issue)
        a.upstreamIssuer = "https://example.okta.com"  // the org server: no /oauth2/
        let problems = SetupPlan.problems(yaml: SetupPlan.yaml(a), secretFile: a.secretFile) { _ in "" }
        #expect(problems.contains { $0.hasPrefix("upstream.issuer:") })
    }

    /// (answer, refused?)
    @Test(
        "Entra tenant: a GUID, a domain or a multi-tenant name",
        arguments: [
            ("11111111-2222-3333-4444-555555555555", false), ("contoso.onmicrosoft.com", false), ("common", false), ("Organizations", false),
            ("", true), ("contoso", true), ("contoso..com", true), ("https://login.microsoftonline.com/x", true), ("-a.com", true),
        ])
    func entraTenant(answer: String, refused: Bool) {
        #expect((SetupFieldCheck.entraTenant(answer) != nil) == refused)
    }

    @Test(
        "Issuer answers follow the configuration's rule",
        arguments: [
            ("https://auth.example.com", false), ("http://127.0.0.1:8080", false), ("http://auth.example.com", true), ("auth.example.com", true),
            ("https://auth.example.com/?a=b", true),
        ])
    func issuerAnswer(answer: String, refused: Bool) {
        #expect((SetupFieldCheck.issuer(answer) != nil) == refused)
    }

    @Test("Scripted answers: a refused answer is told and asked again; defaults fill the rest")
    func scriptedInterview() throws {
        let console = ScriptedConsole([
            "oidc",  // preset
            "ftp://idp.example.com", "https://idp.example.com",  // upstream issuer: refused, then accepted
            "shim-client",  // client id
            "http://auth.example.com", "https://auth.example.com",  // issuer: refused, then accepted
            "",  // mode: gateway
            "http://10.0.0.5:9000/mcp", "http://127.0.0.1:9000/mcp",  // upstream: clear text off loopback refused
            "claude nope", "claude,cursor",  // clients: an unknown bundle refused
            "",  // secret file: default
        ])
        let a = try SetupInterview.ask(console, draft: SetupDraft(), defaultSecretFile: "/etc/dcr-shim/client-secret")
        #expect(a.preset == .oidc)
        #expect(a.upstreamIssuer == "https://idp.example.com")
        #expect(a.issuer == "https://auth.example.com")
        #expect(a.mode == .gateway)
        #expect(a.mcpURL == "http://127.0.0.1:9000/mcp")
        #expect(a.clients == ["claude", "cursor"])
        #expect(a.secretFile == "/etc/dcr-shim/client-secret")
        #expect(console.told.filter { $0.hasPrefix("error: ") }.count == 4)
        #expect(console.prompts.contains { $0.hasPrefix("Identity provider") && $0.contains("[entra]") })
        #expect(try Self.load(SetupPlan.yaml(a)).get().gatewayResources.count == 1)
    }

    @Test("End of input before the last answer: interrupted, no answers")
    func interviewEndsAtEOF() {
        let console = ScriptedConsole(["entra", "contoso.onmicrosoft.com"])
        #expect(throws: SetupInterrupted.self) {
            try SetupInterview.ask(console, draft: SetupDraft(), defaultSecretFile: "/s")
        }
    }

    @Test("Non-interactive: every missing answer listed by its flag")
    func missingFlags() {
        var draft = SetupDraft()
        draft.preset = "entra"
        guard case .failure(let problems) = SetupInterview.fromFlags(draft, defaultSecretFile: "/s") else {
            Issue.record("missing answers accepted")
            return
        }
        #expect(problems.problems.map { String($0.prefix { $0 != ":" }) } == ["--tenant", "--client-id", "--issuer", "--mcp-url"])
    }

    @Test("Non-interactive: flags alone make a valid configuration")
    func flagsSuffice() throws {
        var draft = SetupDraft()
        draft.preset = "entra"
        draft.tenant = "11111111-2222-3333-4444-555555555555"
        draft.clientID = Self.entraClient
        draft.issuer = "https://auth.example.com"
        draft.mode = "issue"
        draft.mcpURL = "https://mcp.example.com/mcp"
        draft.clients = ["vscode"]
        let a = try SetupInterview.fromFlags(draft, defaultSecretFile: "/etc/dcr-shim/client-secret").get()
        #expect(a.scopes == [SetupAnswers.defaultEntraScope(clientID: Self.entraClient)])
        #expect(try Self.load(SetupPlan.yaml(a)).get().accessTokenMode == .upstream)
    }
}

/// Answers from a list; nil (end of input) when it runs out.
final class ScriptedConsole: SetupConsole {
    var answers: [String]
    var prompts: [String] = []
    var told: [String] = []

    init(_ answers: [String]) { self.answers = answers }

    func ask(_ prompt: String) -> String? {
        prompts.append(prompt)
        return answers.isEmpty ? nil : answers.removeFirst()
    }

    func tell(_ line: String) { told.append(line) }
}
