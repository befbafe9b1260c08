public import Foundation

/// `upstream.client_auth`: how the shim authenticates itself to the IdP's
/// token endpoint (code redemption, refresh, revocation, doctor's check).
///
/// - `client_secret`: `upstream.client_secret(_file)`, sent as
///   `upstream.token_endpoint_auth_method` says (RFC 6749 §2.3.1).
/// - `private_key_jwt`: a JWT signed with `key_file`, naming
///   `certificate_file` by thumbprint (RFC 7523 §2.2, OIDC Core §9).
/// - `federated`: the client assertion is a token another issuer signed —
///   read from `token_file` each time (a Kubernetes projected service
///   account token; default `$AZURE_FEDERATED_TOKEN_FILE`), or asked from the
///   Azure instance metadata endpoint for a `managed_identity`.
public struct UpstreamClientAuthentication: Sendable, Equatable {
    public enum Method: String, Sendable, Equatable, CaseIterable {
        case clientSecret = "client_secret"
        case privateKeyJWT = "private_key_jwt"
        case federated
    }

    /// The assertion's `alg`: PS256 with `x5t#S256` (Entra's current
    /// format), or RS256 with `x5t` (the SHA-1 thumbprint).
    public enum Algorithm: String, Sendable, Equatable, CaseIterable {
        case ps256 = "PS256"
        case rs256 = "RS256"
    }

    /// `upstream.client_auth.managed_identity`: `{}` for the system-assigned
    /// identity, `{client_id: …}` for a user-assigned one.
    public struct ManagedIdentity: Sendable, Equatable {
        public var clientID: String?
        public init(clientID: String? = nil) { self.clientID = clientID }
    }

    public var method: Method
    /// `key` / `key_file`: the RSA private key, PEM (PKCS#8 or PKCS#1).
    public var keyPEM: String?
    /// `certificate` / `certificate_file`: the certificate registered at the IdP, PEM.
    public var certificatePEM: String?
    public var algorithm: Algorithm
    /// `token_file`: read each time an assertion is needed (the kubelet rotates it).
    public var tokenFile: String?
    public var managedIdentity: ManagedIdentity?

    public init(
        method: Method = .clientSecret, keyPEM: String? = nil, certificatePEM: String? = nil, algorithm: Algorithm = .ps256,
        tokenFile: String? = nil, managedIdentity: ManagedIdentity? = nil
    ) {
        self.method = method
        self.keyPEM = keyPEM
        self.certificatePEM = certificatePEM
        self.algorithm = algorithm
        self.tokenFile = tokenFile
        self.managedIdentity = managedIdentity
    }

    /// RFC 7521 §4.2: the `client_assertion_type` of a JWT client assertion.
    public static let jwtBearerAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    /// Microsoft's documented audience for a federated token exchanged at Entra.
    public static let azureTokenExchangeAudience = "api://AzureADTokenExchange"
    /// A certificate closer to its end than this is warned about (check-config, doctor).
    public static let expiryWarningSeconds: TimeInterval = 30 * 86400

    /// Reads `upstream.client_auth.*`. `wireMethod` is an explicitly set
    /// `upstream.token_endpoint_auth_method`: `private_key_jwt` there means
    /// the `private_key_jwt` method; `azureTokenFile` is `$AZURE_FEDERATED_TOKEN_FILE`.
    static func read(_ r: inout ConfigReader, wireMethod: String?, azureTokenFile: String?) -> Self {
        let base = "upstream.client_auth"
        var auth = UpstreamClientAuthentication(
            method: r.choice(base + ".method", default: wireMethod == "private_key_jwt" ? .privateKeyJWT : .clientSecret),
            keyPEM: r.secret(base + ".key"),
            certificatePEM: r.secret(base + ".certificate"),
            algorithm: r.choice(base + ".algorithm", default: .ps256),
            tokenFile: r.string(base + ".token_file"))
        let identity = base + ".managed_identity"
        switch r.node(identity) {
        case .none, .null:
            break
        case .map:
            auth.managedIdentity = ManagedIdentity(clientID: r.string(identity + ".client_id"))
        default:
            _ = r.text(identity)
            r.problem("\(identity): must be a map: {} for the system-assigned identity, or {client_id: <id>} for a user-assigned one")
        }
        if auth.method == .federated, auth.tokenFile == nil, auth.managedIdentity == nil, let azureTokenFile, !azureTokenFile.isEmpty {
            auth.tokenFile = azureTokenFile
        }
        if auth.method != .clientSecret, let wireMethod, wireMethod != "private_key_jwt" {
            r.problem(
                "upstream.token_endpoint_auth_method: \(wireMethod.quotedForProblem) contradicts upstream.client_auth.method \(auth.method.rawValue), which sends a client assertion (private_key_jwt on the wire); remove upstream.token_endpoint_auth_method"
            )
        }
        return auth
    }
}

extension UpstreamPreset {
    /// Which client authentication methods the IdP accepts for a
    /// confidential web application, from its own documentation.
    public var clientAuthMethods: [UpstreamClientAuthentication.Method] {
        switch self {
        // https://learn.microsoft.com/entra/identity-platform/certificate-credentials and
        // https://learn.microsoft.com/entra/workload-id/workload-identity-federation
        case .entra: [.clientSecret, .privateKeyJWT, .federated]
        // https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/main/#create-and-sign-the-jwt
        // https://auth0.com/docs/get-started/authentication-and-authorization-flow/authenticate-with-private-key-jwt
        // https://www.keycloak.org/docs/latest/server_admin/#_client-credentials ("Signed JWT")
        case .okta, .auth0, .keycloak: [.clientSecret, .privateKeyJWT]
        // RFC 7523 §2.2 / OIDC Core §9; doctor checks the discovery document's
        // token_endpoint_auth_methods_supported lists it.
        case .oidc: [.clientSecret, .privateKeyJWT]
        // Google's and GitHub's web clients have a secret and nothing else.
        case .google, .github: [.clientSecret]
        }
    }

    /// Why `check-config` refuses a method for this preset.
    func whyNot(_ method: UpstreamClientAuthentication.Method) -> String {
        switch (self, method) {
        case (.google, _): "Google's OAuth web clients authenticate with a client secret only"
        case (.github, _): "GitHub OAuth apps authenticate with a client secret only"
        case (_, .federated):
            "federated credentials (workload identity federation) are Entra's; \(rawValue) takes private_key_jwt with a certificate"
        default: "\(rawValue) does not document \(method.rawValue)"
        }
    }
}

extension UpstreamConfiguration {
    /// The checks on `upstream.client_auth` that need no clock and no key
    /// parsing (those are `UpstreamClientCredentials.inspect`'s, in ShimUpstream).
    func clientAuthProblems() -> [String] {
        var problems: [String] = []
        let base = "upstream.client_auth"
        let auth = clientAuth
        if !preset.clientAuthMethods.contains(auth.method) {
            problems.append(
                "\(base).method: \(auth.method.rawValue) is not accepted for the \(preset.rawValue) preset: \(preset.whyNot(auth.method))")
        }
        switch auth.method {
        case .clientSecret:
            switch tokenEndpointAuthMethod {
            case "client_secret_basic", "client_secret_post":
                if (clientSecret ?? "").isEmpty {
                    problems.append("upstream.client_secret: required for \(tokenEndpointAuthMethod) (or upstream.client_secret_file)")
                }
            case "private_key_jwt":
                problems.append(
                    "upstream.token_endpoint_auth_method: private_key_jwt needs \(base).method private_key_jwt (with key_file and certificate_file), not client_secret"
                )
            default:
                problems.append(
                    "upstream.token_endpoint_auth_method: \(tokenEndpointAuthMethod.quotedForProblem) is not client_secret_basic, client_secret_post or private_key_jwt"
                )
            }
        case .privateKeyJWT, .federated:
            if clientSecret != nil {
                problems.append(
                    "upstream.client_secret: not used with \(base).method \(auth.method.rawValue); remove it (a secret nobody uses is one more to leak)"
                )
            }
        }
        if auth.method == .privateKeyJWT {
            if (auth.keyPEM ?? "").isEmpty { problems.append("\(base).key_file: required for private_key_jwt (the RSA private key, PEM)") }
            if (auth.certificatePEM ?? "").isEmpty {
                problems.append("\(base).certificate_file: required for private_key_jwt (the certificate registered at the IdP, PEM)")
            }
            if let key = auth.keyPEM, !key.isEmpty { problems += Self.keyPEMProblems(key, key: base + ".key_file") }
            if let certificate = auth.certificatePEM, !certificate.isEmpty {
                do { _ = try ClientCertificate(pem: certificate) } catch { problems.append("\(base).certificate_file: \(error.description)") }
            }
        } else {
            for (name, value) in [("key_file", auth.keyPEM), ("certificate_file", auth.certificatePEM)] where value != nil {
                problems.append("\(base).\(name): only for method private_key_jwt")
            }
            if auth.algorithm != .ps256 { problems.append("\(base).algorithm: only for method private_key_jwt") }
        }
        if auth.method == .federated {
            switch (auth.tokenFile, auth.managedIdentity) {
            case (nil, nil):
                problems.append(
                    "\(base).token_file: federated needs a token: token_file (or AZURE_FEDERATED_TOKEN_FILE in the environment) or managed_identity")
            case (.some, .some):
                problems.append("\(base): give either token_file or managed_identity, not both")
            case (.some(let path), nil) where !path.hasPrefix("/"):
                problems.append("\(base).token_file: must be an absolute path (it is read again each time, whatever the working directory)")
            default:
                break
            }
        } else {
            if auth.tokenFile != nil { problems.append("\(base).token_file: only for method federated") }
            if auth.managedIdentity != nil { problems.append("\(base).managed_identity: only for method federated") }
        }
        return problems
    }

    /// An RSA private key in PEM: `PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY`
    /// (PKCS#1), unencrypted (the shim holds no passphrase).
    static func keyPEMProblems(_ pem: String, key: String) -> [String] {
        let labels = PEMBlocks.labels(pem)
        if labels.contains("ENCRYPTED PRIVATE KEY") {
            return [
                "\(key): the key is encrypted; the shim reads unencrypted keys only (openssl pkey -in key.pem -out plain.pem; protect the file instead)"
            ]
        }
        if labels.contains("EC PRIVATE KEY") {
            return ["\(key): an EC key; PS256 and RS256 need an RSA key (2048 bits or more)"]
        }
        guard labels.contains("PRIVATE KEY") || labels.contains("RSA PRIVATE KEY") else {
            return ["\(key): holds no -----BEGIN PRIVATE KEY----- block"]
        }
        return []
    }

    /// `check-config`'s and doctor's words on the certificate's end, or nil
    /// when more than 30 days are left.
    public static func certificateExpiry(_ notAfter: Date, now: Date) -> (expired: Bool, text: String)? {
        let left = notAfter.timeIntervalSince(now)
        let end = ISO8601DateFormatter().string(from: notAfter)
        if left <= 0 { return (true, "upstream.client_auth.certificate_file: the certificate expired on \(end); the IdP refuses assertions for it") }
        guard left < UpstreamClientAuthentication.expiryWarningSeconds else { return nil }
        return (
            false,
            "upstream.client_auth.certificate_file: the certificate expires on \(end) (in \(Int(left / 86400)) day(s)); register a new one at the IdP and replace the files"
        )
    }
}
