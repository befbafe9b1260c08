public import AsyncHTTPClient
public import Foundation
import Metrics
import NIOHTTP1
public import ShimCore

/// The shim's credentials at the IdP's token endpoint: the one place a
/// token-endpoint request (code redemption, refresh, revocation, doctor's
/// check) gets its client authentication, for each `upstream.client_auth.method`.
public struct UpstreamClientCredentials: Sendable {
    enum Kind: Sendable {
        /// RFC 6749 §2.3.1: `client_secret_basic` or `client_secret_post`.
        case secret(method: String, secret: String)
        /// RFC 7523 §2.2: a JWT the shim signs with its certificate's key.
        case certificate(ClientAssertionSigner)
        /// RFC 7521 §4.2: a token another issuer signed, passed on as the assertion.
        case federated(FederatedTokenSource)
        /// The key or certificate does not load (check-config says why); every request fails with this.
        case unusable(String)
    }

    let kind: Kind
    let clientID: String

    public init(config: UpstreamConfiguration, httpClient: HTTPClient, clock: any ShimClock = SystemClock()) {
        clientID = config.clientID
        let auth = config.clientAuth
        switch auth.method {
        case .clientSecret:
            kind = .secret(method: config.tokenEndpointAuthMethod, secret: config.clientSecret ?? "")
        case .privateKeyJWT:
            do {
                let signer = try ClientAssertionSigner(
                    clientID: config.clientID, keyPEM: auth.keyPEM ?? "", certificatePEM: auth.certificatePEM ?? "",
                    algorithm: auth.algorithm, clock: clock)
                kind = .certificate(signer)
                Self.recordExpiry(signer.certificate, now: clock.now())
            } catch {
                kind = .unusable(error.description)
            }
        case .federated:
            if let path = auth.tokenFile {
                kind = .federated(FederatedTokenSource(origin: .file(path), httpClient: httpClient, clock: clock))
            } else {
                kind = .federated(
                    FederatedTokenSource(origin: .managedIdentity(clientID: auth.managedIdentity?.clientID), httpClient: httpClient, clock: clock))
            }
        }
    }

    /// The certificate, when the method is `private_key_jwt`.
    public var certificate: ClientCertificate? {
        if case .certificate(let signer) = kind { return signer.certificate }
        return nil
    }

    /// What the IdP was shown, for doctor and logs: never a secret or a token.
    public var described: String {
        switch kind {
        case .secret(let method, _): "\(method) for \(clientID)"
        case .certificate(let signer):
            "private_key_jwt for \(clientID), \(signer.algorithm.rawValue), certificate x5t#S256 \(signer.certificate.sha256Thumbprint) (SHA-1 thumbprint \(signer.certificate.sha1Hex))"
        case .federated(let source): "a federated assertion for \(clientID) from \(source.source)"
        case .unusable(let problem): "unusable credentials for \(clientID) (\(problem))"
        }
    }

    /// Adds the client authentication to a token-endpoint request to `endpoint`
    /// (the assertion's audience). `client_id` is also sent in the body with
    /// Basic: RFC 6749 allows it, and some IdPs (glewlwyd) require it.
    public func apply(to request: inout HTTPClientRequest, form pairs: inout [(String, String)], endpoint: String) async throws(OAuthError) {
        switch kind {
        case .secret(method: "client_secret_post", let secret):
            pairs += [("client_id", clientID), ("client_secret", secret)]
        case .secret(_, let secret):
            // §2.3.1: id and secret are form-encoded before Base64.
            let credentials = FormEncoding.encode([("", clientID)]).dropFirst() + ":" + FormEncoding.encode([("", secret)]).dropFirst()
            request.headers.add(name: "Authorization", value: "Basic " + Data(credentials.utf8).base64EncodedString())
            pairs.append(("client_id", clientID))
        case .certificate(let signer):
            let assertion: String
            Self.recordExpiry(signer.certificate, now: signer.clock.now())
            do { assertion = try signer.assertion(audience: endpoint) } catch {
                throw OAuthError(
                    .serverError, "the server cannot authenticate to the identity provider", detail: "signing the client assertion failed: \(error)",
                    status: 500)
            }
            pairs += Self.assertionPairs(clientID: clientID, assertion: assertion)
        case .federated(let source):
            pairs += Self.assertionPairs(clientID: clientID, assertion: try await source.token())
        case .unusable(let problem):
            throw OAuthError(.serverError, "the server cannot authenticate to the identity provider", detail: problem, status: 500)
        }
    }

    /// RFC 7521 §4.2 / RFC 7523 §2.2: `client_assertion_type` and
    /// `client_assertion`; `client_id` too, which Entra and OIDC Core §9 allow.
    static func assertionPairs(clientID: String, assertion: String) -> [(String, String)] {
        [("client_id", clientID), ("client_assertion_type", UpstreamClientAuthentication.jwtBearerAssertionType), ("client_assertion", assertion)]
    }

    /// Sets the certificate's gauge now (serve calls it once metrics are set up).
    public func recordCertificateExpiry() {
        if case .certificate(let signer) = kind { Self.recordExpiry(signer.certificate, now: signer.clock.now()) }
    }

    /// `dcr_shim_upstream_certificate_expiry_seconds`: seconds until the
    /// certificate's notAfter (negative once expired), set when it is loaded
    /// and at each assertion.
    static func recordExpiry(_ certificate: ClientCertificate, now: Date) {
        Gauge(label: "dcr_shim_upstream_certificate_expiry_seconds").record(certificate.notAfter.timeIntervalSince(now))
    }

    /// What check-config and serve's start say about the credentials beyond
    /// `ShimConfiguration.validate`: whether the key and certificate load and
    /// belong together, the certificate's end (a warning under 30 days, an
    /// error once past), whether the token file is readable now.
    public static func inspect(
        _ config: UpstreamConfiguration, now: Date, fileReadable: ((String) -> Bool)? = nil
    ) -> (problems: [String], warnings: [String]) {
        let fileReadable = fileReadable ?? { FileManager.default.isReadableFile(atPath: $0) }
        let auth = config.clientAuth
        switch auth.method {
        case .clientSecret:
            return ([], [])
        case .privateKeyJWT:
            let signer: ClientAssertionSigner
            do {
                signer = try ClientAssertionSigner(
                    clientID: config.clientID, keyPEM: auth.keyPEM ?? "", certificatePEM: auth.certificatePEM ?? "", algorithm: auth.algorithm)
            } catch {
                return ([error.description], [])
            }
            guard let expiry = UpstreamConfiguration.certificateExpiry(signer.certificate.notAfter, now: now) else { return ([], []) }
            return expiry.expired ? ([expiry.text], []) : ([], [expiry.text])
        case .federated:
            if let path = auth.tokenFile, !fileReadable(path) {
                return (
                    [],
                    [
                        "upstream.client_auth.token_file: \(path) cannot be read now; it must be by the time the shim redeems a code (the kubelet writes it)"
                    ]
                )
            }
            return ([], [])
        }
    }
}
