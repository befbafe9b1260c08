import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ShimCore
import ShimTesting
import Testing

/// The test side of the HTTP surface: plain requests, registration and the
/// token endpoint. The browser leg is in `ShimClient+Browser.swift`.
struct ShimClient: Sendable {
    let http: any TestClientProtocol
    let harness: ShimHarness

    var upstream: FakeUpstream { harness.upstream }
    var clock: TestClock { harness.clock }

    /// An absolute URL of the shim as a router path.
    static func path(_ uri: String) -> String {
        uri.hasPrefix(ShimHarness.issuer) ? String(uri.dropFirst(ShimHarness.issuer.count)) : uri
    }

    func get(_ uri: String, headers: HTTPFields = [:], body: ByteBuffer? = nil) async throws -> TestResponse {
        try await http.execute(uri: Self.path(uri), method: .get, headers: headers, body: body)
    }

    func post(_ uri: String, body: String, contentType: String?, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        if let contentType { headers[.contentType] = contentType }
        return try await http.execute(uri: Self.path(uri), method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    func post(_ uri: String, form: [(String, String)], headers: HTTPFields = [:]) async throws -> TestResponse {
        try await post(uri, body: FormEncoding.encode(form), contentType: "application/x-www-form-urlencoded", headers: headers)
    }

    // MARK: Registration (RFC 7591)

    func registerRaw(_ json: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await post("/register", body: json, contentType: "application/json", headers: headers)
    }

    /// Registers a client and returns it; fails the test unless the answer is 201.
    func register(
        redirectURIs: [String] = [ShimHarness.loopbackRedirect], authMethod: String = "none",
        grantTypes: [String] = ["authorization_code", "refresh_token"], name: String = "Test MCP Client"
    ) async throws -> TestApp {
        let body: [String: Any] = [
            "redirect_uris": redirectURIs, "token_endpoint_auth_method": authMethod,
            "grant_types": grantTypes, "response_types": ["code"], "client_name": name,
        ]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        let response = try await registerRaw(json)
        #expect(response.status == .created, "registration: \(response.text)")
        let clientID = try #require(response.json["client_id"] as? String)
        return TestApp(
            clientID: clientID, secret: response.json["client_secret"] as? String,
            redirectURIs: redirectURIs, authMethod: authMethod)
    }

    // MARK: Token endpoint (RFC 6749 §4.1.3, §6) and revocation (RFC 7009)

    func exchange(
        code: String, app: TestApp, verifier: String = RFC7636.verifier, redirectURI: String? = nil,
        resource: String? = ShimHarness.resource
    ) async throws -> TestResponse {
        var form = [
            ("grant_type", "authorization_code"), ("code", code), ("code_verifier", verifier),
            ("redirect_uri", redirectURI ?? app.redirectURI),
        ]
        if let resource { form.append(("resource", resource)) }
        let (body, headers) = app.authenticate(form)
        return try await post("/token", form: body, headers: headers)
    }

    func refresh(_ refreshToken: String, app: TestApp, extra: [(String, String)] = []) async throws -> TestResponse {
        let (body, headers) = app.authenticate([("grant_type", "refresh_token"), ("refresh_token", refreshToken)] + extra)
        return try await post("/token", form: body, headers: headers)
    }

    func revoke(_ token: String, app: TestApp) async throws -> TestResponse {
        let (body, headers) = app.authenticate([("token", token), ("token_type_hint", "refresh_token")])
        return try await post("/revoke", form: body, headers: headers)
    }

    /// Register, sign in through the browser leg, exchange the code.
    func signIn(_ app: TestApp? = nil, browser: Browser = Browser()) async throws -> SignedIn {
        let app = try await app.asyncOr { try await register() }
        var browser = browser
        let callback = try await authorizeThroughCallback(AuthorizeParams(app: app), browser: &browser)
        let response = try await exchange(code: callback.code, app: app)
        #expect(response.status == .ok, "token: \(response.text)")
        return SignedIn(
            app: app, browser: browser, code: callback.code, tokenResponse: response,
            accessToken: try #require(response.json["access_token"] as? String),
            refreshToken: response.json["refresh_token"] as? String)
    }
}

/// The outcome of `signIn`.
struct SignedIn: Sendable {
    var app: TestApp
    var browser: Browser
    var code: String
    var tokenResponse: TestResponse
    var accessToken: String
    var refreshToken: String?
}

extension Optional where Wrapped: Sendable {
    /// `??` with an async fallback.
    func asyncOr(_ fallback: () async throws -> Wrapped) async rethrows -> Wrapped {
        if let self { return self }
        return try await fallback()
    }
}
