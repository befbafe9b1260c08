import Foundation
import ShimTesting
import Testing

@testable import ShimCore

/// `upstream.client_auth`: which methods each preset takes, what each method
/// needs, and the certificate's thumbprints and end read from its DER.
@Suite("Upstream client authentication: configuration and certificate")
struct ClientAuthConfigurationTests {
    static let certificatePEM = TestRSAKeys.oneCertificatePEM
    static let keyPEM = TestRSAKeys.onePrivatePEM
    static let sha256Thumbprint = TestRSAKeys.oneCertificateSHA256Thumbprint
    static let sha1Thumbprint = TestRSAKeys.oneCertificateSHA1Thumbprint
    static let notAfter = TestRSAKeys.oneCertificateNotAfter

    static func load(
        _ preset: String, _ clientAuth: [String: ConfigValue], upstream: [String: ConfigValue] = [:], env: [String: String] = [:]
    ) -> Result<ShimConfiguration, ConfigurationProblems> {
        var up: [String: ConfigValue] = [
            "preset": .string(preset), "client_id": .string("static"), "client_auth": .map(clientAuth),
        ]
        switch preset {
        case "entra": up["tenant"] = .string("contoso.onmicrosoft.com")
        case "okta": up["issuer"] = .string("https://example.okta.com/oauth2/default")
        case "keycloak": up["issuer"] = .string("https://sso.example.com/realms/acme")
        case "auth0":
            up["issuer"] = .string("https://tenant.eu.auth0.com/")
            up["audience"] = .string("https://mcp.example.com")
        default: up["issuer"] = .string("https://idp.example")
        }
        up.merge(upstream) { $1 }
        let tree = ConfigValue.map([
            "issuer": .string("https://auth.example.com"),
            "upstream": .map(up),
            "resources": .list([
                .map(["resource": .string("https://mcp.example.com/mcp"), "scopes": .list([.string("api://mcp/read")])])
            ]),
            "redirects": .map(["clients": .list([.string("claude")])]),
            "tokens": .map(["insecure_upstream_audience_ack": .string("true")]),
        ])
        let files = ["/etc/dcr/cert.pem": certificatePEM, "/etc/dcr/key.pem": keyPEM]
        return ShimConfiguration.load(file: tree, environment: env) { path in
            guard let text = files[path] else { throw ConfigurationProblems(problems: ["no file"]) }
            return text
        }
    }

    static func problems(_ result: Result<ShimConfiguration, ConfigurationProblems>) -> [String] {
        if case .failure(let problems) = result { return problems.problems }
        return []
    }

    static let certificateFiles: [String: ConfigValue] = [
        "method": .string("private_key_jwt"), "key_file": .string("/etc/dcr/key.pem"), "certificate_file": .string("/etc/dcr/cert.pem"),
    ]

    @Test("the certificate's thumbprints are the SHA-256 and SHA-1 of its DER, and notAfter is read from it")
    func certificate() throws {
        let certificate = try ClientCertificate(pem: Self.certificatePEM)
        #expect(certificate.sha256Thumbprint == Self.sha256Thumbprint)
        #expect(certificate.sha1Thumbprint == Self.sha1Thumbprint)
        #expect(certificate.sha1Hex == "945EA3455AACEE03173375263ACBB144F51D4E47")
        #expect(certificate.notAfter == Self.notAfter)
        #expect(certificate.subjectPublicKeyInfo.first == 0x30 && certificate.subjectPublicKeyInfo.count == 294)
    }

    @Test(
        "not a certificate: no PEM block, truncated DER, garbage",
        arguments: ["", "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----", "hello"])
    func notACertificate(_ pem: String) {
        #expect(throws: ClientCertificate.Problem.self) { try ClientCertificate(pem: pem) }
    }

    @Test("every truncation of the DER is refused, never a crash")
    func truncations() throws {
        let der = try ClientCertificate(pem: Self.certificatePEM).der
        for length in stride(from: 0, to: der.count, by: 7) {
            #expect(throws: ClientCertificate.Problem.self) { try ClientCertificate(der: der.prefix(length)) }
        }
    }

    @Test(
        "RFC 5280 times: UTCTime YY < 50 is 20YY, else 19YY; GeneralizedTime; anything else is refused",
        arguments: [
            (0x17, "491231235959Z", Optional(2_524_607_999.0)),
            (0x17, "500101000000Z", -631_152_000),
            (0x18, "21200101000000Z", 4_733_510_400),
            (0x17, "4912312359Z", nil),
            (0x18, "2120010100000Z", nil),
            (0x17, "491331235959Z", nil),
            (0x17, "491231235959+0100", nil),
        ] as [(UInt8, String, Double?)])
    func times(_ tag: UInt8, _ text: String, _ expected: Double?) {
        let bytes = Array(text.utf8)
        let element = DERReader.Element(tag: tag, value: bytes[...], whole: bytes[...])
        #expect(ClientCertificate.time(element)?.timeIntervalSince1970 == expected)
    }

    /// (preset, method, accepted)
    @Test(
        "which preset takes which method: Entra all three; Okta, Auth0, Keycloak and generic OIDC a certificate; Google and GitHub a secret only",
        arguments: [
            ("entra", "private_key_jwt", true), ("entra", "federated", true), ("okta", "private_key_jwt", true),
            ("okta", "federated", false), ("oidc", "private_key_jwt", true), ("oidc", "federated", false),
            ("keycloak", "private_key_jwt", true), ("auth0", "private_key_jwt", true),
            ("google", "private_key_jwt", false), ("github", "private_key_jwt", false), ("google", "federated", false),
        ])
    func presetMethods(_ preset: String, _ method: String, _ accepted: Bool) {
        var auth = Self.certificateFiles
        if method == "federated" { auth = ["method": .string("federated"), "token_file": .string("/var/run/secrets/token")] }
        let problems = Self.problems(Self.load(preset, auth)).filter { $0.hasPrefix("upstream.client_auth.method") }
        #expect(problems.isEmpty == accepted, "\(problems)")
        if !accepted { #expect(problems.first?.contains("is not accepted for the \(preset) preset") == true, "\(problems)") }
    }

    @Test("private_key_jwt with a key and certificate loads; the wire method becomes private_key_jwt; no secret is needed")
    func certificateLoads() throws {
        let config = try Self.load("entra", Self.certificateFiles).get()
        #expect(config.upstream.clientAuth.method == .privateKeyJWT)
        #expect(config.upstream.clientAuth.algorithm == .ps256)
        #expect(config.upstream.tokenEndpointAuthMethod == "private_key_jwt")
        #expect(config.upstream.clientAuth.certificatePEM == Self.certificatePEM.trimmingCharacters(in: .whitespacesAndNewlines))
        let rs256 = try Self.load("entra", Self.certificateFiles.merging(["algorithm": .string("RS256")]) { $1 }).get()
        #expect(rs256.upstream.clientAuth.algorithm == .rs256)
    }

    @Test("token_endpoint_auth_method: private_key_jwt alone means the private_key_jwt method (and then needs the key and certificate)")
    func wireMethodAlias() {
        let problems = Self.problems(Self.load("entra", [:], upstream: ["token_endpoint_auth_method": .string("private_key_jwt")]))
        #expect(problems.contains("upstream.client_auth.key_file: required for private_key_jwt (the RSA private key, PEM)"), "\(problems)")
        #expect(problems.contains { $0.hasPrefix("upstream.client_auth.certificate_file: required") }, "\(problems)")
    }

    @Test(
        "what each method refuses",
        arguments: [
            // a secret left next to a certificate
            (
                [("client_secret", ConfigValue.string("s"))], ClientAuthConfigurationTests.certificateFiles,
                "upstream.client_secret: not used with upstream.client_auth.method private_key_jwt"
            ),
            // a contradicting wire method
            (
                [("token_endpoint_auth_method", .string("client_secret_post"))], ClientAuthConfigurationTests.certificateFiles,
                "upstream.token_endpoint_auth_method: \"client_secret_post\" contradicts"
            ),
            // an unknown algorithm
            (
                [], ClientAuthConfigurationTests.certificateFiles.merging(["algorithm": .string("ES256")]) { $1 },
                "upstream.client_auth.algorithm: \"ES256\" is not PS256 or RS256"
            ),
            // a certificate file that is a key
            (
                [], ClientAuthConfigurationTests.certificateFiles.merging(["certificate_file": .string("/etc/dcr/key.pem")]) { $1 },
                "upstream.client_auth.certificate_file: holds no"
            ),
            // a key file that is a certificate
            (
                [], ClientAuthConfigurationTests.certificateFiles.merging(["key_file": .string("/etc/dcr/cert.pem")]) { $1 },
                "upstream.client_auth.key_file: holds no"
            ),
            // federated with nothing to read
            ([], ["method": .string("federated")], "upstream.client_auth.token_file: federated needs a token"),
            // federated with both sources
            ([], ["method": .string("federated"), "token_file": .string("/t"), "managed_identity": .map([:])], "upstream.client_auth: give either"),
            // a relative token file
            ([], ["method": .string("federated"), "token_file": .string("token")], "upstream.client_auth.token_file: must be an absolute path"),
            // key_file with a secret
            (
                [("client_secret", .string("s"))], ["key_file": .string("/etc/dcr/key.pem")],
                "upstream.client_auth.key_file: only for method private_key_jwt"
            ),
            // managed_identity as a scalar
            ([], ["method": .string("federated"), "managed_identity": .string("yes")], "upstream.client_auth.managed_identity: must be a map"),
        ] as [([(String, ConfigValue)], [String: ConfigValue], String)])
    func refusals(_ upstream: [(String, ConfigValue)], _ auth: [String: ConfigValue], _ expected: String) {
        let problems = Self.problems(Self.load("entra", auth, upstream: Dictionary(uniqueKeysWithValues: upstream)))
        #expect(problems.contains { $0.hasPrefix(expected) }, "\(problems)")
    }

    @Test("federated: the token file defaults to $AZURE_FEDERATED_TOKEN_FILE; a managed identity takes an optional client id")
    func federated() throws {
        let fromEnv = try Self.load(
            "entra", ["method": .string("federated")], env: ["AZURE_FEDERATED_TOKEN_FILE": "/var/run/secrets/azure/tokens/azure-identity-token"]
        ).get()
        #expect(fromEnv.upstream.clientAuth.tokenFile == "/var/run/secrets/azure/tokens/azure-identity-token")
        #expect(fromEnv.upstream.tokenEndpointAuthMethod == "private_key_jwt")
        let system = try Self.load("entra", ["method": .string("federated"), "managed_identity": .map([:])]).get()
        #expect(system.upstream.clientAuth.managedIdentity == .init(clientID: nil) && system.upstream.clientAuth.tokenFile == nil)
        let user = try Self.load(
            "entra", ["method": .string("federated"), "managed_identity": .map(["client_id": .string("mi-1")])],
            env: ["AZURE_FEDERATED_TOKEN_FILE": "/ignored"]
        ).get()
        #expect(user.upstream.clientAuth.managedIdentity == .init(clientID: "mi-1") && user.upstream.clientAuth.tokenFile == nil)
    }

    @Test("the certificate's end: an error once past, a warning under 30 days, nothing before")
    func expiry() {
        #expect(UpstreamConfiguration.certificateExpiry(Self.notAfter, now: Self.notAfter.addingTimeInterval(-31 * 86400)) == nil)
        let soon = UpstreamConfiguration.certificateExpiry(Self.notAfter, now: Self.notAfter.addingTimeInterval(-10 * 86400))
        #expect(soon?.expired == false && soon?.text.contains("in 10 day(s)") == true)
        #expect(UpstreamConfiguration.certificateExpiry(Self.notAfter, now: Self.notAfter.addingTimeInterval(1))?.expired == true)
    }

    @Test("client_assertion and client_assertion_type cannot be set through extra_token_params")
    func reservedAssertionParameters() {
        let problems = Self.problems(
            Self.load("entra", Self.certificateFiles, upstream: ["extra_token_params": .map(["client_assertion": .string("x")])]))
        #expect(problems.contains("upstream.extra_token_params.client_assertion: set by the shim itself; cannot be overridden"), "\(problems)")
    }
}
