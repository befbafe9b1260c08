import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ShimCore
import ShimServer
import ShimStorage
import ShimTesting
import ShimTokens
import ShimUpstream

/// One shim under test: configuration, a MemoryStore, the fake IdP, the test
/// clock and a log capture, served through `app.test(.router)`.
struct ShimHarness: Sendable {
    static let issuer = "http://127.0.0.1:8080"
    static let resource = "https://mcp.example.com/mcp"
    static let upstreamClientID = "shim-upstream"
    static let upstreamSecret = "upstream-client-secret-7c1d0e9b"
    static let allowedHTTPS = "https://app.example.com/oauth/callback"
    static let loopbackRedirect = "http://127.0.0.1:33418/callback"

    let clock = TestClock()
    let upstream = FakeUpstream()
    let store: any ShimStore
    let services: ShimServices
    let logLines = Locked<[String]>([])

    /// - Parameters: `consent` is `consent.mode`; `refreshGrace` is `tokens.refresh_grace`;
    ///   `overrides` replace whole top-level keys of the configuration file.
    /// `documents`, when given, serves Client ID Metadata Documents (CIMD on).
    init(
        consent: String = "always", refreshGrace: String = "45s", overrides: [String: ConfigValue] = [:],
        store: any ShimStore = MemoryStore(), documents: FakeDocuments? = nil,
        signingKeys: SigningKeys? = nil, subjectTokens: (any SubjectTokenVerifying)? = nil
    ) throws {
        self.store = store
        let keys = KeyMaterial(encryptionKey: Data((0..<32).map { UInt8($0) }), cookieKey: Data((0..<32).map { UInt8(200 - $0) }))
        services = try ShimServices(
            config: try Self.configuration(consent: consent, refreshGrace: refreshGrace, overrides: overrides),
            store: store, upstream: upstream, clock: clock, keys: keys, documentFetcher: documents, signingKeys: signingKeys,
            subjectTokens: subjectTokens)
    }

    /// A typical configuration (docs/configuration.md), as the YAML loader would hand it over.
    static func configuration(consent: String, refreshGrace: String, overrides: [String: ConfigValue] = [:]) throws -> ShimConfiguration {
        let base: [String: ConfigValue] = [
            "issuer": .string(issuer),
            "upstream": .map([
                "preset": .string("oidc"),
                "issuer": .string("https://idp.test"),
                "client_id": .string(upstreamClientID),
                "client_secret": .string(upstreamSecret),
                "scopes": .list([.string("openid"), .string("offline_access")]),
            ]),
            "resources": .list([.map(["resource": .string(resource), "scopes": .list([.string("mcp.read"), .string("mcp.write")])])]),
            "redirects": .map(["clients": .list([.string("loopback")]), "allow": .list([.string(allowedHTTPS)])]),
            "consent": .map(["mode": .string(consent)]),
            "tokens": .map(["access": .string("upstream"), "refresh_ttl": .string("30d"), "refresh_grace": .string(refreshGrace)]),
            "storage": .map(["url": .string("memory:")]),
            "registration": .map(["rate_limit": .string("0")]),
        ]
        let file = ConfigValue.map(base.merging(overrides) { $1 })
        return try ShimConfiguration.load(file: file, readFile: { path in throw CocoaError(.fileNoSuchFile, userInfo: ["path": path]) }).get()
    }

    var logger: Logger {
        let lines = logLines
        var logger = Logger(label: "dcr-shim-test") { _ in CapturingLogHandler(lines: lines) }
        logger.logLevel = .trace
        return logger
    }

    /// Runs `body` against the router, with every log line captured.
    func run<T: Sendable>(_ body: @escaping @Sendable (ShimClient) async throws -> T) async throws -> T {
        let app = Application(router: ShimRouter.build(services), logger: logger)
        let harness = self
        return try await app.test(.router) { client in try await body(ShimClient(http: client, harness: harness)) }
    }
}

/// A client registered through /register.
struct TestApp: Sendable {
    var clientID: String
    var secret: String?
    var redirectURIs: [String]
    var authMethod: String

    var redirectURI: String { redirectURIs[0] }

    /// RFC 6749 §2.3.1: Basic for `client_secret_basic`, body fields otherwise.
    func authenticate(_ form: [(String, String)]) -> (form: [(String, String)], headers: HTTPFields) {
        switch authMethod {
        case "client_secret_basic":
            let raw = Data("\(clientID):\(secret ?? "")".utf8).base64EncodedString()
            return (form, [.authorization: "Basic " + raw])
        case "client_secret_post":
            return (form + [("client_id", clientID), ("client_secret", secret ?? "")], [:])
        default:
            return (form + [("client_id", clientID)], [:])
        }
    }
}

/// RFC 7636 Appendix B: the verifier and its S256 challenge.
enum RFC7636 {
    static let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    static let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The JSON object of the body, or an empty one.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
    }

    var location: String? { headers[.location] }

    /// The query parameters of the Location header.
    var redirectParams: [String: String] { (try? URLQuery.parse(location ?? "")) ?? [:] }

    /// `name=value` of the browser-binding cookie, when this response set it.
    var browserCookie: String? {
        headers[values: .setCookie].first { $0.hasPrefix("__Host-dcr-shim-browser=") }
            .map { String($0.split(separator: ";")[0]) }
    }

    /// An OAuth error answered directly: 4xx with an `error` field (rule 10).
    var oauthError: String? { json["error"] as? String }
}
