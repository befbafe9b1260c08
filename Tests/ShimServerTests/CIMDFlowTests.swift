import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimCore
import ShimServer
import ShimStorage
import ShimTesting
import ShimUpstream
import Testing

/// Client ID Metadata Documents through the router (SEP-991): a document URL
/// as client_id is treated like a registered public client at /authorize,
/// /consent, /callback, /token and /revoke, with no registration row; every
/// unusable document is an error page before any redirect.
@Suite("CIMD clients through the router")
struct CIMDFlowTests {
    static let url = "https://app.example.com/oauth/client.json"

    static func harness(
        consent: String = "always", cimd: [String: ConfigValue] = [:],
        redirects: ConfigValue? = nil
    ) throws -> (ShimHarness, FakeDocuments) {
        // The documents' clock starts where the harness's does.
        let documents = FakeDocuments(clock: TestClock())
        var overrides: [String: ConfigValue] = ["cimd": .map(cimd)]
        if let redirects { overrides["redirects"] = redirects }
        return (try ShimHarness(consent: consent, overrides: overrides, documents: documents), documents)
    }

    static var app: TestApp { TestApp(clientID: url, secret: nil, redirectURIs: [ShimHarness.loopbackRedirect], authMethod: "none") }

    @Test("metadata advertises client_id_metadata_document_supported only when CIMD is on")
    func metadata() async throws {
        let (on, _) = try Self.harness()
        let (off, _) = try Self.harness(cimd: ["enabled": .string("false")])
        for (harness, expected) in [(on, true), (off, false)] {
            try await harness.run { client async throws in
                let doc = try await client.get("/.well-known/oauth-authorization-server").json
                #expect(doc["client_id_metadata_document_supported"] as? Bool == expected)
                #expect((doc["token_endpoint_auth_methods_supported"] as? [String])?.contains("none") == true)
            }
        }
    }

    @Test("SEP-991: a CIMD client completes authorize, consent, callback, token, refresh and revoke without registering")
    func fullFlow() async throws {
        let (harness, documents) = try Self.harness()
        documents.publish(Self.url, FakeDocuments.document(Self.url, name: "Doc Client"))
        try await harness.run { client async throws in
            let signedIn = try await client.signIn(Self.app)
            #expect(signedIn.tokenResponse.json["token_type"] as? String == "Bearer")
            let refreshToken = try #require(signedIn.refreshToken)
            let refreshed = try await client.refresh(refreshToken, app: Self.app)
            #expect(refreshed.status == .ok, "refresh: \(refreshed.text)")
            let next = try #require(refreshed.json["refresh_token"] as? String)
            #expect(try await client.revoke(next, app: Self.app).status == .ok)
            #expect(try await client.refresh(next, app: Self.app).oauthError == "invalid_grant")
        }
        // No registration row; one CIMD record; one audit event for the first fetch.
        #expect(try await harness.store.client(id: Self.url) == nil)
        let record = try #require(try await harness.store.cimdClient(url: Self.url))
        #expect(record.host == "app.example.com" && record.clientName == "Doc Client" && record.redirectURIs == [ShimHarness.loopbackRedirect])
        let audit = try await harness.store.auditEvents(since: nil, limit: 100)
        let documentEvents = audit.filter { $0.kind == .clientDocument }
        #expect(documentEvents.count == 1 && documentEvents[0].clientID == Self.url && documentEvents[0].detail?.hasPrefix("first fetch") == true)
        #expect(audit.contains { $0.kind == .grantIssued && $0.clientID == Self.url && $0.clientName == "Doc Client" })
    }

    @Test("a changed document is audited again, with its new hash")
    func changedDocument() async throws {
        let (harness, documents) = try Self.harness()
        documents.publish(Self.url, FakeDocuments.document(Self.url, name: "Doc Client"))
        try await harness.run { client async throws in
            var browser = Browser()
            _ = try await client.authorize(AuthorizeParams(app: Self.app), browser: &browser)
            documents.publish(Self.url, FakeDocuments.document(Self.url, name: "Doc Client v2"))
            _ = try await client.authorize(AuthorizeParams(app: Self.app), browser: &browser)
        }
        let events = try await harness.store.auditEvents(since: nil, limit: 100).filter { $0.kind == .clientDocument }
        #expect(events.map { $0.detail?.prefix(16) ?? "" } == ["first fetch; hos", "document changed"])
        #expect(try await harness.store.cimdClient(url: Self.url)?.clientName == "Doc Client v2")
    }

    enum Refusal: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case fetchFails, clientIDMismatch, notJSON, sharedSecret, privateKeyJWT, redirectNotInDocument, redirectNotAllowlisted
        case blockedHost, hostNotAllowed, disabled, rootPath, httpURL

        var testDescription: String { rawValue }
    }

    @Test("an unusable document is an error page, never a redirect, and nothing is sent upstream", arguments: Refusal.allCases)
    func refusals(_ refusal: Refusal) async throws {
        var cimd: [String: ConfigValue] = [:]
        switch refusal {
        case .blockedHost: cimd["blocked_hosts"] = .list([.string("*.example.com")])
        case .hostNotAllowed: cimd["allowed_hosts"] = .list([.string("claude.ai")])
        case .disabled: cimd["enabled"] = .string("false")
        default: break
        }
        let (harness, documents) = try Self.harness(cimd: cimd)
        var params = AuthorizeParams(app: Self.app)
        let url = Self.url
        switch refusal {
        case .fetchFails: documents.fail(url, .status(404))
        case .clientIDMismatch: documents.publish(url, FakeDocuments.document("https://app.example.com/other.json"))
        case .notJSON: documents.publish(url, "<html>hello</html>")
        case .sharedSecret: documents.publish(url, FakeDocuments.document(url, extra: #","client_secret":"x""#))
        case .privateKeyJWT:
            documents.publish(
                url, #"{"client_id":"\#(url)","redirect_uris":["\#(ShimHarness.loopbackRedirect)"],"token_endpoint_auth_method":"private_key_jwt"}"#)
        case .redirectNotInDocument:
            documents.publish(url, FakeDocuments.document(url))
            params.redirectURI = "http://127.0.0.1:33418/elsewhere"
        case .redirectNotAllowlisted:
            documents.publish(url, FakeDocuments.document(url, redirects: ["https://evil.example/cb", ShimHarness.loopbackRedirect]))
            params.redirectURI = "https://evil.example/cb"
        case .rootPath: params.clientID = "https://app.example.com/"
        case .httpURL: params.clientID = "http://app.example.com/client.json"
        default: documents.publish(url, FakeDocuments.document(url))
        }
        let request = params
        try await harness.run { client async throws in
            var browser = Browser()
            let response = try await client.authorize(request, browser: &browser)
            #expect(response.status == .badRequest, "\(refusal): \(response.status) \(response.text)")
            #expect(response.location == nil)
            #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(harness.upstream.state.current.authorizations.isEmpty)
        }
        if [.blockedHost, .hostNotAllowed, .disabled, .rootPath, .httpURL].contains(refusal) {
            #expect(documents.fetched.isEmpty, "the policy refuses before any fetch")
        }
    }

    @Test("/token: a CIMD client is public; a secret, or a document gone bad, is invalid_client")
    func tokenEndpoint() async throws {
        let (harness, documents) = try Self.harness()
        documents.publish(Self.url, FakeDocuments.document(Self.url))
        try await harness.run { client async throws in
            var browser = Browser()
            let callback = try await client.authorizeThroughCallback(AuthorizeParams(app: Self.app), browser: &browser)
            let withSecret = TestApp(clientID: Self.url, secret: "guess", redirectURIs: Self.app.redirectURIs, authMethod: "client_secret_post")
            let refused = try await client.exchange(code: callback.code, app: withSecret)
            #expect(refused.status == .unauthorized && refused.oauthError == "invalid_client")
            documents.fail(Self.url, .status(410))
            let gone = try await client.exchange(code: callback.code, app: Self.app)
            #expect(gone.status == .unauthorized && gone.oauthError == "invalid_client", "\(gone.text)")
        }
    }

    // Such a client holds no code and no refresh token the shim has not seen it
    // ask for, so fetching its document for /token or /revoke only gives an
    // unauthenticated caller outbound requests and stored rows for free.
    @Test("/token and /revoke: a document URL never seen at /authorize is invalid_client without a fetch")
    func neverSeenIsNotFetched() async throws {
        let (harness, documents) = try Self.harness()
        let stranger = "https://stranger.example.com/oauth/client.json"
        documents.publish(stranger, FakeDocuments.document(stranger))
        try await harness.run { client async throws in
            let app = TestApp(clientID: stranger, secret: nil, redirectURIs: [ShimHarness.loopbackRedirect], authMethod: "none")
            let token = try await client.exchange(code: "made-up-code", app: app)
            #expect(token.status == .unauthorized && token.oauthError == "invalid_client", "\(token.text)")
            let revoke = try await client.post("/revoke", form: [("token", "made-up"), ("client_id", stranger)])
            #expect(revoke.status == .unauthorized && revoke.oauthError == "invalid_client", "\(revoke.text)")
            #expect(documents.fetched.isEmpty, "\(documents.fetched)")
            #expect(try await harness.store.cimdClient(url: stranger) == nil)
        }
    }

    // A passing failure to fetch the document says nothing about the client:
    // answered invalid_client, MCP SDKs drop their credentials and sign in again,
    // so an attacker who slows the document's host would log every user out.
    @Test(
        "/token: a fetch that fails for a while is 503 temporarily_unavailable; a document that is gone is invalid_client",
        arguments: [
            (GuardedFetcher.FetchError.timeout(seconds: 5), 503), (.busy(host: "app.example.com"), 503),
            (.connection(host: "app.example.com", "connection refused"), 503), (.resolution(host: "app.example.com"), 503),
            (.status(503), 503), (.status(429), 503), (.status(500), 503),
            (.status(404), 401), (.status(410), 401), (.contentType("text/html"), 401), (.tooLarge(limit: 5120), 401),
        ])
    func tokenEndpointTransientFailures(_ failure: GuardedFetcher.FetchError, _ status: Int) async throws {
        let (harness, documents) = try Self.harness()
        documents.publish(Self.url, FakeDocuments.document(Self.url))
        try await harness.run { client async throws in
            var browser = Browser()
            let callback = try await client.authorizeThroughCallback(AuthorizeParams(app: Self.app), browser: &browser)
            documents.fail(Self.url, failure)
            let response = try await client.exchange(code: callback.code, app: Self.app)
            #expect(Int(response.status.code) == status, "\(failure): \(response.text)")
            #expect(response.oauthError == (status == 503 ? "temporarily_unavailable" : "invalid_client"), "\(failure): \(response.text)")
            if status == 503 { #expect(response.headers[.retryAfter] != nil) }
        }
    }

    // The reason a fetch failed can map the shim's network (which private address
    // a name has, how a port answered): it goes to the log, not to the caller.
    @Test("a refused fetch tells the caller no address and no port's behaviour")
    func noNetworkDetailToCaller() async throws {
        let (harness, documents) = try Self.harness()
        documents.fail(Self.url, .forbiddenAddress(host: "app.example.com", address: NetworkAddress("10.1.2.3")!, .privateUse))
        try await harness.run { client async throws in
            let response = try await client.get(AuthorizeParams(app: Self.app).uri)
            #expect(response.status == .badRequest, "\(response.text)")
            #expect(!response.text.contains("10.1.2.3") && !response.text.contains("private"), "\(response.text)")
            documents.fail(Self.url, .connection(host: "app.example.com", "connection refused"))
            let refused = try await client.get(AuthorizeParams(app: Self.app).uri)
            #expect(!refused.text.contains("refused"), "\(refused.text)")
        }
    }

    @Test(
        "GHSA-6x8h-498w-gv8c: remembered consent is keyed on the document URL and skips the page only for cimd.allowed_hosts",
        arguments: [false, true])
    func rememberedConsent(allowedHost: Bool) async throws {
        let cimd: [String: ConfigValue] = allowedHost ? ["allowed_hosts": .list([.string("*.example.com")])] : [:]
        let (harness, documents) = try Self.harness(consent: "remember", cimd: cimd)
        let other = "https://app.example.com/oauth/other.json"
        documents.publish(Self.url, FakeDocuments.document(Self.url))
        documents.publish(other, FakeDocuments.document(other))
        try await harness.run { client async throws in
            var browser = Browser(secFetchSite: "none")
            _ = try await client.authorizeThroughCallback(AuthorizeParams(app: Self.app), browser: &browser)
            let again = try await client.authorize(AuthorizeParams(app: Self.app), browser: &browser)
            let location = try #require(again.location)
            if allowedHost {
                #expect(location.hasPrefix(FakeUpstream.authorizeEndpoint), "an allowed host's remembered consent is honoured")
            } else {
                #expect(location.hasPrefix(ShimHarness.issuer + "/consent?"), "a CIMD host not in allowed_hosts always sees the page")
            }
            // Another document on the same host is another client: asked again either way.
            var otherParams = AuthorizeParams(app: Self.app)
            otherParams.clientID = other
            let third = try await client.authorize(otherParams, browser: &browser)
            #expect(third.location?.hasPrefix(ShimHarness.issuer + "/consent?") == true)
        }
    }

    @Test("housekeeping forgets a metadata-document client once its grants can no longer be alive (refresh_ttl + 1 day)")
    func housekeeping() async throws {
        let (harness, _) = try Self.harness()
        let now = harness.clock.now()
        for (name, age) in [("old", 32.0), ("recent", 29.0)] {
            let at = now.addingTimeInterval(-age * 86400)
            try await harness.store.recordCIMDClient(
                CIMDClientRecord(
                    url: "https://app.example.com/\(name).json", host: "app.example.com",
                    clientName: name, redirectURIs: [], documentHash: "0",
                    firstSeen: at, lastFetched: at))
        }
        let sweeper = Task {
            try await HousekeepingService(
                store: harness.store, config: harness.services.config, clock: harness.clock, logger: harness.logger, interval: .seconds(60)
            ).run()
        }
        for _ in 0..<100 where try await harness.store.listCIMDClients(limit: 10).count == 2 { try await Task.sleep(for: .milliseconds(20)) }
        sweeper.cancel()
        #expect(try await harness.store.listCIMDClients(limit: 10).map(\.clientName) == ["recent"])
    }
}
