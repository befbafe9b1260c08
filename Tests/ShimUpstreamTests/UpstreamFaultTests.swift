import AsyncHTTPClient
import Foundation
import Logging
import ShimCore
import ShimTesting
import ShimUpstream
import Synchronization
import Testing

/// Each upstream fault becomes a clear OAuth error for the client, with the
/// IdP's detail kept for the log, and the next call works again
/// (issue "Hardening": down, slow, 5xx, invalid JSON, missing fields).
@Suite("Upstream faults")
struct UpstreamFaultTests {
    /// A generous `upstream.timeout` by default: a loopback IdP can take
    /// seconds to answer on a loaded machine, and only the slow-IdP case
    /// asserts the timeout (with its own short one).
    static func upstream(_ base: String, timeout: Int = 15) -> OIDCUpstream {
        let config = UpstreamConfiguration(
            preset: .oidc, tenant: nil, issuer: nil, authorizationEndpoint: base + "/authorize", tokenEndpoint: base + "/token",
            revocationEndpoint: nil, clientID: "static-client", clientSecret: "static secret&=", tokenEndpointAuthMethod: "client_secret_basic",
            scopes: ["openid"], extraAuthorizeParams: [:], extraTokenParams: ["audience": "api"], timeoutSeconds: timeout)
        return OIDCUpstream(config: config, callbackURL: "http://127.0.0.1:1/callback", httpClient: .shared, logger: Logger(label: "test"))
    }

    static let faults: [(FakeIdP.Mode, OAuthError.Code, Int)] = [
        (.status(500), .temporarilyUnavailable, 503),
        (.status(503), .temporarilyUnavailable, 503),
        (.invalidJSON, .serverError, 502),
        (.missingAccessToken, .serverError, 502),
        (.missingTokenType, .serverError, 502),
        (.upstreamError("invalid_client"), .serverError, 502),
        // A refused code goes back on the client's redirect: RFC 6749 §4.1.2.1 has no invalid_grant there.
        (.upstreamError("invalid_grant"), .accessDenied, 400),
        (.slow(seconds: 4), .temporarilyUnavailable, 503),
    ]

    @Test("a fault at the token endpoint maps to a clear OAuth error, then the IdP works again", arguments: 0..<faults.count)
    func faultThenRecovery(_ index: Int) async throws {
        let (mode, expected, status) = Self.faults[index]
        let idp = FakeIdP()
        try await idp.run { base in
            let isSlow = if case .slow = mode { true } else { false }
            let upstream = Self.upstream(base, timeout: isSlow ? 2 : 15)
            idp.set(mode)
            let error = await #expect(throws: OAuthError.self) { try await upstream.exchangeCode("c", codeVerifier: "v") }
            #expect(error?.code == expected)
            #expect(error?.status == status)
            // The client-facing text never carries the IdP's body.
            #expect(error?.description.contains("oops") == false)
            #expect(error?.description.contains("refused by test") == false)
            idp.set(.normal)
            let tokens = try await upstream.exchangeCode("c2", codeVerifier: "v2")
            #expect(tokens.accessToken.hasPrefix("at-"))
        }
    }

    @Test("an IdP that is down (connection refused) is temporarily_unavailable")
    func down() async throws {
        // Port 9 (discard) on loopback has no listener here.
        let upstream = Self.upstream("http://127.0.0.1:9")
        let error = await #expect(throws: OAuthError.self) { try await upstream.refresh("r", scope: ScopeSet("openid")) }
        #expect(error?.code == .temporarilyUnavailable)
    }

    @Test("client_secret_basic form-encodes the credentials; client_id also in the body; extra params sent")
    func clientAuthentication() async throws {
        let idp = FakeIdP()
        try await idp.run { base in
            _ = try await Self.upstream(base).exchangeCode("the-code", codeVerifier: "the-verifier")
            let header = try #require(idp.lastAuthorization.withLock { $0 })
            let decoded = String(decoding: Data(base64Encoded: String(header.dropFirst("Basic ".count)))!, as: UTF8.self)
            // RFC 6749 §2.3.1: application/x-www-form-urlencoded before Base64.
            #expect(decoded == "static-client:static%20secret%26%3D")
            let form = idp.lastForm.withLock { $0 }
            #expect(form["client_id"] == "static-client")
            #expect(form["client_secret"] == nil)
            #expect(form["code_verifier"] == "the-verifier")
            #expect(form["redirect_uri"] == "http://127.0.0.1:1/callback")
            #expect(form["audience"] == "api")
        }
    }

    @Test("the authorize URL carries the shim's PKCE challenge, state, nonce and never `resource`")
    func authorizationURL() async throws {
        let url = try await Self.upstream("https://idp.example").authorizationURL(
            state: "st", codeChallenge: "ch", nonce: "no", scope: ScopeSet("openid api://x/mcp.access"))
        #expect(url.hasPrefix("https://idp.example/authorize?response_type=code&client_id=static-client"))
        #expect(url.contains("code_challenge=ch&code_challenge_method=S256"))
        #expect(url.contains("state=st") && url.contains("nonce=no"))
        #expect(url.contains("scope=openid%20api%3A%2F%2Fx%2Fmcp.access"))
        #expect(!url.contains("resource="))
    }
}
