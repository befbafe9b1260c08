import ArgumentParser
import Foundation
import ShimConfigFile
import ShimCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `dcr-shim init`: asks for (or takes as flags) what a first configuration
/// needs, writes it commented, refuses to write one `check-config` would
/// refuse, prints what to register at the IdP, and offers `doctor`.
struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Guided setup: write a commented configuration and print what to register at the identity provider.")

    @Option(name: .long, help: "The configuration file to write.")
    var output: String = "dcr-shim.yaml"

    @Flag(name: .long, help: "Replace the output file if it exists.")
    var force = false

    @Flag(name: .customLong("non-interactive"), help: "Take every answer from flags; fail listing the missing ones.")
    var nonInteractive = false

    @Flag(name: .customLong("run-doctor"), help: "Run `dcr-shim doctor` on the written file (without asking).")
    var runDoctor = false

    @Option(name: .long, help: "Identity provider preset: entra, okta, google, github, auth0, keycloak, oidc.")
    var preset: String?

    @Option(name: .long, help: "Entra tenant: Directory (tenant) ID or domain.")
    var tenant: String?

    @Option(name: .customLong("upstream-issuer"), help: "The identity provider's issuer URL (okta, auth0, keycloak, oidc).")
    var upstreamIssuer: String?

    @Option(name: .long, help: "Auth0: the Identifier of your API.")
    var audience: String?

    @Option(name: .customLong("client-id"), help: "Client ID of the application registered at the identity provider.")
    var clientID: String?

    @Option(name: .long, help: "Public URL of this shim (issuer).")
    var issuer: String?

    @Option(name: .long, help: "gateway (the shim fronts the MCP server) or issue (it only issues tokens).")
    var mode: String?

    @Option(name: .customLong("mcp-url"), help: "URL of the MCP server.")
    var mcpURL: String?

    @Option(name: .long, help: "A scope of the MCP server's tokens (repeatable; Entra: api://<app-id>/<name>).")
    var scope: [String] = []

    @Option(name: .long, help: "MCP clients to allow: claude, chatgpt, cursor, loopback, mcp-inspector, vscode (comma-separated).")
    var clients: String?

    @Option(name: .customLong("secret-file"), help: "File that will hold the client secret (init writes only its path).")
    var secretFile: String?

    func run() async throws {
        let outputURL = URL(fileURLWithPath: output)
        let console = TerminalConsole()
        if FileManager.default.fileExists(atPath: outputURL.path), !force {
            console.tell("error: \(output) exists; choose another --output or pass --force to replace it")
            throw ExitCode(1)
        }
        var interactive = !nonInteractive
        if interactive, isatty(STDIN_FILENO) == 0 {
            console.tell("stdin is not a terminal: running as --non-interactive")
            interactive = false
        }
        let defaultSecretFile = outputURL.deletingLastPathComponent().appendingPathComponent("upstream-client-secret").path
        let answers: SetupAnswers
        if interactive {
            do { answers = try SetupInterview.ask(console, draft: draft, defaultSecretFile: defaultSecretFile) } catch {
                console.tell("")
                console.tell("input ended: nothing written")
                throw ExitCode(1)
            }
        } else {
            switch SetupInterview.fromFlags(draft, defaultSecretFile: defaultSecretFile) {
            case .success(let given): answers = given
            case .failure(let problems):
                for problem in problems.problems { console.tell("error: \(problem)") }
                throw ExitCode(1)
            }
        }
        let config = try write(SetupPlan.yaml(answers), to: outputURL, secretFile: answers.secretFile, console: console)
        console.tell("wrote \(output)")
        console.tell("")
        console.tell(SetupPlan.registration(answers, scopeID: UUID().uuidString.lowercased()))
        for note in config.upstream.presetNotes() { console.tell("note: \(note)") }
        console.tell("")
        console.tell("Put the client secret into \(answers.secretFile), then: dcr-shim check-config --config \(output)")
        var doctor = runDoctor
        if !doctor, interactive {
            doctor = (console.ask("Run dcr-shim doctor now (the secret must be in place)? [y/N]: ") ?? "").lowercased().hasPrefix("y")
        }
        if doctor {
            let command = try Doctor.parse(["--config", output])
            try await command.run()
        }
    }

    var draft: SetupDraft {
        var draft = SetupDraft()
        draft.preset = preset
        draft.tenant = tenant
        draft.upstreamIssuer = upstreamIssuer
        draft.audience = audience
        draft.clientID = clientID
        draft.issuer = issuer
        draft.mode = mode
        draft.mcpURL = mcpURL
        draft.scopes = scope.isEmpty ? nil : scope
        draft.clients = clients.map(SetupInterview.words)
        draft.secretFile = secretFile
        return draft
    }

    /// Writes to a temporary file in the same directory, checks it through
    /// check-config's own loader, then moves it into place: an interrupted
    /// or invalid run leaves no file behind, and without --force an existing
    /// file is never replaced (link(2) fails on one).
    func write(_ text: String, to url: URL, secretFile: String, console: TerminalConsole) throws -> ShimConfiguration {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).init-\(getpid())")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else {
            console.tell("error: cannot write in \(directory.path)")
            throw ExitCode(1)
        }
        defer { try? FileManager.default.removeItem(at: temporary) }
        // The secret is put there after init: read as present, as SetupPlan.problems does.
        let loaded = ConfigLoader.load(path: temporary.path, flags: [:]) { path in
            if path == secretFile, !FileManager.default.fileExists(atPath: path) { return "secret-to-come" }
            return try String(contentsOfFile: path, encoding: .utf8)
        }
        let config: ShimConfiguration
        switch loaded {
        case .success(let valid): config = valid
        case .failure(let problems):
            for problem in problems.problems { console.tell("error: \(problem)") }
            console.tell("\(problems.problems.count) problem(s): nothing written")
            throw ExitCode(1)
        }
        let moved = force ? rename(temporary.path, url.path) : link(temporary.path, url.path)
        guard moved == 0 else {
            console.tell("error: cannot write \(url.path): \(String(cString: strerror(errno)))")
            throw ExitCode(1)
        }
        return config
    }
}

/// The terminal: prompts on stdout (unbuffered, so they show before the
/// answer is read), answers from stdin.
final class TerminalConsole: SetupConsole {
    func ask(_ prompt: String) -> String? {
        FileHandle.standardOutput.write(Data(prompt.utf8))
        return readLine(strippingNewline: true)
    }

    func tell(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
