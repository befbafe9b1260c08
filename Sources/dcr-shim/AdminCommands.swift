import ArgumentParser
import Foundation
import Logging
import ShimCore
import ShimStorage

/// Opens the configured store for the admin commands.
enum AdminStoreOpener {
    /// Runs `body` with the store open, and closes it however `body` ends.
    static func with<T>(_ options: ConfigOptions, _ body: (any ShimStore) async throws -> T) async throws -> T {
        let (store, close) = try await open(options)
        do {
            let value = try await body(store)
            await close()
            return value
        } catch {
            await close()
            throw error
        }
    }

    static func open(_ options: ConfigOptions) async throws -> (any ShimStore, @Sendable () async -> Void) {
        let config = try ConfigLoader.loadOrExit(options)
        var logger = Logger(label: "dcr-shim-admin")
        logger.logLevel = .warning
        if config.storage == .memory {
            FileHandle.standardError.write(Data("error: storage.url memory: keeps nothing to administer\n".utf8))
            throw ExitCode(1)
        }
        let opened = try await ConfiguredStore.open(config, logger: logger)
        return (opened.store, opened.close)
    }
}

extension JSONValue {
    /// A string, or `null` for nil.
    static func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
}

/// Output as an aligned table or as JSON.
enum Output {
    static func time(_ date: Date?) -> String { date.map { $0.formatted(.iso8601) } ?? "-" }

    static func parseTime(_ text: String) -> Date? { try? Date(text, strategy: .iso8601) }

    /// A value in a table cell: strings as they are, `-` for null, anything
    /// else as compact JSON.
    static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): return text
        case .null: return "-"
        default:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "-"
        }
    }

    static func print(rows: [[String]], headers: [String], json: [[String: JSONValue]], asJSON: Bool) {
        if asJSON {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = (try? encoder.encode(json)) ?? Data()
            Swift.print(String(decoding: data, as: UTF8.self))
            return
        }
        let all = [headers] + rows
        let widths = headers.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        for row in all {
            Swift.print(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
    }
}

struct ClientsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clients", abstract: "List, show or revoke clients (registered, or known by their metadata document).",
        subcommands: [List.self, Show.self, Revoke.self])

    static func json(_ c: RegisteredClient) -> [String: JSONValue] {
        [
            "client_id": .string(c.clientID), "client_name": .optional(c.clientName), "redirect_uris": .array(c.redirectURIs.map(JSONValue.string)),
            "token_endpoint_auth_method": .string(c.tokenEndpointAuthMethod.rawValue), "created_at": .string(Output.time(c.createdAt)),
            "used_at": .optional(c.usedAt.map(Output.time)), "origin": .string(c.origin.rawValue),
        ]
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var options: ConfigOptions
        @Flag(help: "JSON output") var json = false
        @Option(help: "At most this many") var limit = 100

        func run() async throws {
            let (clients, documents) = try await AdminStoreOpener.with(options) {
                (try await $0.listClients(limit: limit), try await $0.listCIMDClients(limit: limit))
            }
            Output.print(
                rows: clients.map {
                    [$0.clientID, $0.clientName ?? "-", $0.redirectURIs.joined(separator: " "), Output.time($0.createdAt), Output.time($0.usedAt)]
                },
                headers: ["CLIENT_ID", "NAME", "REDIRECT_URIS", "CREATED", "FIRST_USED"],
                json: clients.map(ClientsCommand.json) + documents.map(CIMDAdmin.json), asJSON: json)
            if !json { CIMDAdmin.printList(documents) }
        }
    }

    struct Show: AsyncParsableCommand {
        @OptionGroup var options: ConfigOptions
        @Flag(help: "JSON output") var json = false
        @Argument var clientID: String

        func run() async throws {
            let (found, document, grants) = try await AdminStoreOpener.with(options) { store in
                (
                    try await store.client(id: clientID), try await store.cimdClient(url: clientID),
                    try await store.listGrants(clientID: clientID, limit: 1000)
                )
            }
            guard var object = found.map(ClientsCommand.json) ?? document.map(CIMDAdmin.json) else {
                throw ValidationError("no client \(clientID)")
            }
            object["grants"] = .array(grants.map { .object(GrantsCommand.json($0)) })
            Output.print(
                rows: object.keys.sorted().map { [$0, Output.text(object[$0]!)] }, headers: ["FIELD", "VALUE"], json: [object], asJSON: json)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a registration (or forget a metadata-document client) and revoke all its grants.")
        @OptionGroup var options: ConfigOptions
        @Argument var clientID: String

        func run() async throws {
            let revoked: Int = try await AdminStoreOpener.with(options) { store in
                if CIMDClientID.isCandidate(clientID) { return try await CIMDAdmin.revoke(clientID, store: store) }
                let revoked = try await store.revokeGrants(clientID: clientID, at: Date())
                guard try await store.deleteClient(id: clientID) else { throw ValidationError("no client \(clientID)") }
                try await store.appendAudit(
                    AuditEvent(
                        at: Date(), kind: .clientRevoked, clientID: clientID,
                        detail: "\(revoked) grant(s) revoked by admin"))
                return revoked
            }
            print("client \(clientID) deleted; \(revoked) grant(s) revoked")
        }
    }
}

struct GrantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grants", abstract: "List or revoke grants.",
        subcommands: [List.self, Revoke.self])

    static func json(_ g: Grant) -> [String: JSONValue] {
        [
            "grant": .string(String(g.id.prefix(8))), "client_id": .string(g.clientID), "subject": .optional(g.subject),
            "resource": .string(g.resource),
            "scope": .string(g.scope.text), "created_at": .string(Output.time(g.createdAt)), "expires_at": .string(Output.time(g.expiresAt)),
            "revoked_at": .optional(g.revokedAt.map(Output.time)),
        ]
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var options: ConfigOptions
        @Flag(help: "JSON output") var json = false
        @Option(help: "Only this client's grants") var client: String?
        @Option(help: "At most this many") var limit = 100

        func run() async throws {
            let grants = try await AdminStoreOpener.with(options) { try await $0.listGrants(clientID: client, limit: limit) }
            Output.print(
                rows: grants.map {
                    [
                        String($0.id.prefix(8)), $0.clientID, $0.subject ?? "-", $0.resource, $0.scope.text, Output.time($0.createdAt),
                        $0.revokedAt == nil ? "active" : "revoked",
                    ]
                },
                headers: ["GRANT", "CLIENT_ID", "SUBJECT", "RESOURCE", "SCOPE", "CREATED", "STATE"], json: grants.map(GrantsCommand.json),
                asJSON: json)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke every grant of a client.")
        @OptionGroup var options: ConfigOptions
        @Option(help: "The client whose grants to revoke") var client: String

        func run() async throws {
            let count: Int = try await AdminStoreOpener.with(options) { store in
                let count = try await store.revokeGrants(clientID: client, at: Date())
                try await store.appendAudit(AuditEvent(at: Date(), kind: .revocation, clientID: client, detail: "\(count) grant(s) revoked by admin"))
                return count
            }
            print("\(count) grant(s) of \(client) revoked")
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "List audit events.")
    @OptionGroup var options: ConfigOptions
    @Flag(help: "JSON output") var json = false
    @Option(help: "Only events newer than this: a duration (e.g. 24h) or an ISO 8601 time") var since: String?
    @Option(help: "At most this many") var limit = 1000

    func run() async throws {
        var from: Date?
        if let since {
            if let seconds = ConfigReader.parseDuration(since) {
                from = Date().addingTimeInterval(-TimeInterval(seconds))
            } else if let date = Output.parseTime(since) {
                from = date
            } else {
                throw ValidationError("--since takes a duration (24h) or an ISO 8601 time")
            }
        }
        let events = try await AdminStoreOpener.with(options) { try await $0.auditEvents(since: from, limit: limit) }
        Output.print(
            rows: events.map {
                [
                    Output.time($0.at), $0.kind.rawValue, $0.clientID, $0.clientName ?? "-", $0.subject ?? "-", $0.resource ?? "-", $0.scope ?? "-",
                    $0.detail ?? "",
                ]
            },
            headers: ["TIME", "EVENT", "CLIENT_ID", "CLIENT_NAME", "SUBJECT", "RESOURCE", "SCOPE", "DETAIL"],
            json: events.map { e in
                [
                    "at": .string(Output.time(e.at)), "event": .string(e.kind.rawValue), "client_id": .string(e.clientID),
                    "client_name": .optional(e.clientName), "redirect_host": .optional(e.redirectHost), "subject": .optional(e.subject),
                    "resource": .optional(e.resource), "scope": .optional(e.scope), "detail": .optional(e.detail),
                ]
            }, asJSON: json)
    }
}
