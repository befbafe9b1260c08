import Foundation
import ShimCore
import Testing

@testable import ShimUpstream

@Suite("Upstream endpoints")
struct DiscoveryTests {
    @Test("OIDC discovery is appended; RFC 8414 is path-inserted for an issuer with a path")
    func discoveryURLs() {
        #expect(
            UpstreamEndpoints.discoveryURLs(issuer: "http://127.0.0.1:8000/o") == [
                "http://127.0.0.1:8000/o/.well-known/openid-configuration",
                "http://127.0.0.1:8000/.well-known/oauth-authorization-server/o",
                "http://127.0.0.1:8000/o/.well-known/oauth-authorization-server",
            ])
    }

    @Test("Entra v2 endpoints come from the tenant, with no discovery")
    func entra() {
        let config = UpstreamConfiguration(
            preset: .entra, tenant: "contoso.onmicrosoft.com", issuer: nil, authorizationEndpoint: nil, tokenEndpoint: nil,
            revocationEndpoint: nil, clientID: "c", clientSecret: "s", tokenEndpointAuthMethod: "client_secret_post",
            scopes: [], extraAuthorizeParams: [:], extraTokenParams: [:], timeoutSeconds: 10)
        let endpoints = UpstreamEndpoints.fixed(for: config)
        #expect(endpoints?.authorization == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize")
        #expect(endpoints?.token == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token")
    }

    @Test("a discovery document for another issuer is refused (OIDC Discovery §4.3, mix-up)")
    func issuerMismatch() throws {
        let body = Data(
            #"{"issuer":"https://evil.example","authorization_endpoint":"https://evil.example/a","token_endpoint":"https://evil.example/t"}"#.utf8)
        let config = UpstreamConfiguration(
            preset: .oidc, tenant: nil, issuer: "https://idp.example", authorizationEndpoint: nil, tokenEndpoint: nil,
            revocationEndpoint: nil, clientID: "c", clientSecret: "s", tokenEndpointAuthMethod: "client_secret_basic",
            scopes: [], extraAuthorizeParams: [:], extraTokenParams: [:], timeoutSeconds: 10)
        #expect(throws: OAuthError.self) { try OIDCUpstream.parseDiscovery(body, issuer: "https://idp.example", overrides: config) }
        let good = Data(
            #"{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/a","token_endpoint":"https://idp.example/t","revocation_endpoint":"https://idp.example/r"}"#
                .utf8)
        let endpoints = try OIDCUpstream.parseDiscovery(good, issuer: "https://idp.example", overrides: config)
        var expected = UpstreamEndpoints(authorization: "https://idp.example/a", token: "https://idp.example/t", revocation: "https://idp.example/r")
        expected.issuer = "https://idp.example"  // what its ID tokens must carry (rule 12)
        #expect(endpoints == expected)
    }

    @Test("Entra's discovery names the tenant by GUID (or {tenantid}) also when configured by domain; other presets get no such leeway")
    func entraIssuer() throws {
        var config = UpstreamConfiguration(
            preset: .entra, tenant: "contoso.onmicrosoft.com", issuer: nil, authorizationEndpoint: nil, tokenEndpoint: nil,
            revocationEndpoint: nil, clientID: "c", clientSecret: "s", tokenEndpointAuthMethod: "client_secret_post",
            scopes: [], extraAuthorizeParams: [:], extraTokenParams: [:], timeoutSeconds: 10)
        let configured = "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0"
        for published in [
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0", "https://login.microsoftonline.com/{tenantid}/v2.0",
        ] {
            let body = Data(#"{"issuer":"\#(published)","authorization_endpoint":"https://a","token_endpoint":"https://t"}"#.utf8)
            #expect(throws: Never.self) { try OIDCUpstream.parseDiscovery(body, issuer: configured, overrides: config) }
        }
        for published in [
            "https://evil.example/72f988bf/v2.0", "https://login.microsoftonline.com/x/v2.0/extra", "https://login.microsoftonline.com/x",
        ] {
            let body = Data(#"{"issuer":"\#(published)","authorization_endpoint":"https://a","token_endpoint":"https://t"}"#.utf8)
            #expect(throws: OAuthError.self, "\(published)") { try OIDCUpstream.parseDiscovery(body, issuer: configured, overrides: config) }
        }
        config.preset = .oidc
        let other = Data(
            #"{"issuer":"https://login.microsoftonline.com/72f988bf/v2.0","authorization_endpoint":"https://a","token_endpoint":"https://t"}"#.utf8)
        #expect(throws: OAuthError.self) { try OIDCUpstream.parseDiscovery(other, issuer: configured, overrides: config) }
    }
}
