import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimTesting
import Testing

/// Rule 9: "Secrets, codes, tokens and ID-JAGs are never logged; logs carry hashes or prefixes."
@Suite("Logs carry no secrets (rule 9)")
struct LogSecretTests {
    @Test("no log line of a full flow, refresh, reuse, replay and revoke contains a secret, code or token")
    func noSecretsInLogs() async throws {
        let harness = try ShimHarness(refreshGrace: "10s")
        harness.upstream.state.withLock { $0.accessTokenLifetime = 30 }  // the shim refreshes upstream too
        let shimSecrets = Locked<[String]>([])
        let clientID = Locked("")
        try await harness.run { client async throws in
            let app = try await client.register(
                redirectURIs: [ShimHarness.allowedHTTPS], authMethod: "client_secret_basic",
                name: "Log Test Client")
            var browser = Browser()
            let params = AuthorizeParams(app: app)
            let start = try await client.authorize(params, browser: &browser)
            let form = try await client.consentPage(try #require(start.location), browser: browser)
            let upstreamURL = try #require(try await client.decide(form, browser: browser).location)
            let callback = try await client.callback(from: upstreamURL, browser: browser)
            let code = try #require(callback.redirectParams["code"])
            let tokens = try await client.exchange(code: code, app: app)
            #expect(tokens.status == .ok)
            let refresh1 = try #require(tokens.json["refresh_token"] as? String)
            let refresh2 = try #require(try await client.refresh(refresh1, app: app).json["refresh_token"] as? String)
            _ = try await client.refresh(refresh1, app: app)  // within grace
            harness.clock.advance(by: 11)
            _ = try await client.refresh(refresh1, app: app)  // reuse: family revoked
            _ = try await client.exchange(code: code, app: app)  // code replay

            // A second grant, revoked by the client, and a third that fails at the IdP.
            var second = Browser()
            let code2 = try await client.authorizeThroughCallback(AuthorizeParams(app: app), browser: &second).code
            let refresh3 = try #require(try await client.exchange(code: code2, app: app).json["refresh_token"] as? String)
            _ = try await client.revoke(refresh3, app: app)
            harness.upstream.state.withLock { $0.refreshFailure = FakeUpstream.invalidGrant }
            var third = Browser()
            let code3 = try await client.authorizeThroughCallback(AuthorizeParams(app: app), browser: &third).code
            let refresh4 = try #require(try await client.exchange(code: code3, app: app).json["refresh_token"] as? String)
            _ = try await client.refresh(refresh4, app: app)
            // Bad client authentication, with the real secret of another client in the header.
            _ = try await client.post(
                "/token", form: [("grant_type", "refresh_token"), ("refresh_token", refresh2)],
                headers: [.authorization: "Basic " + Data("nobody:\(app.secret ?? "")".utf8).base64EncodedString()])

            clientID.withLock { $0 = app.clientID }
            let cookieID = String((browser.cookie ?? "").split(separator: "=", maxSplits: 1).last?.split(separator: ".").first ?? "")
            shimSecrets.withLock {
                $0 = [app.secret ?? "", code, code2, code3, refresh1, refresh2, refresh3, refresh4, form.csrfToken, form.requestID, cookieID]
            }
        }

        let upstream = harness.upstream.state.current
        let forbidden: [(String, String)] =
            [("upstream client secret", ShimHarness.upstreamSecret)]
            + upstream.issuedRefreshTokens.map { ("upstream refresh token", $0) }
            + upstream.issuedAccessTokens.map { ("upstream access token", $0) }
            + upstream.issuedIDTokens.map { ("upstream ID token", $0) }
            + upstream.exchangedCodes.map { ("upstream code", $0) }
            + upstream.authorizations.map { ("upstream state", $0.state) }
            + upstream.authorizations.compactMap { $0.nonce }.map { ("upstream nonce", $0) }
            + shimSecrets.current.map { ("shim secret, code, token, CSRF token, request id or cookie", $0) }
        let lines = harness.logLines.current
        #expect(lines.count > 10, "the capture saw the flow")
        // Logs name the client (its id is public), just not its secrets.
        #expect(lines.contains { $0.contains(clientID.current) })
        #expect(upstream.refreshCalls.count >= 1)
        for (what, secret) in forbidden where !secret.isEmpty {
            let leaks = lines.filter { $0.contains(secret) }
            #expect(leaks.isEmpty, "\(what) logged: \(leaks.first ?? "")")
        }
    }
}
