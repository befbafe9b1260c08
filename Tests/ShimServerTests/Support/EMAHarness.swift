import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimCore
import ShimServer
import ShimStorage
import ShimTesting
import ShimTokens
import ShimUpstream
import Synchronization
import Testing

/// A stand-in for the upstream IdP's ID-token check (leg 1): tokens it was
/// told about verify to their claims, anything else is a bad signature.
final class FakeSubjectTokens: SubjectTokenVerifying, Sendable {
    let tokens = Mutex<[String: (audience: String, claims: [String: JSONValue])]>([:])

    func verifySubjectToken(_ idToken: String, audience: String) async throws(TokenProblem) -> [String: JSONValue] {
        guard let entry = tokens.withLock({ $0[idToken] }) else { throw .badSignature }
        guard entry.audience == audience else { throw .wrongAudience }
        return entry.claims
    }

    /// The claim that names the user (as Entra's profile names it by `oid`).
    let subjectClaim = Mutex("sub")

    func subject(from claims: [String: JSONValue]) -> String? {
        claims[subjectClaim.withLock { $0 }]?.stringValue
    }
}

/// A shim in issued mode that accepts ID-JAGs from a test IdP (inline keys)
/// and from itself, and issues them under a policy.
struct EMAHarness {
    static let idpIssuer = "https://idp.enterprise.example"
    static let client = (id: "ema-client", secret: "ema-client-secret-0123456789")
    static let app = (id: "wiki-app", secret: "wiki-app-secret-0123456789")
    static let targetAS = "https://as-b.example.com"

    let harness: ShimHarness
    let idp: SigningKeys
    let subjectTokens = FakeSubjectTokens()

    /// - Parameters: `store` is shared with another harness to restart on it;
    ///   `withoutEMAClient` leaves `EMAHarness.client` out of `ema.clients`;
    ///   `emailAuthoritative` sets the test IdP's `email_authoritative`.
    init(
        maxLifetime: String = "10m", store: any ShimStore = MemoryStore(), withoutEMAClient: Bool = false,
        emailAuthoritative: Bool = false
    ) async throws {
        idp = try await SigningKeys.make(current: P256.Signing.PrivateKey())
        let jwks = String(decoding: try JSONEncoder().encode(idp.jwks), as: UTF8.self)
        let ema: ConfigValue = .map([
            "trusted_issuers": .list([
                .map([
                    "issuer": .string(Self.idpIssuer), "jwks": .string(jwks), "algorithms": .list([.string("ES256")]),
                    "email_authoritative": .string(emailAuthoritative ? "true" : "false"),
                ])
            ]),
            "clients": .list(
                (withoutEMAClient ? [] : [ConfigValue.map(["id": .string(Self.client.id), "secret": .string(Self.client.secret)])])
                    + [
                        .map([
                            "id": .string(Self.app.id), "secret": .string(Self.app.secret),
                            "token_endpoint_auth_method": .string("client_secret_basic"),
                        ])
                    ]),
            "max_assertion_lifetime": .string(maxLifetime),
            "issuer": .map(["enabled": .string("true"), "lifetime": .string("5m")]),
            "policy": .list([
                .map([
                    "clients": .list([.string(Self.app.id)]), "groups": .list([.string("engineering")]), "audience": .string(Self.targetAS),
                    "resources": .list([.string("https://mcp-b.example.com/mcp")]), "scopes": .list([.string("mcp")]),
                    "client_id": .string("client-at-b"),
                ]),
                .map([
                    "clients": .list([.string(Self.app.id)]), "subjects": .list([.string("*")]), "audience": .string(ShimHarness.issuer),
                    "resources": .list([.string(ShimHarness.resource)]), "scopes": .list([.string("mcp.read")]),
                    "client_id": .string(Self.client.id),
                ]),
            ]),
        ])
        let keys = try await SigningKeys.make(current: P256.Signing.PrivateKey())
        let subjectTokens = self.subjectTokens
        harness = try ShimHarness(
            overrides: [
                "tokens": .map(["access": .string("issued")]), "ema": ema,
                "introspection": .map([
                    "clients": .list([
                        .map([
                            "id": .string(IssuedHarness.introspectionID),
                            "secret": .string(IssuedHarness.introspectionSecret),
                        ])
                    ])
                ]),
            ],
            store: store, signingKeys: keys, subjectTokens: subjectTokens)
    }

    /// Runs `body` once the configured clients are installed.
    func run(_ body: @escaping @Sendable (ShimClient) async throws -> Void) async throws {
        try await harness.services.installConfiguredClients()
        try await harness.run(body)
    }

    var now: Int { Int(harness.clock.now().timeIntervalSince1970) }

    /// An ID-JAG from the test IdP for this shim (changed by `change`).
    func idJAG(type: String = "oauth-id-jag+jwt", _ change: (inout IDJAGClaims) -> Void = { _ in }) async throws -> String {
        var claims = IDJAGClaims(
            issuer: Self.idpIssuer, subject: "employee-42", audience: [ShimHarness.issuer], clientID: Self.client.id,
            tokenID: UUID().uuidString, expiresAt: now + 300, issuedAt: now, resources: [ShimHarness.resource],
            scope: "mcp.read", extra: ["email": .string("employee@enterprise.example")])
        change(&claims)
        return try await idp.sign(claims, type: type)
    }

    /// A JWS with any header and signature, for forgeries.
    static func forge(header: String, claims: IDJAGClaims, signature: (Data) -> Data) throws -> String {
        let input = Base64URL.encode(Data(header.utf8)) + "." + Base64URL.encode(try JSONEncoder().encode(claims))
        return input + "." + Base64URL.encode(signature(Data(input.utf8)))
    }
}

extension ShimClient {
    /// POST /token with the jwt-bearer grant, authenticated as the configured EMA client (client_secret_post).
    func jwtBearer(
        _ assertion: String, client: (id: String, secret: String) = EMAHarness.client,
        extra: [(String, String)] = []
    ) async throws -> TestResponse {
        try await post(
            "/token",
            form: [
                ("grant_type", EMAProtocol.jwtBearerGrant), ("assertion", assertion),
                ("client_id", client.id), ("client_secret", client.secret),
            ] + extra)
    }

    /// POST /token with RFC 8693 token exchange, as the configured application (HTTP Basic).
    func exchange(
        subjectToken: String, audience: String, resource: String, scope: String? = nil,
        extra: [(String, String)] = []
    ) async throws -> TestResponse {
        var form = [
            ("grant_type", EMAProtocol.tokenExchangeGrant), ("requested_token_type", EMAProtocol.idJAGTokenType),
            ("subject_token", subjectToken), ("subject_token_type", EMAProtocol.idTokenType),
            ("audience", audience), ("resource", resource),
        ]
        if let scope { form.append(("scope", scope)) }
        let basic = Data("\(EMAHarness.app.id):\(EMAHarness.app.secret)".utf8).base64EncodedString()
        return try await post("/token", form: form + extra, headers: [.authorization: "Basic " + basic])
    }
}
