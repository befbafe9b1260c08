import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ShimCore
import ShimTesting
import Synchronization
import Testing

@testable import ShimUpstream

/// Entra with `upstream.tenant` given as a domain: the tenant's GUID issuer
/// is read from the domain's discovery document and pinned, so an ID token
/// of another tenant (a multi-tenant application's users elsewhere) is
/// refused, in the code flow and at ID-JAG leg 1.
@Suite("Entra: a domain tenant is pinned to its GUID issuer")
struct EntraTenantPinningTests {
    static let home = "9188040d-6c67-4c5b-b112-36a304b66dad"
    static let other = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    static let domain = "contoso.onmicrosoft.com"

    /// The fake's own base URL, known once it listens.
    final class Base: Sendable {
        let value = Mutex("")
    }

    static func router(_ base: Base, issuer: @escaping @Sendable (String) -> String) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/\(domain)/v2.0/.well-known/openid-configuration") { _, _ -> Response in
            let url = base.value.withLock { $0 }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"issuer":"\#(issuer(url))","jwks_uri":"\#(url)/keys"}"#)))
        }
        router.get("/keys") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"keys":[\#(IDTokenVerifierTests.rsaJWK("k1"))]}"#)))
        }
        return router
    }

    static func upstream(_ base: String) -> OIDCUpstream {
        var config = UpstreamConfiguration(
            preset: .entra, tenant: domain, issuer: base + "/\(domain)/v2.0", authorizationEndpoint: base + "/authorize",
            tokenEndpoint: base + "/token", revocationEndpoint: nil, clientID: "static-client", clientSecret: "sec",
            tokenEndpointAuthMethod: "client_secret_post", scopes: ["openid"], extraAuthorizeParams: [:], extraTokenParams: [:], timeoutSeconds: 15)
        config.jwksURI = base + "/keys"
        return OIDCUpstream(config: config, callbackURL: "http://127.0.0.1:1/callback", httpClient: .shared, logger: Logger(label: "test"))
    }

    static func token(base: String, tenant: String) async throws -> String {
        let now = Date().timeIntervalSince1970
        return try await SubjectTokenVerifierTests.sign {
            $0.iss = base + "/\(tenant)/v2.0"
            $0.tid = tenant
            $0.iat = now
            $0.exp = now + 3600
        }
    }

    @Test("leg 1: the home tenant's ID token passes; another tenant's, valid in every other way, is refused as another issuer")
    func pinned() async throws {
        let served = Base()
        let app = Application(
            router: Self.router(served) { "\($0)/\(Self.home)/v2.0" }, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let base = "http://127.0.0.1:\(client.port!)"
            served.value.withLock { $0 = base }
            let upstream = Self.upstream(base)
            let claims = try await upstream.verifySubjectToken(
                try await Self.token(base: base, tenant: Self.home), audience: SubjectTokenVerifierTests.app)
            #expect(claims["tid"] == .string(Self.home))
            await #expect(throws: TokenProblem.wrongIssuer) {
                _ = try await upstream.verifySubjectToken(
                    try await Self.token(base: base, tenant: Self.other), audience: SubjectTokenVerifierTests.app)
            }
        }
    }

    @Test("the code flow and leg 1 name an Entra user <tid>/<oid>, not the per-application sub; without oid, the sub")
    func subjectIsTenantAndObjectID() async throws {
        let served = Base()
        let app = Application(
            router: Self.router(served) { "\($0)/\(Self.home)/v2.0" }, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let base = "http://127.0.0.1:\(client.port!)"
            served.value.withLock { $0 = base }
            let upstream = Self.upstream(base)
            let oid = "00000000-0000-0000-66f3-3332eca7ea81"
            func token(audience: String, sub: String, oid: String?) async throws -> String {
                let now = Date().timeIntervalSince1970
                return try await SubjectTokenVerifierTests.sign {
                    $0.iss = base + "/\(Self.home)/v2.0"
                    $0.tid = Self.home
                    $0.oid = oid
                    $0.sub = sub
                    $0.aud = [audience]
                    $0.iat = now
                    $0.exp = now + 3600
                }
            }
            // Sign-in: the shim's own application sees one pairwise sub.
            let signIn = try await upstream.verifyIDToken(try await token(audience: "static-client", sub: "pairwise-for-shim", oid: oid), nonce: nil)
            #expect(signIn == "\(Self.home)/\(oid)")
            // Leg 1: the MCP client's application sees another; the subject is the same.
            let claims = try await upstream.verifySubjectToken(
                try await token(audience: SubjectTokenVerifierTests.app, sub: "pairwise-for-app", oid: oid), audience: SubjectTokenVerifierTests.app)
            #expect(upstream.subject(from: claims) == signIn)
            // Without oid (no profile scope): the sub, never a made-up <tid>/<oid>.
            let bare = try await upstream.verifyIDToken(try await token(audience: "static-client", sub: "pairwise-for-shim", oid: nil), nonce: nil)
            #expect(bare == "pairwise-for-shim")
        }
    }

    @Test("a discovery document whose issuer is not <host>/<GUID>/v2.0 pins nothing: leg 1 refuses rather than guess")
    func unusableDiscovery() async throws {
        let served = Base()
        let app = Application(router: Self.router(served) { "\($0)/{tenantid}/v2.0" }, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let base = "http://127.0.0.1:\(client.port!)"
            served.value.withLock { $0 = base }
            let upstream = Self.upstream(base)
            let refused = await #expect(throws: TokenProblem.self) {
                _ = try await upstream.verifySubjectToken(
                    try await Self.token(base: base, tenant: Self.home), audience: SubjectTokenVerifierTests.app)
            }
            guard case .keysUnavailable? = refused else {
                Issue.record("\(String(describing: refused))")
                return
            }
        }
    }

    @Test(
        "what counts as a pinned Entra issuer",
        arguments: [
            (
                "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0", "https://login.microsoftonline.com/contoso.com/v2.0",
                true
            ),
            ("https://login.microsoftonline.com/{tenantid}/v2.0", "https://login.microsoftonline.com/contoso.com/v2.0", false),
            ("https://evil.example/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0", "https://login.microsoftonline.com/contoso.com/v2.0", false),
            (
                "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0/x", "https://login.microsoftonline.com/contoso.com/v2.0",
                false
            ),
            (
                "http://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0", "http://login.microsoftonline.com/contoso.com/v2.0",
                false
            ),
            ("http://127.0.0.1:8080/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0", "http://127.0.0.1:8080/contoso.com/v2.0", true),
        ])
    func shapes(published: String, base: String, pinned: Bool) {
        #expect(OIDCUpstream.isPinnedEntraIssuer(published, discoveredAt: base) == pinned)
    }
}
