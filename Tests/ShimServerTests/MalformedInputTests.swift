import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// Rule 10: body size limits, duplicate-parameter rejection, strict content
/// types; every bad input gets a clear OAuth error, never a 500.
@Suite("Malformed input on every endpoint (rule 10)")
struct MalformedInputTests {
    /// One bad request. `{client}` in the URI or body stands for a registered public client's id.
    struct BadRequest: Sendable, CustomTestStringConvertible {
        var name: String
        var method: HTTPRequest.Method
        var uri: String
        var contentType: String?
        var body: String?
        var error: String?

        init(
            _ name: String, _ method: HTTPRequest.Method, _ uri: String, _ contentType: String? = nil, _ body: String? = nil,
            error: String? = nil
        ) {
            (self.name, self.method, self.uri, self.contentType, self.body, self.error) = (name, method, uri, contentType, body, error)
        }

        var testDescription: String { name }
    }

    static let form = "application/x-www-form-urlencoded"
    static let json = "application/json"
    static let mebibyte = String(repeating: "a", count: 1 << 20)
    static let validAuthorize =
        "response_type=code&client_id={client}&redirect_uri=http%3A%2F%2F127.0.0.1%3A33418%2Fcallback"
        + "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&state=s"

    static let cases: [BadRequest] = [
        // POST /register (RFC 7591 §3: a JSON document)
        BadRequest("register: text/plain", .post, "/register", "text/plain", #"{"redirect_uris":["http://127.0.0.1/cb"]}"#),
        BadRequest("register: form content type", .post, "/register", form, "redirect_uris=http://127.0.0.1/cb"),
        BadRequest("register: no content type", .post, "/register", nil, #"{"redirect_uris":["http://127.0.0.1/cb"]}"#),
        BadRequest("register: bad JSON", .post, "/register", json, #"{"redirect_uris":"#, error: "invalid_client_metadata"),
        BadRequest("register: empty body", .post, "/register", json, "", error: "invalid_client_metadata"),
        BadRequest("register: 1 MiB", .post, "/register", json, #"{"client_name":""# + mebibyte + #"","redirect_uris":["http://127.0.0.1/cb"]}"#),
        // POST /token (RFC 6749 §3.2: form-encoded; §3.1: no repeated parameters)
        BadRequest(
            "token: JSON content type", .post, "/token", json, #"{"grant_type":"authorization_code","client_id":"{client}"}"#,
            error: "invalid_request"),
        BadRequest("token: no content type", .post, "/token", nil, "grant_type=authorization_code&client_id={client}", error: "invalid_request"),
        BadRequest("token: missing grant_type", .post, "/token", form, "client_id={client}", error: "invalid_request"),
        BadRequest("token: password grant", .post, "/token", form, "grant_type=password&client_id={client}&username=a&password=b"),
        BadRequest("token: missing code", .post, "/token", form, "grant_type=authorization_code&client_id={client}", error: "invalid_request"),
        BadRequest("token: missing refresh_token", .post, "/token", form, "grant_type=refresh_token&client_id={client}", error: "invalid_request"),
        BadRequest(
            "token: duplicated grant_type", .post, "/token", form,
            "grant_type=authorization_code&grant_type=refresh_token&client_id={client}", error: "invalid_request"),
        BadRequest(
            "token: duplicated client_id", .post, "/token", form,
            "grant_type=authorization_code&client_id={client}&client_id=other&code=x", error: "invalid_request"),
        BadRequest(
            "token: duplicated code", .post, "/token", form,
            "grant_type=authorization_code&client_id={client}&code=x&code=y&code_verifier=\(RFC7636.verifier)&redirect_uri=x",
            error: "invalid_request"),
        BadRequest(
            "token: parameters only in the query", .post, "/token?grant_type=authorization_code&client_id={client}&code=x",
            form, ""),
        BadRequest(
            "token: bad percent-encoding", .post, "/token", form, "grant_type=authorization_code&client_id={client}&code=%zz",
            error: "invalid_request"),
        BadRequest(
            "token: invalid UTF-8", .post, "/token", form, "grant_type=authorization_code&client_id={client}&code=%ff%fe",
            error: "invalid_request"),
        BadRequest("token: 1 MiB", .post, "/token", form, "grant_type=authorization_code&client_id={client}&code=" + mebibyte),
        // POST /revoke (RFC 7009 §2.1)
        BadRequest("revoke: JSON content type", .post, "/revoke", json, #"{"token":"x","client_id":"{client}"}"#, error: "invalid_request"),
        BadRequest("revoke: missing token", .post, "/revoke", form, "client_id={client}", error: "invalid_request"),
        BadRequest("revoke: duplicated token", .post, "/revoke", form, "client_id={client}&token=a&token=b", error: "invalid_request"),
        BadRequest("revoke: 1 MiB", .post, "/revoke", form, "client_id={client}&token=" + mebibyte),
        // GET /authorize (errors before the redirect_uri is trusted: no redirect)
        BadRequest("authorize: no parameters", .get, "/authorize", error: "invalid_request"),
        BadRequest("authorize: duplicated client_id", .get, "/authorize?" + validAuthorize + "&client_id={client}", error: "invalid_request"),
        BadRequest(
            "authorize: duplicated redirect_uri", .get,
            "/authorize?" + validAuthorize + "&redirect_uri=https%3A%2F%2Fevil.example.com%2F", error: "invalid_request"),
        BadRequest("authorize: duplicated state", .get, "/authorize?" + validAuthorize + "&state=t", error: "invalid_request"),
        BadRequest("authorize: bad percent-encoding", .get, "/authorize?client_id=%zz", error: "invalid_request"),
        BadRequest("authorize: 1 MiB client_id", .get, "/authorize?client_id=" + mebibyte),
        BadRequest("authorize: 1 MiB body", .get, "/authorize", form, mebibyte),
        // GET/POST /consent
        BadRequest("consent page: no request_id", .get, "/consent", error: "invalid_request"),
        BadRequest("consent page: duplicated request_id", .get, "/consent?request_id=a&request_id=b", error: "invalid_request"),
        BadRequest("consent page: unknown request_id", .get, "/consent?request_id=unknown"),
        BadRequest(
            "consent: JSON content type", .post, "/consent", json, #"{"request_id":"a","csrf_token":"b","decision":"allow"}"#,
            error: "invalid_request"),
        BadRequest("consent: empty form", .post, "/consent", form, "", error: "invalid_request"),
        BadRequest(
            "consent: duplicated decision", .post, "/consent", form, "request_id=a&csrf_token=b&decision=allow&decision=deny",
            error: "invalid_request"),
        BadRequest("consent: unknown decision", .post, "/consent", form, "request_id=a&csrf_token=b&decision=maybe", error: "invalid_request"),
        BadRequest("consent: 1 MiB", .post, "/consent", form, "request_id=a&csrf_token=b&decision=allow&x=" + mebibyte),
        // GET /callback
        BadRequest("callback: no parameters", .get, "/callback", error: "invalid_request"),
        BadRequest("callback: duplicated state", .get, "/callback?code=c&state=a&state=b", error: "invalid_request"),
        BadRequest("callback: 1 MiB state", .get, "/callback?code=c&state=" + mebibyte),
    ]

    @Test("a malformed request gets a 4xx with an OAuth error field, never a 5xx or a redirect", arguments: cases)
    func malformed(request: BadRequest) async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let app = try await client.register()
            var headers: HTTPFields = [.accept: "application/json"]
            if let type = request.contentType { headers[.contentType] = type }
            let uri = request.uri.replacingOccurrences(of: "{client}", with: app.clientID)
            let body = request.body.map { ByteBuffer(string: $0.replacingOccurrences(of: "{client}", with: app.clientID)) }
            let response = try await client.http.execute(uri: uri, method: request.method, headers: headers, body: body)
            #expect((400..<500).contains(response.status.code), "\(request.name): \(response.status) \(response.text.prefix(300))")
            #expect(response.location == nil, "\(request.name)")
            let error = try #require(response.oauthError, "\(request.name): no error field in \(response.text.prefix(300))")
            if let expected = request.error { #expect(error == expected, "\(request.name)") }
        }
    }

    // Rule 10 ("every bad input gets a clear OAuth error") and RFC 9110 §15.5.6 (405 for a
    // method the resource does not support); RFC 6749 §3.2: "The client MUST use the HTTP
    // POST method when making access token requests."
    @Test(
        "a wrong HTTP method on an endpoint gets a 4xx with an OAuth error field",
        arguments: [("GET", "/token"), ("GET", "/register"), ("GET", "/revoke"), ("POST", "/callback"), ("PUT", "/consent")])
    func wrongMethod(method: String, path: String) async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let response = try await client.http.execute(uri: path, method: HTTPRequest.Method(method)!, headers: [.accept: "application/json"])
            #expect((400..<500).contains(response.status.code), "\(method) \(path): \(response.status)")
            #expect(response.oauthError != nil, "\(method) \(path): \(response.status) with body \"\(response.text.prefix(200))\"")
        }
    }

    // RFC 6749 §5.2: invalid_client is 401, and "If the client attempted to authenticate via
    // the Authorization request header field, the authorization server MUST ... include the
    // WWW-Authenticate response header field". Rule 2: 401 makes clients re-register.
    @Test(
        "an unknown client or a bad secret at /token is 401 invalid_client; with Basic, WWW-Authenticate",
        arguments: ["unknown-basic", "wrong-secret-basic", "unknown-body", "bearer-header", "malformed-basic", "basic-secret-in-body"])
    func invalidClientAtToken(kind: String) async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let app = try await client.register(redirectURIs: [ShimHarness.allowedHTTPS], authMethod: "client_secret_basic")
            let grant = [
                ("grant_type", "authorization_code"), ("code", "x"), ("code_verifier", RFC7636.verifier),
                ("redirect_uri", ShimHarness.allowedHTTPS),
            ]
            var form = grant
            var headers: HTTPFields = [:]
            let basic = { (id: String, secret: String) in "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString() }
            switch kind {
            case "unknown-basic": headers[.authorization] = basic("no-such-client", "whatever")
            case "wrong-secret-basic": headers[.authorization] = basic(app.clientID, "wrong-secret")
            case "bearer-header": headers[.authorization] = "Bearer abc"
            case "malformed-basic": headers[.authorization] = "Basic !!!not-base64"
            // RFC 7591 §2: the client authenticates with the method it registered (Basic here).
            case "basic-secret-in-body": form += [("client_id", app.clientID), ("client_secret", app.secret ?? "")]
            default: form.append(("client_id", "no-such-client"))
            }
            let response = try await client.post("/token", form: form, headers: headers)
            #expect(response.status == .unauthorized, "\(kind): \(response.text)")
            #expect(response.oauthError == "invalid_client")
            #expect(response.headers[.cacheControl] == "no-store")
            if headers[.authorization] != nil {
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true, "\(kind)")
            }
        }
    }

    // RFC 6749 §4.1.3: the server must "authenticate the client if client authentication is
    // included"; a public client (`none`, RFC 7591 §2) has no secret, so a secret it presents
    // cannot authenticate it (a client may not switch to a method it did not register).
    @Test("a public client presenting a made-up secret is 401 invalid_client", arguments: ["basic", "body"])
    func publicClientWithBogusSecret(via: String) async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let app = try await client.register(authMethod: "none")
            let (code, _) = try await Self.codeAndBrowser(client, app: app)
            var form = [
                ("grant_type", "authorization_code"), ("code", code), ("code_verifier", RFC7636.verifier),
                ("redirect_uri", app.redirectURI),
            ]
            var headers: HTTPFields = [:]
            if via == "basic" {
                headers[.authorization] = "Basic " + Data("\(app.clientID):made-up-secret".utf8).base64EncodedString()
            } else {
                form += [("client_id", app.clientID), ("client_secret", "made-up-secret")]
            }
            let response = try await client.post("/token", form: form, headers: headers)
            #expect(response.status == .unauthorized, "\(via): \(response.status) \(response.text.prefix(120))")
            #expect(response.oauthError == "invalid_client")
        }
    }

    static func codeAndBrowser(_ client: ShimClient, app: TestApp) async throws -> (String, Browser) {
        var browser = Browser()
        return (try await client.authorizeThroughCallback(AuthorizeParams(app: app), browser: &browser).code, browser)
    }

    @Test("/revoke with an unknown client is 401 invalid_client")
    func invalidClientAtRevoke() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let auth = "Basic " + Data("no-such-client:x".utf8).base64EncodedString()
            let response = try await client.post("/revoke", form: [("token", "t")], headers: [.authorization: auth])
            #expect(response.status == .unauthorized)
            #expect(response.oauthError == "invalid_client")
            #expect(response.headers[.wwwAuthenticate] != nil)
        }
    }
}

/// Bounded input through the router: a hostile `scope` is refused with
/// a clear OAuth error, quickly, at /authorize, at /token and at /register.
@Suite("Rule 10: hostile list sizes through the endpoints")
struct HostileListTests {
    static let hugeScope = (0..<100_000).map { "s\($0)" }.joined(separator: " ")

    @Test("/authorize with 100k scope tokens: an invalid_scope redirect", .timeLimit(.minutes(1)))
    func authorize() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let app = try await client.register()
            var params = AuthorizeParams(app: app)
            params.scope = Self.hugeScope
            var browser = Browser()
            let response = try await client.authorize(params, browser: &browser)
            #expect(response.status == .found)
            #expect(response.redirectParams["error"] == "invalid_scope")
        }
    }

    @Test(
        "refresh with 7000 scope tokens (as many as the body limit lets through): 400 invalid_scope on the bound",
        .timeLimit(.minutes(1)))
    func refresh() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let scope = (0..<7000).map { "s\($0)" }.joined(separator: " ")
            let response = try await client.refresh(try #require(signedIn.refreshToken), app: signedIn.app, extra: [("scope", scope)])
            #expect(response.status == .badRequest)
            #expect(response.oauthError == "invalid_scope")
            #expect((response.json["error_description"] as? String)?.contains("4096 bytes") == true, "\(response.text)")
        }
    }

    @Test("registration with a scope of 300 values: invalid_client_metadata")
    func register() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let scope = Array(repeating: "mcp.read", count: 300).joined(separator: " ")
            let response = try await client.registerRaw(#"{"redirect_uris":["\#(ShimHarness.loopbackRedirect)"],"scope":"\#(scope)"}"#)
            #expect(response.status == .badRequest)
            #expect(response.oauthError == "invalid_client_metadata")
        }
    }

    @Test("a token request with 1000 parameters: 400 invalid_request")
    func manyParameters() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let form = [("grant_type", "authorization_code")] + (0..<1000).map { ("x\($0)", "1") }
            let response = try await client.post("/token", form: form)
            #expect(response.status == .badRequest)
            #expect(response.oauthError == "invalid_request")
        }
    }
}
