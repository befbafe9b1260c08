import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimCore
import Testing

/// A browser: its `__Host-dcr-shim-browser` cookie (kept from the first
/// Set-Cookie) and the `Sec-Fetch-Site` it sends on navigations.
struct Browser: Sendable {
    var cookie: String?
    var secFetchSite: String? = "cross-site"

    var headers: HTTPFields {
        var fields: HTTPFields = [:]
        if let cookie { fields[.cookie] = cookie }
        if let secFetchSite { fields[HTTPField.Name("Sec-Fetch-Site")!] = secFetchSite }
        return fields
    }

    mutating func absorb(_ response: TestResponse) {
        if let set = response.browserCookie { cookie = set }
    }
}

/// The query of GET /authorize (RFC 6749 §4.1.1, RFC 7636 §4.3, RFC 8707 §2).
struct AuthorizeParams: Sendable {
    var clientID: String
    var redirectURI: String?
    var state: String? = "client-state-" + UUID().uuidString
    var codeChallenge: String? = RFC7636.challenge
    var method: String? = "S256"
    var resource: String? = ShimHarness.resource
    var scope: String? = "mcp.read"
    var responseType: String? = "code"

    init(app: TestApp) {
        clientID = app.clientID
        redirectURI = app.redirectURI
    }

    var uri: String {
        let pairs: [(String, String?)] = [
            ("response_type", responseType), ("client_id", clientID), ("redirect_uri", redirectURI),
            ("state", state), ("code_challenge", codeChallenge), ("code_challenge_method", method),
            ("resource", resource), ("scope", scope),
        ]
        return "/authorize?" + FormEncoding.encode(pairs.compactMap { name, value in value.map { (name, $0) } })
    }
}

/// The consent page's form (docs/e2e-contract.md).
struct ConsentForm: Sendable {
    var requestID: String
    var csrfToken: String
    var page: TestResponse
}

/// The shim's redirect back to the client after /callback.
struct CallbackResult: Sendable {
    var code: String
    var state: String?
    var iss: String?
    var response: TestResponse
}

extension ShimClient {
    /// GET /authorize with the browser's cookie; keeps a cookie the shim sets.
    func authorize(_ params: AuthorizeParams, browser: inout Browser, headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = browser.headers
        for field in headers { fields[field.name] = field.value }
        let response = try await get(params.uri, headers: fields)
        browser.absorb(response)
        return response
    }

    /// GET /consent?request_id=… and read the hidden fields of its form.
    func consentPage(_ location: String, browser: Browser) async throws -> ConsentForm {
        let page = try await get(location, headers: browser.headers)
        #expect(page.status == .ok, "consent page: \(page.text)")
        return ConsentForm(
            requestID: try #require(Self.hiddenInput("request_id", in: page.text)),
            csrfToken: try #require(Self.hiddenInput("csrf_token", in: page.text)), page: page)
    }

    /// POST /consent (form) with the decision.
    func decide(_ form: ConsentForm, decision: String = "allow", browser: Browser, csrfToken: String? = nil) async throws -> TestResponse {
        try await post(
            "/consent", form: [("request_id", form.requestID), ("csrf_token", csrfToken ?? form.csrfToken), ("decision", decision)],
            headers: browser.headers)
    }

    /// GET /authorize, and the consent page when one is shown: returns the IdP URL the browser is sent to.
    func toUpstream(_ params: AuthorizeParams, browser: inout Browser) async throws -> String {
        let first = try await authorize(params, browser: &browser)
        let location = try #require(first.location, "authorize: \(first.status) \(first.text)")
        if location.hasPrefix(FakeUpstream.authorizeEndpoint) { return location }
        #expect(first.status == .seeOther)
        #expect(location.hasPrefix(ShimHarness.issuer + "/consent?request_id="))
        let form = try await consentPage(location, browser: browser)
        let decided = try await decide(form, browser: browser)
        #expect(decided.status == .seeOther)
        let upstreamURL = try #require(decided.location)
        #expect(upstreamURL.hasPrefix(FakeUpstream.authorizeEndpoint))
        return upstreamURL
    }

    /// The user signs in at the fake IdP, which redirects the browser to GET /callback.
    func callback(from upstreamURL: String, browser: Browser, state: String? = nil) async throws -> TestResponse {
        let approved = try upstream.approve(upstreamURL)
        let query = FormEncoding.encode([("code", approved.code), ("state", state ?? approved.state)])
        return try await get("/callback?" + query, headers: browser.headers)
    }

    /// The whole browser leg: /authorize → /consent → IdP → /callback → the client's redirect_uri.
    func authorizeThroughCallback(_ params: AuthorizeParams, browser: inout Browser) async throws -> CallbackResult {
        let upstreamURL = try await toUpstream(params, browser: &browser)
        let response = try await callback(from: upstreamURL, browser: browser)
        #expect(response.status == .found, "callback: \(response.text)")
        let location = try #require(response.location)
        let redirect = params.redirectURI ?? ""
        #expect(location.hasPrefix(redirect + (redirect.contains("?") ? "&" : "?")))
        let query = response.redirectParams
        return CallbackResult(
            code: try #require(query["code"], "no code in \(location)"), state: query["state"], iss: query["iss"],
            response: response)
    }

    static func hiddenInput(_ name: String, in html: String) -> String? {
        guard let start = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        let rest = html[start.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }
}
