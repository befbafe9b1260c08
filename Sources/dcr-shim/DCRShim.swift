import ArgumentParser

/// `dcr-shim`: an OAuth 2.1 authorization server facade that gives MCP
/// clients Dynamic Client Registration in front of an IdP that has none.
@main
struct DCRShim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dcr-shim",
        abstract: "DCR for MCP clients in front of an identity provider without it (Entra ID, Okta, Google, ...).",
        subcommands: [Serve.self, CheckConfig.self, Doctor.self, Init.self, ClientsCommand.self, GrantsCommand.self, AuditCommand.self],
        defaultSubcommand: Serve.self
    )
}

/// Flags for the common keys; they override the file and the environment.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (YAML).")
    var config: String = "dcr-shim.yaml"

    @Option(name: .long, help: "Public base URL of the shim (issuer).")
    var issuer: String?

    @Option(name: .long, help: "Address to listen on (listen.host).")
    var host: String?

    @Option(name: .long, help: "Port to listen on (listen.port).")
    var port: Int?

    @Option(
        name: .customLong("storage-url"),
        help:
            "memory:, sqlite://PATH or postgres://user:password@host:port/db[?sslmode=disable|prefer|require] (storage.url; prefer DCR_SHIM_STORAGE_URL_FILE for a password: flags show in ps)."
    )
    var storageURL: String?

    @Option(name: .customLong("log-level"), help: "trace|debug|info|notice|warning|error|critical (log.level).")
    var logLevel: String?

    var flags: [String: String] {
        var out: [String: String] = [:]
        out["issuer"] = issuer
        out["listen.host"] = host
        out["listen.port"] = port.map(String.init)
        out["storage.url"] = storageURL
        out["log.level"] = logLevel
        return out
    }
}
