public import ShimCore

/// Where `dcr-shim init` asks and tells: the terminal, or a script of
/// answers in tests.
public protocol SetupConsole: AnyObject {
    /// Shows `prompt` and returns the line typed, or nil at end of input.
    func ask(_ prompt: String) -> String?
    /// One line to the operator.
    func tell(_ line: String)
}

/// The answers given as flags; nil is "not given".
public struct SetupDraft: Sendable, Equatable {
    public var preset: String?
    public var tenant: String?
    public var upstreamIssuer: String?
    public var audience: String?
    public var clientID: String?
    public var issuer: String?
    public var mcpURL: String?
    public var mode: String?
    public var scopes: [String]?
    public var clients: [String]?
    public var secretFile: String?

    public init() {}
}

/// Input ended (EOF) before every answer was in: nothing is written.
public struct SetupInterrupted: Error, Sendable {
    public init() {}
}

/// The questions of `dcr-shim init`, each checked as the configuration
/// checks its key (`SetupFieldCheck`).
public enum SetupInterview {
    public static let defaultClients = ["claude", "vscode"]

    /// One question: its flag, prompt, default and check (nil: accepted).
    struct Question {
        var flag: String
        var prompt: String
        var defaultValue: String?
        var check: (String) -> String?
    }

    /// Asks every question the flags did not answer; a flag's answer that
    /// fails its check is told and asked again.
    public static func ask(_ console: any SetupConsole, draft: SetupDraft, defaultSecretFile: String) throws(SetupInterrupted) -> SetupAnswers {
        try collect(draft: draft, defaultSecretFile: defaultSecretFile) { (question: Question, given: String?) throws(SetupInterrupted) -> String in
            if let given {
                if let problem = question.check(given) { console.tell("error: --\(question.flag): \(problem)") } else { return given }
            }
            while true {
                let suffix = question.defaultValue.map { " [\($0)]" } ?? ""
                guard let line = console.ask("\(question.prompt)\(suffix): ") else { throw SetupInterrupted() }
                let answer = line.trimmingSpaces.isEmpty ? (question.defaultValue ?? "") : line.trimmingSpaces
                if let problem = question.check(answer) { console.tell("error: \(problem)") } else { return answer }
            }
        }
    }

    /// The answers from the flags alone, or every missing or invalid one.
    public static func fromFlags(_ draft: SetupDraft, defaultSecretFile: String) -> Result<SetupAnswers, ConfigurationProblems> {
        var problems: [String] = []
        let answers = collect(draft: draft, defaultSecretFile: defaultSecretFile) { (question: Question, given: String?) -> String in
            guard let answer = given ?? question.defaultValue else {
                problems.append("--\(question.flag): required with --non-interactive (\(question.prompt))")
                return ""
            }
            if let problem = question.check(answer) { problems.append("--\(question.flag): \(problem)") }
            return answer
        }
        return problems.isEmpty ? .success(answers) : .failure(ConfigurationProblems(problems: problems))
    }

    /// The questions in order; `answer` gets each with its flag's value.
    static func collect<E: Error>(
        draft: SetupDraft, defaultSecretFile: String, answer: (Question, String?) throws(E) -> String
    ) throws(E) -> SetupAnswers {
        let presets = UpstreamPreset.allCases.map(\.rawValue)
        let presetName = try answer(
            Question(
                flag: "preset", prompt: "Identity provider (\(presets.joined(separator: ", ")))", defaultValue: "entra",
                check: { presets.contains($0) ? nil : "upstream.preset: \($0.quotedText) is not one of \(presets.joined(separator: ", "))" }),
            draft.preset)
        let preset = UpstreamPreset(rawValue: presetName) ?? .entra
        var tenant: String?
        var upstreamIssuer: String?
        var audience: String?
        if SetupAnswers.needsTenant(preset) {
            tenant = try answer(
                Question(
                    flag: "tenant", prompt: "Entra tenant (Directory (tenant) ID or domain)", defaultValue: nil,
                    check: SetupFieldCheck.entraTenant),
                draft.tenant)
        }
        if SetupAnswers.needsUpstreamIssuer(preset) {
            upstreamIssuer = try answer(
                Question(
                    flag: "upstream-issuer", prompt: "Issuer URL of the identity provider", defaultValue: nil,
                    check: { SetupFieldCheck.upstreamURL($0, key: "upstream.issuer") }),
                draft.upstreamIssuer)
        }
        let clientID = try answer(
            Question(
                flag: "client-id", prompt: "Client ID of the application registered at the identity provider", defaultValue: nil,
                check: SetupFieldCheck.clientID),
            draft.clientID)
        if SetupAnswers.needsAudience(preset) {
            audience = try answer(
                Question(
                    flag: "audience", prompt: "Identifier of your API in Auth0 (audience)", defaultValue: nil,
                    check: { $0.isEmpty ? "upstream.audience: required for auth0" : nil }),
                draft.audience)
        }
        let issuer = try answer(
            Question(flag: "issuer", prompt: "Public URL of this shim (issuer)", defaultValue: nil, check: SetupFieldCheck.issuer),
            draft.issuer)
        let modes = SetupAnswers.Mode.allCases.map(\.rawValue)
        let modeName = try answer(
            Question(
                flag: "mode", prompt: "Front the MCP server as a gateway, or only issue tokens (gateway, issue)", defaultValue: "gateway",
                check: { modes.contains($0) ? nil : "\($0.quotedText) is not gateway or issue" }),
            draft.mode)
        let mode = SetupAnswers.Mode(rawValue: modeName) ?? .gateway
        let mcpURL = try answer(
            mode == .gateway
                ? Question(
                    flag: "mcp-url", prompt: "URL of the MCP server behind the shim", defaultValue: nil,
                    check: { SetupFieldCheck.gatewayUpstream($0, resourceKey: "resources[0]") })
                : Question(
                    flag: "mcp-url", prompt: "URL of the MCP server", defaultValue: nil,
                    check: { SetupFieldCheck.resource($0, key: "resources[0].resource") }),
            draft.mcpURL)
        var scopes = draft.scopes ?? []
        if preset == .entra {
            let scope = try answer(
                Question(
                    flag: "scope", prompt: "Scope of the API (Application ID URI / scope name)",
                    defaultValue: SetupAnswers.defaultEntraScope(clientID: clientID),
                    check: { $0.contains("://") ? nil : "resources[0].scopes: \($0.quotedText) must be fully qualified (api://<app-id>/<name>)" }),
                draft.scopes?.first)
            scopes = [scope] + (draft.scopes ?? []).dropFirst()
        }
        let bundles = RedirectAllowlist.bundles.keys.sorted()
        let clientsText = try answer(
            Question(
                flag: "clients", prompt: "MCP clients to allow (\(bundles.joined(separator: " ")))",
                defaultValue: defaultClients.joined(separator: " "), check: { SetupFieldCheck.redirectBundles(words($0)) }),
            draft.clients?.joined(separator: " "))
        let secretFile = try answer(
            Question(
                flag: "secret-file", prompt: "File that will hold the client secret", defaultValue: defaultSecretFile,
                check: { $0.isEmpty ? "upstream.client_secret_file: required" : nil }),
            draft.secretFile)
        return SetupAnswers(
            preset: preset, tenant: tenant, upstreamIssuer: upstreamIssuer, audience: audience, clientID: clientID, issuer: issuer,
            mcpURL: mcpURL, mode: mode, scopes: scopes, clients: words(clientsText), secretFile: secretFile)
    }

    /// Words separated by spaces or commas.
    public static func words(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).map(String.init)
    }
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while text.first?.isWhitespace == true { text = text.dropFirst() }
        while text.last?.isWhitespace == true { text = text.dropLast() }
        return String(text)
    }

    var quotedText: String { "\"\(self)\"" }
}
