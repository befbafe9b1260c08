import Foundation
import ShimCore
import Testing

/// Configuration hygiene (threat I8): secrets are never echoed; PostgreSQL TLS is required
/// unless the store is on loopback or plaintext is asked for by name.
@Suite("Configuration hygiene: redaction, sslmode, idle timeout")
struct ConfigHygieneTests {
    @Test(
        "the storage URL's password is redacted, nothing else changes",
        arguments: [
            ("postgres://shim:s3cr%40t@db.example.com:5432/shim?sslmode=require", "postgres://shim:***@db.example.com:5432/shim?sslmode=require"),
            ("postgresql://u:p@10.0.0.5/db", "postgresql://u:***@10.0.0.5/db"),
            ("postgres://u:p@ss:w@rd@db.example.com/db", "postgres://u:***@db.example.com/db"),
            ("postgres://u:p@[2001:db8::1]:5432/db", "postgres://u:***@[2001:db8::1]:5432/db"),
            ("postgres://user@db.example.com/db", "postgres://user@db.example.com/db"),
            ("postgres://db.example.com/db?x=a:b@c", "postgres://db.example.com/db?x=a:b@c"),
            ("sqlite://./dcr-shim.db", "sqlite://./dcr-shim.db"),
            ("memory:", "memory:"),
        ])
    func redaction(_ url: String, _ expected: String) {
        #expect(StorageURL.redacted(url) == expected)
    }

    @Test(
        "sslmode: as given; otherwise require, and prefer only on a loopback host",
        arguments: [
            ("postgres://u:p@db.example.com/db", StorageURL.SSLMode.require),
            ("postgres://u:p@10.1.2.3:5432/db", .require),
            ("postgres://u:p@[2001:db8::1]/db", .require),
            ("postgres://u:p@localhost/db", .prefer),
            ("postgres://u:p@127.0.0.1:5432/db", .prefer),
            ("postgres://u:p@[::1]:5432/db", .prefer),
            ("postgres://u:p@db.example.com/db?sslmode=disable", .disable),
            ("postgres://u:p@db.example.com/db?connect_timeout=5&sslmode=prefer", .prefer),
            ("postgres://u:p@127.0.0.1/db?sslmode=require", .require),
        ] as [(String, StorageURL.SSLMode)])
    func sslMode(_ url: String, _ expected: StorageURL.SSLMode) {
        #expect(StorageURL.sslMode(url) == expected)
    }

    static func load(
        _ extra: [String: ConfigValue], environment: [String: String] = [:],
        files: [String: String] = [:]
    ) -> Result<ShimConfiguration, ConfigurationProblems> {
        var file: [String: ConfigValue] = [
            "issuer": .string("https://auth.example.com"),
            "upstream": .map(["issuer": .string("https://idp.example.com"), "client_id": .string("c"), "client_secret": .string("upstream-s3cret")]),
            "resources": .list([.map(["resource": .string("https://mcp.example.com/mcp"), "scopes": .list([.string("mcp")])])]),
            "redirects": .map(["clients": .list([.string("claude")])]),
        ]
        file.merge(extra) { $1 }
        return ShimConfiguration.load(file: .map(file), environment: environment) { path in
            guard let text = files[path] else { throw CocoaError(.fileNoSuchFile) }
            return text
        }
    }

    @Test("an unknown sslmode is a problem, and no problem text carries the password")
    func badSSLModeNotEchoed() throws {
        let result = Self.load([
            "storage": .map(["url": .string("postgres://shim:hunter2-secret@db.example.com/shim?sslmode=allow")]),
            "keys": .map(["encryption_key": .string("not-base64-hunter3")]), "listen": .map(["port": .string("99999")]),
        ])
        guard case .failure(let problems) = result else {
            Issue.record("accepted")
            return
        }
        #expect(problems.problems.contains { $0.hasPrefix("storage.url: sslmode must be disable, prefer or require") })
        let text = problems.description
        for secret in ["hunter2-secret", "hunter3", "upstream-s3cret"] { #expect(!text.contains(secret), "\(text)") }
    }

    @Test("storage.url is a secret: storage.url_file and DCR_SHIM_STORAGE_URL_FILE work")
    func storageURLFile() throws {
        let url = "postgres://shim:pw@db.example.com/shim"
        let fromFile = try Self.load(["storage": .map(["url_file": .string("/run/secrets/db")])], files: ["/run/secrets/db": url + "\n"]).get()
        #expect(fromFile.storageURL == url)
        let fromEnv = try Self.load([:], environment: ["DCR_SHIM_STORAGE_URL_FILE": "/run/secrets/db"], files: ["/run/secrets/db": url]).get()
        #expect(fromEnv.storageURL == url)
    }

    @Test("listen.idle_timeout: 60 s by default, a duration from 1 s to 1 h")
    func idleTimeout() throws {
        #expect(try Self.load([:]).get().listenIdleTimeoutSeconds == 60)
        #expect(try Self.load(["listen": .map(["idle_timeout": .string("5m")])]).get().listenIdleTimeoutSeconds == 300)
        for bad in ["0", "2h", "soon"] {
            guard case .failure(let problems) = Self.load(["listen": .map(["idle_timeout": .string(bad)])]) else {
                Issue.record("\(bad) accepted")
                continue
            }
            #expect(problems.problems.contains { $0.hasPrefix("listen.idle_timeout:") })
        }
    }

    @Test("listen.shutdown_grace: 20 s by default, a duration up to 1 h; restart-only")
    func shutdownGrace() throws {
        let running = try Self.load([:]).get()
        #expect(running.listenShutdownGraceSeconds == 20)
        let changed = try Self.load(["listen": .map(["shutdown_grace": .string("45s")])]).get()
        #expect(changed.listenShutdownGraceSeconds == 45)
        #expect(try Self.load(["listen": .map(["shutdown_grace": .string("0s")])]).get().listenShutdownGraceSeconds == 0)
        for bad in ["2h", "soon"] {
            guard case .failure(let problems) = Self.load(["listen": .map(["shutdown_grace": .string(bad)])]) else {
                Issue.record("\(bad) accepted")
                continue
            }
            #expect(problems.problems.contains { $0.hasPrefix("listen.shutdown_grace:") })
        }
        // Read once, at start: a reload names it and keeps the running value.
        let (applied, restartOnly) = running.reloading(changed)
        #expect(applied.listenShutdownGraceSeconds == 20 && restartOnly.contains("listen.shutdown_grace"))
    }

    @Test("upstream.id_token_algorithms: asymmetric algorithms only")
    func idTokenAlgorithms() throws {
        let upstream = ["issuer": ConfigValue.string("https://idp.example.com"), "client_id": .string("c"), "client_secret": .string("s")]
        let good = try Self.load(["upstream": .map(upstream.merging(["id_token_algorithms": .list([.string("ES256"), .string("RS256")])]) { $1 })])
            .get()
        #expect(good.upstream.idTokenAlgorithms == ["ES256", "RS256"])
        for bad in ["none", "HS256", "rs256"] {
            guard case .failure(let problems) = Self.load(["upstream": .map(upstream.merging(["id_token_algorithms": .list([.string(bad)])]) { $1 })])
            else {
                Issue.record("\(bad) accepted")
                continue
            }
            #expect(problems.problems.contains { $0.hasPrefix("upstream.id_token_algorithms:") })
        }
    }
}
