import CryptoExtras
import Foundation
public import ShimCore

/// Signs the `private_key_jwt` client assertion (RFC 7523 §2.2, OIDC Core
/// §9; the shape Entra documents in "Microsoft identity platform
/// application authentication certificate credentials"):
/// `iss` = `sub` = the client id, `aud` = the token endpoint URL, a random
/// `jti`, `iat` = `nbf` = now, `exp` five minutes later; header `alg` PS256
/// with `x5t#S256` (the certificate's SHA-256 thumbprint) or RS256 with
/// `x5t` (SHA-1).
public struct ClientAssertionSigner: Sendable {
    let key: _RSA.Signing.PrivateKey
    public let certificate: ClientCertificate
    let algorithm: UpstreamClientAuthentication.Algorithm
    let clientID: String
    let clock: any ShimClock

    /// RFC 7523 §3: the assertion "MUST contain an exp claim"; short-lived, so a
    /// captured assertion is useless soon (and Entra refuses reuse of a `jti`).
    public static let lifetimeSeconds = 300

    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case certificate(ClientCertificate.Problem)
        case key(String)
        case mismatch

        public var description: String {
            switch self {
            case .certificate(let problem): "upstream.client_auth.certificate_file: \(problem.description)"
            case .key(let what): "upstream.client_auth.key_file: \(what)"
            case .mismatch:
                "upstream.client_auth.key_file: the key is not the certificate's (their public keys differ); give the key the certificate was made for"
            }
        }
    }

    public init(
        clientID: String, keyPEM: String, certificatePEM: String, algorithm: UpstreamClientAuthentication.Algorithm,
        clock: any ShimClock = SystemClock()
    ) throws(Problem) {
        do { certificate = try ClientCertificate(pem: certificatePEM) } catch { throw .certificate(error) }
        do { key = try _RSA.Signing.PrivateKey(pemRepresentation: keyPEM) } catch {
            throw .key("not an unencrypted RSA private key of 2048 bits or more (PEM)")
        }
        // The certificate names the key by thumbprint: a key that is not the
        // certificate's would sign assertions the IdP refuses as invalid_client.
        guard key.publicKey.derRepresentation == certificate.subjectPublicKeyInfo else { throw .mismatch }
        self.algorithm = algorithm
        self.clientID = clientID
        self.clock = clock
    }

    struct Header: Encodable {
        var alg: String
        var typ = "JWT"
        var x5t: String?
        var x5tS256: String?

        enum CodingKeys: String, CodingKey {
            case alg, typ, x5t
            case x5tS256 = "x5t#S256"
        }
    }

    struct Claims: Encodable {
        var iss: String
        var sub: String
        var aud: String
        var jti: String
        var iat: Int
        var nbf: Int
        var exp: Int
    }

    /// A new assertion for one request to `audience` (the token endpoint URL).
    public func assertion(audience: String) throws -> String {
        let now = Int(clock.now().timeIntervalSince1970)
        let header =
            switch algorithm {
            case .ps256: Header(alg: "PS256", x5tS256: certificate.sha256Thumbprint)
            case .rs256: Header(alg: "RS256", x5t: certificate.sha1Thumbprint)
            }
        let claims = Claims(
            iss: clientID, sub: clientID, aud: audience, jti: SecretToken.generate(bytes: 16), iat: now, nbf: now,
            exp: now + Self.lifetimeSeconds)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let input = Base64URL.encode(try encoder.encode(header)) + "." + Base64URL.encode(try encoder.encode(claims))
        // RFC 7518 §3.3 (RS256: RSASSA-PKCS1-v1_5 with SHA-256) and §3.5 (PS256:
        // RSASSA-PSS with SHA-256, MGF1 with SHA-256, a 32-byte salt: swift-crypto's .PSS).
        let padding: _RSA.Signing.Padding = algorithm == .ps256 ? .PSS : .insecurePKCS1v1_5
        let signature = try key.signature(for: Data(input.utf8), padding: padding)
        return input + "." + Base64URL.encode(signature.rawRepresentation)
    }
}
