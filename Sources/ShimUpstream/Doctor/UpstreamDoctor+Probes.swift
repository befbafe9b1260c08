import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ShimCore

extension UpstreamDoctor {
    // MARK: client credentials

    /// A token request with a made-up code and the configured client
    /// authentication. RFC 6749 §4.1.3: the server authenticates the client
    /// first, then checks the code; so `invalid_client` (or a 401) says the
    /// credentials are wrong and `invalid_grant` (the code) says they passed.
    func credentialsCheck(_ endpoints: UpstreamEndpoints) async -> DoctorCheck {
        var request = HTTPClientRequest(url: endpoints.token)
        request.method = .POST
        var pairs = [
            ("grant_type", "authorization_code"), ("code", "dcr-shim-doctor-" + SecretToken.generate(bytes: 12)),
            ("redirect_uri", upstream.callbackURL), ("code_verifier", SecretToken.generate(bytes: 48)),
        ]
        let name = "client credentials"
        do { try await upstream.credentials.apply(to: &request, form: &pairs, endpoint: endpoints.token) } catch {
            return DoctorCheck(
                name, .failed, "the shim cannot make its client credentials: \(error.detail ?? error.description)",
                fix: "run dcr-shim check-config; see upstream.client_auth")
        }
        pairs += config.extraTokenParams.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: FormEncoding.encode(pairs)))
        let status: Int
        let body: Data
        let type: String
        do { (status, body, type) = try await upstream.send(request, operation: "doctor probe") } catch {
            return DoctorCheck(
                name, .failed, "\(endpoints.token) cannot be reached: \(error)", fix: "check the network path to the IdP and upstream.token_endpoint")
        }
        let fields = UpstreamTokenResponse.Body.decode(body, formEncoded: type.contains("x-www-form-urlencoded"))
        let error = fields?.error ?? "none"
        let report = UpstreamErrorReport(
            phase: .codeExchange, status: status, error: error, description: fields?.error_description ?? "",
            providerCodes: fields?.error_codes ?? [])
        let failure = profile.explain(report, context: upstream.failureContext)
        let seen = "\(status) \(error)\(failure.providerCode.map { $0 == error ? "" : " (\($0))" } ?? "")"
        if status >= 500 {
            return DoctorCheck(name, .failed, "the token endpoint answered \(seen)", fix: failure.operatorHint)
        }
        if Self.credentialsRefused(status: status, error: error, preset: config.preset, providerCode: failure.providerCode) {
            // With a certificate, the operator must know WHICH one the IdP refused:
            // the thumbprints are what the IdP's console lists for a registered certificate.
            return DoctorCheck(
                name, .failed, "the IdP refused the client credentials (\(upstream.credentials.described)): \(seen)",
                fix: failure.operatorHint)
        }
        if Self.codeRefused.contains(error) {
            return DoctorCheck(
                name, .ok, "the IdP accepted the client credentials (\(upstream.credentials.described)) and refused only the made-up code (\(seen))")
        }
        return DoctorCheck(name, .warning, "cannot tell: the token endpoint answered \(seen) to a made-up code", fix: failure.operatorHint)
    }

    /// The errors an IdP gives a made-up code after authenticating the client.
    static let codeRefused: Set<String> = ["invalid_grant", "bad_verification_code", "invalid_code"]

    static func credentialsRefused(status: Int, error: String, preset: UpstreamPreset, providerCode: String?) -> Bool {
        if ["invalid_client", "unauthorized_client", "incorrect_client_credentials"].contains(error) { return true }
        // A bare 401 or 403 (glewlwyd's answer to a client assertion it refuses).
        if GenericErrors.clientRefusedWithoutErrorCode(status: status, error: error) { return true }
        // Entra: wrong or expired secret, unknown app; a client assertion it refuses
        // (signature or unregistered certificate, time range, audience, no matching federated credential).
        let entraClientCodes = [
            "AADSTS7000215", "AADSTS7000222", "AADSTS700016", "AADSTS700027", "AADSTS700024", "AADSTS700023", "AADSTS70021", "AADSTS700212",
        ]
        if entraClientCodes.contains(providerCode ?? "") { return true }
        // Auth0 answers a wrong secret with 401 access_denied; 401 means the client, for every IdP.
        return status == 401
    }

    // MARK: client authentication method

    /// The certificate's end (a warning under 30 days), and, when discovery
    /// lists the methods the token endpoint takes, whether it lists the
    /// assertion the shim sends (OIDC Discovery §3 `token_endpoint_auth_methods_supported`).
    func clientAuthChecks(_ endpoints: UpstreamEndpoints, now: Date) -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        let name = "client certificate"
        if let certificate = upstream.credentials.certificate {
            let thumbprints = "x5t#S256 \(certificate.sha256Thumbprint), SHA-1 thumbprint \(certificate.sha1Hex)"
            if let expiry = UpstreamConfiguration.certificateExpiry(certificate.notAfter, now: now) {
                checks.append(
                    DoctorCheck(
                        name, expiry.expired ? .failed : .warning, "\(expiry.text) (\(thumbprints))",
                        fix: "make a new certificate, register it at the IdP next to the old one, then replace key_file and certificate_file"))
            } else {
                checks.append(DoctorCheck(name, .ok, "valid until \(ISO8601DateFormatter().string(from: certificate.notAfter)) (\(thumbprints))"))
            }
        }
        if config.clientAuth.method != .clientSecret, let listed = endpoints.tokenAuthMethods, !listed.contains("private_key_jwt") {
            checks.append(
                DoctorCheck(
                    "client authentication method", .failed,
                    "the IdP's discovery document lists token_endpoint_auth_methods_supported \(listed.joined(separator: ", ")), without private_key_jwt",
                    fix: "use upstream.client_auth.method client_secret, or enable private_key_jwt at the IdP"))
        }
        return checks
    }

    // MARK: redirect URI

    /// How an IdP answered an authorize request, before any sign-in.
    enum AuthorizeAnswer: Equatable {
        /// Refused before sign-in: an error page, a 4xx, or GitHub's redirect_uri_mismatch.
        case refused(String)
        /// Redirected to the redirect URI with an error: it trusts the URI, and says what else is wrong.
        case errorAtRedirect(error: String, description: String)
        /// Went on (a sign-in page or a redirect to one).
        case accepted(String)
    }

    /// Texts the presets' IdPs show on their error pages for a bad redirect or client.
    static let refusalMarkers = [
        "AADSTS50011", "AADSTS700016", "AADSTS90002", "AADSTS50194", "redirect_uri_mismatch", "Invalid parameter: redirect_uri",
        "Callback URL mismatch", "Login redirect URI", "Client not found",
    ]

    func probe(_ endpoints: UpstreamEndpoints, redirectURI: String) async -> AuthorizeAnswer {
        let (_, challenge) = PKCE.makePair()
        let scope = ScopeSet(values: config.scopes + resourceScopes)
        var pairs: [(String, String)] = [
            ("response_type", "code"), ("client_id", config.clientID), ("redirect_uri", redirectURI),
            ("scope", scope.text), ("state", "dcr-shim-doctor"), ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ]
        if scope.values.contains("openid") { pairs.append(("nonce", SecretToken.generate(bytes: 12))) }
        pairs += profile.authorizeParameters(config)
        let url = endpoints.authorization + (endpoints.authorization.contains("?") ? "&" : "?") + FormEncoding.encode(pairs)
        do {
            let response = try await upstream.httpClient.execute(HTTPClientRequest(url: url), timeout: upstream.timeout)
            let body = String(decoding: Data((try await response.body.collect(upTo: 1 << 20)).readableBytesView), as: UTF8.self)
            let status = Int(response.status.code)
            if (300..<400).contains(status), let location = response.headers.first(name: "Location") {
                let query = (try? FormEncoding.decode(String(location.split(separator: "?", maxSplits: 1).dropFirst().first ?? ""))) ?? [:]
                if let error = query["error"] {
                    if error == "redirect_uri_mismatch" { return .refused("redirected with error=redirect_uri_mismatch") }
                    if location.hasPrefix(redirectURI) { return .errorAtRedirect(error: error, description: query["error_description"] ?? "") }
                }
                let target = location.split(separator: "?").first.map(String.init) ?? location
                return .accepted(location.hasPrefix(redirectURI) ? "it redirected there" : "\(status) to \(target)")
            }
            if let marker = Self.refusalMarkers.first(where: body.contains) {
                return .refused("\(status) page with \(marker)")
            }
            return status >= 400 ? .refused("\(status)\(body.isEmpty ? " with an empty body" : "")") : .accepted("\(status) page")
        } catch {
            return .refused("unreachable: \(error)")
        }
    }

    func redirectChecks(_ endpoints: UpstreamEndpoints) async -> [DoctorCheck] {
        let name = "redirect URI"
        let callback = upstream.callbackURL
        let real = await probe(endpoints, redirectURI: callback)
        let fix = "register \(callback): " + GenericErrors.console(config.preset).redirect
        switch real {
        case .refused(let how):
            return [
                DoctorCheck(
                    name, .failed, "the IdP refused an authorization request with redirect_uri \(callback) before sign-in: \(how)",
                    fix: how.contains("AADSTS700016") || how.contains("Client not found")
                        ? "the IdP does not know client \(config.clientID): check upstream.client_id (and upstream.tenant); then " + fix : fix)
            ]
        case .errorAtRedirect(let error, let description):
            let failure = upstream.explainAuthorizationError(error, description: description)
            return [
                DoctorCheck(name, .ok, "registered: the IdP redirected to it (with an error, next line)"),
                DoctorCheck(
                    "authorization request", .failed,
                    "the IdP refused the request: \(error)\(failure.providerCode.map { $0 == error ? "" : " (\($0))" } ?? "")",
                    fix: failure.operatorHint),
            ]
        case .accepted(let how):
            // A sibling of the callback, not below it: GitHub accepts subdirectories of its callback URL.
            let madeUp = await probe(endpoints, redirectURI: String(callback.dropLast("callback".count)) + "dcr-shim-doctor-unregistered")
            if case .refused = madeUp {
                return [DoctorCheck(name, .ok, "registered: the IdP accepted it (\(how)) and refused a made-up redirect URI before sign-in")]
            }
            return [
                DoctorCheck(
                    name, .warning,
                    "cannot tell: the IdP asks the user to sign in before it checks the redirect URI (a made-up one got the same answer: \(how))",
                    fix: "check by hand that \(callback) is registered: " + GenericErrors.console(config.preset).redirect)
            ]
        }
    }
}
