import Foundation
import Logging
import ShimCore
import ShimTesting
import Synchronization
import Testing

@testable import ShimUpstream

/// Tokens for the APIs behind an MCP server, obtained as the user, on the
/// wire against a scripted IdP: the request each method sends, the app's
/// own client authentication, and how Entra's refusals read.
@Suite("Downstream tokens on the wire: on-behalf-of and token exchange")
struct DownstreamWireTests {
    static let graph = DownstreamAPI(name: "graph", header: "X-Graph-Token", scopes: ["https://graph.microsoft.com/User.Read"])
    static let answer = #"{"access_token":"graph-token-1","token_type":"Bearer","expires_in":3599,"scope":"User.Read"}"#

    // https://learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow, "First case: Access token request with a shared secret"
    @Test("Entra on-behalf-of: jwt-bearer grant, the user's access token as assertion, scope, requested_token_use, the app's secret")
    func onBehalfOfWithSecret() async throws {
        let idp = FakeIdP()
        try await idp.run { base in
            idp.set(.raw(200, "application/json", Self.answer))
            let tokens = try await PresetWireTests.upstream(.entra, base).downstreamToken(
                Self.graph, method: .onBehalfOf, assertion: "user-access-token")
            #expect(tokens.accessToken == "graph-token-1" && tokens.expiresIn == 3599)
            let form = idp.lastForm.withLock { $0 }
            #expect(form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer")
            #expect(form["assertion"] == "user-access-token" && form["requested_token_use"] == "on_behalf_of")
            #expect(form["scope"] == "https://graph.microsoft.com/User.Read" && form["client_id"] == "static-client")
            #expect(form["subject_token"] == nil)
            #expect(idp.lastAuthorization.withLock { $0 }?.hasPrefix("Basic ") == true)
        }
    }

    // "Second case: Access token request with a certificate": client_assertion_type and client_assertion, no secret.
    @Test("Entra on-behalf-of with private_key_jwt: the app's certificate assertion, no secret")
    func onBehalfOfWithCertificate() async throws {
        let idp = FakeIdP()
        try await idp.run { base in
            idp.set(.raw(200, "application/json", Self.answer))
            let config = ClientAssertionTests.config(base, ClientAssertionTests.certificateAuth())
            _ = try await ClientAssertionTests.upstream(config, clock: TestClock()).downstreamToken(
                Self.graph, method: .onBehalfOf, assertion: "user-access-token")
            let form = idp.lastForm.withLock { $0 }
            #expect(form["assertion"] == "user-access-token" && form["requested_token_use"] == "on_behalf_of")
            #expect(form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            #expect(form["client_assertion"]?.split(separator: ".").count == 3 && form["client_secret"] == nil)
        }
    }

    // RFC 8693 §2.1; Okta's and Keycloak's token exchange guides.
    @Test("Okta and Keycloak: RFC 8693 token exchange with subject_token, its type, scope and audience", arguments: [UpstreamPreset.okta, .keycloak])
    func tokenExchange(_ preset: UpstreamPreset) async throws {
        let idp = FakeIdP()
        try await idp.run { base in
            idp.set(.raw(200, "application/json", Self.answer))
            let api = DownstreamAPI(name: "reports", header: "X-Reports-Token", scopes: ["reports.read"], audience: "api://reports")
            _ = try await PresetWireTests.upstream(preset, base).downstreamToken(api, method: .tokenExchange, assertion: "user-access-token")
            let form = idp.lastForm.withLock { $0 }
            #expect(form["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange")
            #expect(form["subject_token"] == "user-access-token")
            #expect(form["subject_token_type"] == "urn:ietf:params:oauth:token-type:access_token")
            #expect(form["scope"] == "reports.read" && form["audience"] == "api://reports")
            #expect(form["assertion"] == nil && form["requested_token_use"] == nil)
        }
    }

    /// (Entra's answer, the status the client gets, the provider code logged, what the operator's hint names)
    static let entraRefusals: [(String, Int, String, String)] = [
        (
            #"{"error":"invalid_grant","error_description":"AADSTS65001: The user or administrator has not consented","error_codes":[65001]}"#,
            403, "AADSTS65001", "admin consent"
        ),
        (
            #"{"error":"interaction_required","error_description":"AADSTS50079: enrollment required","error_codes":[50079],"claims":"{\"access_token\":{\"polids\":{\"essential\":true,\"values\":[\"p1\"]}}}"}"#,
            401, "AADSTS50079", "Conditional Access"
        ),
        (
            #"{"error":"invalid_grant","error_description":"AADSTS50076: MFA required","error_codes":[50076]}"#, 401, "AADSTS50076",
            "Conditional Access"
        ),
        (#"{"error":"invalid_scope","error_description":"AADSTS70011: invalid scope","error_codes":[70011]}"#, 403, "AADSTS70011", "API permissions"),
    ]

    @Test(
        "Entra's refusals: consent missing, MFA, unknown scope become a status and a message naming the API, and an operator hint",
        arguments: entraRefusals)
    func refusals(_ body: String, _ status: Int, _ code: String, _ hint: String) async throws {
        let idp = FakeIdP()
        try await idp.run { base in
            idp.set(.raw(400, "application/json", body))
            let refusal = await #expect(throws: DownstreamRefusal.self) {
                try await PresetWireTests.upstream(.entra, base).downstreamToken(Self.graph, method: .onBehalfOf, assertion: "user-access-token")
            }
            #expect(refusal?.status == status && refusal?.providerCode == code)
            #expect(refusal?.message.contains("graph") == true && refusal?.message.contains("user-access-token") == false)
            #expect(refusal?.operatorHint.contains(hint) == true, "\(refusal?.operatorHint ?? "")")
        }
    }

    @Test("an unreachable IdP is temporarily_unavailable, not a refusal")
    func unreachable() async throws {
        let error = await #expect(throws: OAuthError.self) {
            try await PresetWireTests.upstream(.entra, "http://127.0.0.1:1").downstreamToken(
                Self.graph, method: .onBehalfOf, assertion: "user-access-token")
        }
        #expect(error?.code == .temporarilyUnavailable)
    }
}
