import Foundation
import ShimCore
import Testing

@testable import ShimUpstream

/// Each preset produces the requests its IdP accepts, from the
/// provider's documentation: parameters, endpoints, refresh, subject, errors.
@Suite("IdP presets")
struct PresetProfileTests {
    static func config(
        _ preset: UpstreamPreset, issuer: String? = nil, tenant: String? = nil, audience: String? = nil,
        extra: [String: String] = [:]
    ) -> UpstreamConfiguration {
        var config = UpstreamConfiguration(
            preset: preset, tenant: tenant, issuer: issuer, authorizationEndpoint: nil, tokenEndpoint: nil, revocationEndpoint: nil,
            clientID: "static", clientSecret: "s", tokenEndpointAuthMethod: preset.defaultTokenEndpointAuthMethod, scopes: [],
            extraAuthorizeParams: extra, extraTokenParams: [:], timeoutSeconds: 10)
        config.audience = audience
        return config
    }

    @Test("Google asks for offline access and consent; Auth0 names the API; the operator's extras win on the same name")
    func authorizeParameters() {
        let google = IdPProfile.of(.google).authorizeParameters(Self.config(.google))
        #expect(google.map(\.0) == ["access_type", "prompt"] && google.map(\.1) == ["offline", "consent"])
        let overridden = IdPProfile.of(.google).authorizeParameters(
            Self.config(.google, extra: ["prompt": "select_account consent", "hd": "example.com"]))
        #expect(overridden.map(\.0) == ["access_type", "hd", "prompt"])
        #expect(overridden.first { $0.0 == "prompt" }?.1 == "select_account consent")
        let auth0 = IdPProfile.of(.auth0).authorizeParameters(Self.config(.auth0, audience: "https://api.example.com"))
        #expect(auth0.map(\.0) == ["audience"] && auth0.first?.1 == "https://api.example.com")
        for preset in [UpstreamPreset.entra, .okta, .github, .keycloak, .oidc] {
            #expect(IdPProfile.of(preset).authorizeParameters(Self.config(preset)).isEmpty, "\(preset)")
        }
    }

    @Test("endpoints: Entra and GitHub fixed (overridable for a test IdP), Google's discovery base, the others configured")
    func endpoints() {
        let entra = IdPProfile.of(.entra)
        #expect(entra.fixedEndpoints(Self.config(.entra, tenant: "t1"))?.token == "https://login.microsoftonline.com/t1/oauth2/v2.0/token")
        #expect(entra.discoveryIssuer(Self.config(.entra, tenant: "t1")) == "https://login.microsoftonline.com/t1/v2.0")
        let github = IdPProfile.of(.github).fixedEndpoints(Self.config(.github))
        #expect(github?.authorization == "https://github.com/login/oauth/authorize")
        #expect(github?.token == "https://github.com/login/oauth/access_token")
        #expect(github?.userinfo == "https://api.github.com/user")
        var local = Self.config(.github)
        local.authorizationEndpoint = "http://127.0.0.1:9999/login/oauth/authorize"
        local.tokenEndpoint = "http://127.0.0.1:9999/login/oauth/access_token"
        local.userinfoEndpoint = "http://127.0.0.1:9999/user"
        #expect(
            IdPProfile.of(.github).fixedEndpoints(local)
                == UpstreamEndpoints(
                    authorization: "http://127.0.0.1:9999/login/oauth/authorize", token: "http://127.0.0.1:9999/login/oauth/access_token",
                    userinfo: "http://127.0.0.1:9999/user"))
        #expect(IdPProfile.of(.google).discoveryIssuer(Self.config(.google)) == "https://accounts.google.com")
        for preset in [UpstreamPreset.okta, .auth0, .keycloak, .oidc] {
            #expect(IdPProfile.of(preset).fixedEndpoints(Self.config(preset, issuer: "https://idp.example")) == nil)
            #expect(IdPProfile.of(preset).discoveryIssuer(Self.config(preset, issuer: "https://idp.example")) == "https://idp.example")
        }
    }

    @Test("refresh, subject and error shape per preset, as each provider documents them")
    func behaviour() {
        #expect(IdPProfile.of(.entra).scopeOnRefresh && IdPProfile.of(.entra).refresh == .rotates)
        #expect(!IdPProfile.of(.google).scopeOnRefresh && IdPProfile.of(.google).refresh == .keeps)
        #expect(!IdPProfile.of(.github).scopeOnRefresh && IdPProfile.of(.github).refresh == .onlyWhenEnabled)
        #expect(IdPProfile.of(.github).subject == .githubUser && IdPProfile.of(.github).errorsWithStatus200)
        for preset in UpstreamPreset.allCases where preset != .github {
            #expect(IdPProfile.of(preset).subject == .idToken && !IdPProfile.of(preset).errorsWithStatus200)
        }
        #expect(UpstreamPreset.github.defaultTokenEndpointAuthMethod == "client_secret_post")
        #expect(UpstreamPreset.auth0.defaultTokenEndpointAuthMethod == "client_secret_post")
        #expect(UpstreamPreset.entra.defaultTokenEndpointAuthMethod == "client_secret_basic")
    }

    /// (preset, phase, status, error, description, client error, words of the fix)
    static let errors: [(UpstreamPreset, UpstreamErrorReport.Phase, Int?, String, String, OAuthError.Code, [String])] = [
        (.google, .authorization, nil, "redirect_uri_mismatch", "", .serverError, ["Authorized redirect URIs", "https://auth.example.com/callback"]),
        (.google, .codeExchange, 401, "invalid_client", "The OAuth client was not found.", .serverError, ["APIs & Services → Credentials"]),
        (.google, .refresh, 400, "invalid_grant", "Token has been expired or revoked.", .invalidGrant, ["signs in again"]),
        (.google, .authorization, nil, "admin_policy_enforced", "", .accessDenied, ["OAuth consent screen"]),
        (
            .github, .codeExchange, 200, "incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.", .serverError,
            ["Developer settings", "Generate a new client secret"]
        ),
        (.github, .codeExchange, 200, "bad_verification_code", "The code passed is incorrect or expired.", .accessDenied, ["starts again"]),
        (.github, .refresh, 200, "bad_refresh_token", "The refresh token passed is incorrect or expired.", .invalidGrant, ["signs in again"]),
        (.github, .authorization, nil, "redirect_uri_mismatch", "", .serverError, ["Authorization callback URL"]),
        (.github, .authorization, nil, "application_suspended", "", .serverError, ["suspended"]),
        (
            .auth0, .authorization, nil, "access_denied", "Service not found: https://api.example.com", .serverError,
            ["Create API", "upstream.audience"]
        ),
        // Auth0 answers a wrong client secret with 401 access_denied "Unauthorized".
        (.auth0, .codeExchange, 401, "access_denied", "Unauthorized", .serverError, ["Client Secret", "client_secret_post"]),
        (.okta, .authorization, nil, "access_denied", "User is not assigned to the client application.", .accessDenied, ["Assignments"]),
        (
            .okta, .authorization, nil, "invalid_scope", "One or more scopes are not configured for the authorization server resource.", .serverError,
            ["Authorization Servers", "Scopes"]
        ),
        (.keycloak, .authorization, nil, "invalid_request", "Invalid scopes: openid mcp", .serverError, ["Client scopes"]),
        (.keycloak, .codeExchange, 401, "unauthorized_client", "Invalid client or Invalid client credentials", .serverError, ["Credentials"]),
        (.oidc, .codeExchange, 401, "invalid_client", "", .serverError, ["upstream.client_secret", "client_secret_basic"]),
        (.oidc, .refresh, 503, "none", "", .temporarilyUnavailable, ["503"]),
        // The status alone at the token endpoint (glewlwyd refuses a client assertion with a bare 403): the client was refused.
        (.oidc, .codeExchange, 403, "none", "", .serverError, ["refused the shim's client credentials", "client_secret_basic"]),
        (.oidc, .refresh, 401, "none", "", .serverError, ["refused the shim's client credentials"]),
        (.oidc, .codeExchange, 404, "none", "", .serverError, ["answered none"]),
        (.oidc, .authorization, nil, "temporarily_unavailable", "", .temporarilyUnavailable, []),
        (.oidc, .authorization, nil, "access_denied", "", .accessDenied, ["declined"]),
    ]

    @Test("each provider's errors: the client's error and the fix in that provider's console", arguments: 0..<errors.count)
    func providerErrors(_ index: Int) {
        let (preset, phase, status, error, description, clientCode, words) = Self.errors[index]
        var config = Self.config(preset, issuer: "https://idp.example")
        config.clientID = "static-client"
        let failure = IdPProfile.of(preset).explain(
            UpstreamErrorReport(phase: phase, status: status, error: error, description: description),
            context: FailureContext(config: config, callbackURL: "https://auth.example.com/callback"))
        #expect(failure.error.code == clientCode, "\(preset) \(error)")
        for word in words { #expect(failure.operatorHint.contains(word), "\(preset) \(error): \(failure.operatorHint)") }
        if !description.isEmpty { #expect(!failure.error.description.contains(description)) }
    }

    @Test("token responses: JSON, GitHub's form encoding, numeric-string expires_in, hostile numbers clamped")
    func tokenResponses() throws {
        let json = try UpstreamTokenResponse.parse(Data(#"{"access_token":"a","token_type":"bearer","expires_in":"3599","scope":"repo,gist"}"#.utf8))
        #expect(json.expiresIn == 3599 && json.scope == "repo,gist" && json.tokenType == "Bearer")
        let form = try UpstreamTokenResponse.parse(
            Data("access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&scope=repo%2Cgist&token_type=bearer".utf8),
            formEncoded: true)
        #expect(form.accessToken == "gho_16C7e42F292c6912E7710c838347Ae178B4a" && form.expiresIn == nil && form.refreshToken == nil)
        #expect(
            try UpstreamTokenResponse.parse(Data(#"{"access_token":"a","token_type":"Bearer","expires_in":1e300}"#.utf8)).expiresIn
                == Clamp.maxTokenLifetime)  // one clamp for every outside number (never a crash)
        #expect(try UpstreamTokenResponse.parse(Data(#"{"access_token":"a","token_type":"Bearer","expires_in":-5}"#.utf8)).expiresIn == 0)
        #expect(try UpstreamTokenResponse.parse(Data(#"{"access_token":"a","token_type":"Bearer","expires_in":[1]}"#.utf8)).expiresIn == nil)
        #expect(try UpstreamTokenResponse.parse(Data(#"{"access_token":"a","token_type":"Bearer","refresh_token":""}"#.utf8)).refreshToken == nil)
        for bad in [#"[]"#, #"{"token_type":"Bearer"}"#, #"{"access_token":"a","token_type":"mac"}"#, "access_token=a"] {
            #expect(throws: OAuthError.self, "\(bad)") { try UpstreamTokenResponse.parse(Data(bad.utf8)) }
        }
    }
}
