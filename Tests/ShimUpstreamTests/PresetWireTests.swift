import AsyncHTTPClient
import Foundation
import HTTPTypes
import Logging
import ShimCore
import ShimTesting
import Synchronization
import Testing

@testable import ShimUpstream

/// The presets on the wire, through AsyncHTTPClient against a fake IdP over
/// real HTTP: what is sent, and how the answers are read.
@Suite("IdP presets on the wire")
struct PresetWireTests {
    static func upstream(_ preset: UpstreamPreset, _ base: String) -> OIDCUpstream {
        var config = UpstreamConfiguration(
            preset: preset, tenant: preset == .entra ? "t1" : nil, issuer: nil, authorizationEndpoint: base + "/authorize",
            tokenEndpoint: base + "/token", revocationEndpoint: nil, clientID: "static-client", clientSecret: "sec",
            tokenEndpointAuthMethod: preset.defaultTokenEndpointAuthMethod, scopes: [], extraAuthorizeParams: [:],
            extraTokenParams: [:], timeoutSeconds: 15)  // generous: a loaded machine answers slowly; no test here asserts a timeout
        config.userinfoEndpoint = base + "/userinfo"
        return OIDCUpstream(config: config, callbackURL: "http://127.0.0.1:1/callback", httpClient: .shared, logger: Logger(label: "test"))
    }

    // https://docs.github.com/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#2-users-are-redirected-back-to-your-site-by-github
    @Test("GitHub: client_secret_post, JSON asked for; a form-encoded answer is read; an error inside a 200 is an error")
    func github() async throws {
        let idp = FakeIdP()
        try await idp.run { base in
            let github = Self.upstream(.github, base)
            idp.set(.raw(200, "application/x-www-form-urlencoded; charset=utf-8", "access_token=gho_abc&scope=read%3Auser&token_type=bearer"))
            let tokens = try await github.exchangeCode("c", codeVerifier: "v")
            #expect(tokens.accessToken == "gho_abc" && tokens.refreshToken == nil)
            let form = idp.lastForm.withLock { $0 }
            #expect(form["client_id"] == "static-client" && form["client_secret"] == "sec")
            #expect(idp.lastAuthorization.withLock { $0 } == nil)
            idp.set(
                .raw(200, "application/json", #"{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired."}"#))
            let refused = await #expect(throws: OAuthError.self) { try await github.exchangeCode("c", codeVerifier: "v") }
            #expect(refused?.code == .accessDenied)
            idp.set(.raw(200, "application/json", #"{"error":"incorrect_client_credentials"}"#))
            let credentials = await #expect(throws: OAuthError.self) { try await github.exchangeCode("c", codeVerifier: "v") }
            #expect(credentials?.code == .serverError && credentials?.status == 502)
            idp.set(.raw(200, "application/json", #"{"error":"bad_refresh_token"}"#))
            let refresh = await #expect(throws: OAuthError.self) { try await github.refresh("r", scope: ScopeSet("read:user")) }
            #expect(refresh?.code == .invalidGrant)
            #expect(idp.lastForm.withLock { $0 }["scope"] == nil)
        }
    }

    @Test("GitHub: the subject is the numeric id of GET /user, asked with a User-Agent and GitHub's media type")
    func githubSubject() async throws {
        let idp = FakeIdP()
        try await idp.run { base in
            let githubSubject = try await Self.upstream(.github, base).subject(accessToken: "at-1")
            #expect(githubSubject == "583231")
            let headers = idp.lastUserinfoHeaders.withLock { $0 }
            #expect(headers[.userAgent] == "dcr-shim" && headers[.accept] == "application/vnd.github+json")
            #expect(headers[.init("X-GitHub-Api-Version")!] == "2022-11-28")
            let oidcSubject = try await Self.upstream(.oidc, base).subject(accessToken: "at-1")
            #expect(oidcSubject == "user-7")
            let refused = await #expect(throws: OAuthError.self) { try await Self.upstream(.oidc, base).subject(accessToken: "forged") }
            #expect(refused?.code == .serverError)
        }
    }

    @Test("refresh names the scopes again for Entra (one resource per token) and not for Google or GitHub")
    func refreshScope() async throws {
        let idp = FakeIdP()
        try await idp.run { base in
            for (preset, sends) in [(UpstreamPreset.entra, true), (.google, false), (.github, false), (.okta, true), (.keycloak, true)] {
                _ = try await Self.upstream(preset, base).refresh("r", scope: ScopeSet("openid api://app/mcp.access"))
                let form = idp.lastForm.withLock { $0 }
                #expect((form["scope"] == "openid api://app/mcp.access") == sends, "\(preset)")
                #expect(form["grant_type"] == "refresh_token" && form["refresh_token"] == "r")
            }
        }
    }

    @Test("an Entra error answer: the client's message, the AADSTS code kept for the log")
    func entraTokenError() async throws {
        let idp = FakeIdP()
        try await idp.run { base in
            idp.set(
                .raw(
                    401, "application/json; charset=utf-8",
                    #"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID","error_codes":[7000215]}"#
                ))
            let error = await #expect(throws: OAuthError.self) { try await Self.upstream(.entra, base).exchangeCode("c", codeVerifier: "v") }
            #expect(error?.code == .serverError && error?.status == 502)
            #expect(error?.detail?.contains("AADSTS7000215") == true)
            #expect(error?.description.contains("secret") == false)
        }
    }

    @Test("the callback's error=: Entra's AADSTS code in error_description is explained")
    func callbackError() {
        let entra = Self.upstream(.entra, "http://127.0.0.1:9")
        let failure = entra.explainAuthorizationError("invalid_client", description: "AADSTS65001: The user or administrator has not consented")
        #expect(failure.providerCode == "AADSTS65001" && failure.error.code == .accessDenied)
        #expect(failure.operatorHint.contains("Grant admin consent"))
        let plain = Self.upstream(.oidc, "http://127.0.0.1:9").explainAuthorizationError("login_required", description: nil)
        #expect(plain.error.code == .accessDenied)
    }
}
