import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ShimCore
import Testing

/// The authorization-server side of MCP 2026-07-28 (changelog "Minor changes"
/// 7 and 8, PR #2351): where clients look for the metadata (SEP-2351), `iss`
/// in every authorization response (SEP-2468), and `application_type` at
/// /register (SEP-837); with an issuer that has a path, where mistakes show.
@Suite("MCP 2026-07-28: SEP-2351 metadata locations, SEP-2468 iss, SEP-837 application_type")
struct MetadataLocationsIssAndApplicationTypeTests {
    static let pathIssuer = "http://127.0.0.1:8080/tenant1"

    /// SEP-2351: MCP uses RFC 8414's default suffix; for an issuer with a path a
    /// client tries, in order, oauth-authorization-server path-inserted,
    /// openid-configuration path-inserted, openid-configuration appended. Each
    /// must answer with `issuer` identical to the configured one (RFC 8414 §3.3,
    /// which the client checks before using the document).
    @Test(
        "SEP-2351: every well-known URL a client builds for a path issuer serves metadata for exactly that issuer",
        arguments: [
            (
                pathIssuer,
                [
                    "/.well-known/oauth-authorization-server/tenant1", "/.well-known/openid-configuration/tenant1",
                    "/tenant1/.well-known/openid-configuration",
                ]
            ),
            (ShimHarness.issuer, ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]),
        ])
    func wellKnownLocations(_ issuer: String, _ paths: [String]) async throws {
        let harness = try ShimHarness(overrides: ["issuer": .string(issuer)])
        try await harness.run { client async throws in
            for path in paths {
                let response = try await client.http.execute(uri: path, method: .get)
                #expect(response.status == .ok, "\(path)")
                #expect(response.json["issuer"] as? String == issuer, "\(path)")
                #expect(response.json["authorization_endpoint"] as? String == issuer + "/authorize", "\(path)")
                #expect(response.json["code_challenge_methods_supported"] as? [String] == ["S256"], "\(path)")
            }
        }
    }

    /// SEP-2468 / RFC 9207 §2: `iss` in every authorization response, success
    /// and error alike, identical to the metadata's issuer (here with a path).
    @Test("SEP-2468: success, deny, request errors and IdP errors all carry iss equal to the metadata issuer")
    func issEverywhere() async throws {
        let issuer = Self.pathIssuer
        let harness = try ShimHarness(overrides: ["issuer": .string(issuer)])
        try await harness.run { client async throws in
            let advertised = try await client.http.execute(uri: "/.well-known/oauth-authorization-server/tenant1", method: .get)
            #expect(advertised.json["authorization_response_iss_parameter_supported"] as? Bool == true)
            let registered = try await client.http.execute(
                uri: "/tenant1/register", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(
                    string: #"{"redirect_uris":["\#(ShimHarness.loopbackRedirect)"],"token_endpoint_auth_method":"none","application_type":"native"}"#
                ))
            let clientID = try #require(registered.json["client_id"] as? String)
            let app = TestApp(clientID: clientID, secret: nil, redirectURIs: [ShimHarness.loopbackRedirect], authMethod: "none")
            var responses: [(String, TestResponse)] = []

            // 1. A request error after the redirect_uri is known (no PKCE).
            var browser = Browser()
            var noPKCE = AuthorizeParams(app: app)
            noPKCE.codeChallenge = nil
            responses.append(("request error", try await client.get("/tenant1" + noPKCE.uri, headers: browser.headers)))

            // 2. Deny on the consent page; 3. allow, then the IdP answers with an error; 4. allow and succeed.
            for outcome in ["deny", "idp-error", "success"] {
                let first = try await client.get("/tenant1" + AuthorizeParams(app: app).uri, headers: browser.headers)
                browser.absorb(first)
                let consentURL = try #require(first.location)
                #expect(consentURL.hasPrefix(issuer + "/consent?"))
                let form = try await client.consentPage(consentURL, browser: browser)
                let decided = try await client.post(
                    "/tenant1/consent",
                    form: [
                        ("request_id", form.requestID), ("csrf_token", form.csrfToken),
                        ("decision", outcome == "deny" ? "deny" : "allow"),
                    ],
                    headers: browser.headers)
                if outcome == "deny" {
                    responses.append(("deny", decided))
                    continue
                }
                let upstreamURL = try #require(decided.location)
                let approved = try harness.upstream.approve(upstreamURL)
                let query =
                    outcome == "idp-error"
                    ? [("error", "access_denied"), ("state", approved.state)]
                    : [("code", approved.code), ("state", approved.state)]
                responses.append((outcome, try await client.get("/tenant1/callback?" + FormEncoding.encode(query), headers: browser.headers)))
            }
            for (name, response) in responses {
                #expect(response.status == .found || response.status == .seeOther, "\(name): \(response.status)")
                #expect(response.location?.hasPrefix(ShimHarness.loopbackRedirect + "?") == true, "\(name)")
                #expect(response.redirectParams["iss"] == issuer, "\(name): \(response.location ?? "-")")
            }
            #expect(responses.map(\.0) == ["request error", "deny", "idp-error", "success"])
            #expect(responses.last?.1.redirectParams["code"] != nil)
        }
    }

    /// SEP-837: clients send `application_type`; /register echoes it and holds
    /// the redirects to it (RFC 7591 §3.2.2 `invalid_redirect_uri` otherwise).
    @Test(
        "SEP-837: /register echoes application_type and refuses a redirect that does not fit it",
        arguments: [
            ("native", ShimHarness.loopbackRedirect, 201), ("web", ShimHarness.allowedHTTPS, 201),
            ("web", ShimHarness.loopbackRedirect, 400), ("native", "https://localhost/cb", 400), ("desktop", ShimHarness.loopbackRedirect, 400),
        ])
    func applicationType(_ type: String, _ redirect: String, _ status: Int) async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let response = try await client.registerRaw(
                #"{"redirect_uris":["\#(redirect)"],"token_endpoint_auth_method":"none","application_type":"\#(type)"}"#)
            #expect(Int(response.status.code) == status, "\(type) \(redirect): \(response.text)")
            if status == 201 {
                #expect(response.json["application_type"] as? String == type)
            } else {
                #expect(response.oauthError == (type == "desktop" ? "invalid_client_metadata" : "invalid_redirect_uri"))
            }
        }
    }
}
