import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import ShimTesting
import Synchronization

/// A controllable identity provider over real HTTP, for the fault tests:
/// OIDCUpstream talks to it through AsyncHTTPClient exactly as to a real IdP.
final class FakeIdP: Sendable {
    enum Mode: Sendable, Equatable {
        case normal
        case status(Int)
        case invalidJSON
        case missingAccessToken
        case missingTokenType
        case slow(seconds: Int)
        case upstreamError(String)
        /// Answers exactly this (status, Content-Type, body).
        case raw(Int, String, String)
    }

    let mode = Mutex(Mode.normal)
    let tokenCalls = Mutex(0)
    let lastForm = Mutex([String: String]())
    let lastAuthorization = Mutex<String?>(nil)
    let lastUserinfoHeaders = Mutex(HTTPFields())
    /// The managed-identity endpoint (`GET /msi`): how often it was asked, with which query and headers.
    let identityCalls = Mutex(0)
    let lastIdentityQuery = Mutex([String: String]())
    let lastIdentityHeaders = Mutex(HTTPFields())
    /// What `/msi` answers: the token and its `expires_on` (seconds since the epoch).
    let identityToken = Mutex(("header.mi-token-1.signature", 1_800_003_600))

    func set(_ newMode: Mode) { mode.withLock { $0 = newMode } }

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("/token") { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 16)
            let text = String(decoding: body.readableBytesView, as: UTF8.self)
            var form: [String: String] = [:]
            for pair in text.split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
                form[kv[0]] = kv.count > 1 ? kv[1] : ""
            }
            self.lastForm.withLock { $0 = form }
            self.lastAuthorization.withLock { $0 = request.headers[.authorization] }
            let count = self.tokenCalls.withLock {
                $0 += 1
                return $0
            }
            switch self.mode.withLock({ $0 }) {
            case .normal:
                return Self.json(#"{"access_token":"at-\#(count)","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-\#(count)"}"#)
            case .status(let code):
                return Self.json(#"{"error":"server_error"}"#, status: .init(code: code))
            case .invalidJSON:
                return Self.json("<html>oops</html>")
            case .missingAccessToken:
                return Self.json(#"{"token_type":"Bearer","expires_in":3600}"#)
            case .missingTokenType:
                return Self.json(#"{"access_token":"at","expires_in":3600}"#)
            case .slow(let seconds):
                try await Task.sleep(for: .seconds(seconds))
                return Self.json(#"{"access_token":"late","token_type":"Bearer"}"#)
            case .upstreamError(let code):
                return Self.json(#"{"error":"\#(code)","error_description":"refused by test"}"#, status: .badRequest)
            case .raw(let status, let type, let body):
                return Response(status: .init(code: status), headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: body)))
            }
        }
        // OIDC userinfo and GitHub's /user: the subject for a token the fake issued.
        router.get("/userinfo") { request, _ -> Response in
            self.lastUserinfoHeaders.withLock { $0 = request.headers }
            guard request.headers[.authorization]?.hasPrefix("Bearer at-") == true else { return Self.json("{}", status: .unauthorized) }
            return Self.json(#"{"sub":"user-7","id":583231,"login":"octocat"}"#)
        }
        // Azure's managed-identity endpoints (IMDS, or IDENTITY_ENDPOINT on Container Apps).
        router.get("/msi") { request, _ -> Response in
            self.identityCalls.withLock { $0 += 1 }
            var query: [String: String] = [:]
            for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
            self.lastIdentityQuery.withLock { $0 = query }
            self.lastIdentityHeaders.withLock { $0 = request.headers }
            let (token, expiresOn) = self.identityToken.withLock { $0 }
            return Self.json(
                #"{"access_token":"\#(token)","expires_on":"\#(expiresOn)","resource":"api://AzureADTokenExchange","token_type":"Bearer"}"#)
        }
        return router
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Runs the fake on a free loopback port for the duration of `body`.
    func run(_ body: @Sendable (_ baseURL: String) async throws -> Void) async throws {
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)")
        }
    }
}
