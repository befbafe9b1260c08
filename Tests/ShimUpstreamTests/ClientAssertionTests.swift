import AsyncHTTPClient
import CryptoExtras
import Foundation
import HTTPTypes
import Logging
import ShimCore
import ShimTesting
import Synchronization
import Testing

@testable import ShimUpstream

/// `upstream.client_auth` on the wire, against the fake IdP over real HTTP:
/// the private_key_jwt assertion as Entra documents it (RFC 7523 §2.2, OIDC
/// Core §9), a federated token read again each time, a managed identity's
/// token kept until shortly before it expires, and doctor naming the
/// certificate the IdP refused.
@Suite("Upstream client authentication on the wire")
struct ClientAssertionTests {

    static func config(_ base: String, _ auth: UpstreamClientAuthentication, preset: UpstreamPreset = .entra) -> UpstreamConfiguration {
        var config = UpstreamConfiguration(
            preset: preset, tenant: preset == .entra ? "t1" : nil, issuer: nil, authorizationEndpoint: base + "/authorize",
            tokenEndpoint: base + "/token", revocationEndpoint: nil, clientID: "static-client", clientSecret: nil,
            tokenEndpointAuthMethod: "private_key_jwt", scopes: [], extraAuthorizeParams: [:], extraTokenParams: [:], timeoutSeconds: 15)
        config.clientAuth = auth
        return config
    }

    static func certificateAuth(
        _ algorithm: UpstreamClientAuthentication.Algorithm = .ps256, key: String = TestRSAKeys.onePrivatePEM
    )
        -> UpstreamClientAuthentication
    {
        UpstreamClientAuthentication(method: .privateKeyJWT, keyPEM: key, certificatePEM: TestRSAKeys.oneCertificatePEM, algorithm: algorithm)
    }

    static func upstream(_ config: UpstreamConfiguration, clock: TestClock) -> OIDCUpstream {
        OIDCUpstream(
            config: config, callbackURL: "http://127.0.0.1:1/callback", httpClient: .shared, logger: Logger(label: "test"),
            credentials: UpstreamClientCredentials(config: config, httpClient: .shared, clock: clock))
    }

    /// The assertion's header and claims, after checking its signature with the certificate's key.
    static func verified(_ assertion: String, padding: _RSA.Signing.Padding) throws -> (header: [String: Any], claims: [String: Any]) {
        let parts = assertion.split(separator: ".").map(String.init)
        try #require(parts.count == 3)
        let key = try _RSA.Signing.PublicKey(pemRepresentation: TestRSAKeys.onePublicPEM)
        let signature = _RSA.Signing.RSASignature(rawRepresentation: try #require(Base64URL.decode(parts[2])))
        #expect(key.isValidSignature(signature, for: Data((parts[0] + "." + parts[1]).utf8), padding: padding))
        let headerJSON = try #require(Base64URL.decode(parts[0]))
        let claimsJSON = try #require(Base64URL.decode(parts[1]))
        let header = try #require(try JSONSerialization.jsonObject(with: headerJSON) as? [String: Any])
        let claims = try #require(try JSONSerialization.jsonObject(with: claimsJSON) as? [String: Any])
        return (header, claims)
    }

    @Test(
        "private_key_jwt, PS256: x5t#S256 is the certificate's SHA-256 thumbprint; iss = sub = client id, aud = the token endpoint, 5-minute exp, a new jti each time; no secret"
    )
    func ps256() async throws {
        let idp = FakeIdP()
        let clock = TestClock()
        try await idp.run { base in
            let upstream = Self.upstream(Self.config(base, Self.certificateAuth()), clock: clock)
            _ = try await upstream.exchangeCode("c", codeVerifier: "v")
            let form = idp.lastForm.withLock { $0 }
            #expect(form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            #expect(form["client_id"] == "static-client" && form["client_secret"] == nil)
            #expect(idp.lastAuthorization.withLock { $0 } == nil)
            let (header, claims) = try Self.verified(try #require(form["client_assertion"]), padding: .PSS)
            #expect(header["alg"] as? String == "PS256" && header["typ"] as? String == "JWT")
            #expect(header["x5t#S256"] as? String == TestRSAKeys.oneCertificateSHA256Thumbprint && header["x5t"] == nil)
            let now = Int(clock.now().timeIntervalSince1970)
            #expect(claims["iss"] as? String == "static-client" && claims["sub"] as? String == "static-client")
            #expect(claims["aud"] as? String == base + "/token")
            #expect(claims["iat"] as? Int == now && claims["nbf"] as? Int == now && claims["exp"] as? Int == now + 300)
            let firstJTI = try #require(claims["jti"] as? String)
            #expect(firstJTI.count >= 16)

            // Refresh is authenticated the same way, with a fresh assertion.
            clock.advance(by: 60)
            _ = try await upstream.refresh("rt", scope: ScopeSet("openid"))
            let refresh = idp.lastForm.withLock { $0 }
            #expect(refresh["grant_type"] == "refresh_token")
            let (_, again) = try Self.verified(try #require(refresh["client_assertion"]), padding: .PSS)
            #expect(again["jti"] as? String != firstJTI)
            #expect(again["iat"] as? Int == now + 60)
        }
    }

    @Test("private_key_jwt, RS256: x5t is the certificate's SHA-1 thumbprint, signed RSASSA-PKCS1-v1_5")
    func rs256() async throws {
        let idp = FakeIdP()
        try await idp.run { base in
            let upstream = Self.upstream(Self.config(base, Self.certificateAuth(.rs256)), clock: TestClock())
            _ = try await upstream.exchangeCode("c", codeVerifier: "v")
            let form = idp.lastForm.withLock { $0 }
            let (header, _) = try Self.verified(try #require(form["client_assertion"]), padding: .insecurePKCS1v1_5)
            #expect(
                header["alg"] as? String == "RS256" && header["x5t"] as? String == TestRSAKeys.oneCertificateSHA1Thumbprint
                    && header["x5t#S256"] == nil)
        }
    }

    @Test("a key that is not the certificate's is refused at load (check-config, serve's start), and the token request fails without calling the IdP")
    func mismatch() async throws {
        #expect(throws: ClientAssertionSigner.Problem.mismatch) {
            try ClientAssertionSigner(
                clientID: "c", keyPEM: TestRSAKeys.twoPrivatePEM, certificatePEM: TestRSAKeys.oneCertificatePEM, algorithm: .ps256)
        }
        let auth = Self.certificateAuth(key: TestRSAKeys.twoPrivatePEM)
        let inspected = UpstreamClientCredentials.inspect(Self.config("http://127.0.0.1:1", auth), now: Date())
        #expect(inspected.problems.first?.contains("the key is not the certificate's") == true, "\(inspected)")
        let idp = FakeIdP()
        try await idp.run { base in
            let upstream = Self.upstream(Self.config(base, auth), clock: TestClock())
            let error = await #expect(throws: OAuthError.self) { try await upstream.exchangeCode("c", codeVerifier: "v") }
            #expect(error?.code == .serverError)
            #expect(idp.tokenCalls.withLock { $0 } == 0)
        }
    }

    @Test("check-config's and serve's words on the certificate: a warning under 30 days, an error once expired")
    func inspectExpiry() {
        let config = Self.config("http://127.0.0.1:1", Self.certificateAuth())
        let notAfter = Date(timeIntervalSince1970: 4_733_510_400)
        #expect(UpstreamClientCredentials.inspect(config, now: notAfter.addingTimeInterval(-40 * 86400)) == ([], []))
        let soon = UpstreamClientCredentials.inspect(config, now: notAfter.addingTimeInterval(-5 * 86400))
        #expect(soon.problems.isEmpty && soon.warnings.first?.contains("in 5 day(s)") == true, "\(soon)")
        let past = UpstreamClientCredentials.inspect(config, now: notAfter.addingTimeInterval(60))
        #expect(past.problems.first?.contains("expired") == true && past.warnings.isEmpty, "\(past)")
    }

    @Test("federated token file: read again for every request (the kubelet rotates it), sent as the client assertion as it is")
    func federatedFile() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dcr-shim-federated-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvbmUifQ.c2ln\n".write(toFile: path, atomically: true, encoding: .utf8)
        let idp = FakeIdP()
        try await idp.run { base in
            let upstream = Self.upstream(
                Self.config(base, UpstreamClientAuthentication(method: .federated, tokenFile: path)), clock: TestClock())
            _ = try await upstream.exchangeCode("c", codeVerifier: "v")
            var form = idp.lastForm.withLock { $0 }
            #expect(form["client_assertion"] == "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvbmUifQ.c2ln")
            #expect(form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" && form["client_secret"] == nil)
            try "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0d28ifQ.c2ln".write(toFile: path, atomically: true, encoding: .utf8)
            _ = try await upstream.refresh("rt", scope: ScopeSet("openid"))
            form = idp.lastForm.withLock { $0 }
            #expect(form["client_assertion"] == "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0d28ifQ.c2ln")
            try FileManager.default.removeItem(atPath: path)
            let gone = await #expect(throws: OAuthError.self) { try await upstream.refresh("rt", scope: ScopeSet("openid")) }
            #expect(gone?.code == .serverError && gone?.detail?.contains(path) == true)
        }
    }

    @Test(
        "managed identity (IMDS): Metadata: true, resource api://AzureADTokenExchange, the user-assigned client id; kept until 5 minutes before it expires"
    )
    func managedIdentityIMDS() async throws {
        let idp = FakeIdP()
        let clock = TestClock()  // 1_800_000_000; the fake's token expires at 1_800_003_600
        try await idp.run { base in
            let source = FederatedTokenSource(
                origin: .managedIdentity(clientID: "mi-client"), httpClient: .shared, clock: clock, environment: [:],
                metadataEndpoint: base + "/msi")
            let token1 = try await source.token()
            #expect(token1 == "header.mi-token-1.signature")
            let query = idp.lastIdentityQuery.withLock { $0 }
            #expect(query["api-version"] == "2018-02-01" && query["client_id"] == "mi-client")
            #expect(query["resource"]?.removingPercentEncoding == "api://AzureADTokenExchange")
            #expect(idp.lastIdentityHeaders.withLock { $0 }[HTTPField.Name("Metadata")!] == "true")
            clock.advance(by: 3600 - 301)
            let token2 = try await source.token()
            #expect(token2 == "header.mi-token-1.signature")
            #expect(idp.identityCalls.withLock { $0 } == 1)
            idp.identityToken.withLock { $0 = ("header.mi-token-2.signature", 1_800_007_200) }
            clock.advance(by: 2)
            let token3 = try await source.token()
            #expect(token3 == "header.mi-token-2.signature")
            #expect(idp.identityCalls.withLock { $0 } == 2)
        }
    }

    @Test("managed identity on Container Apps / App Service: IDENTITY_ENDPOINT with X-IDENTITY-HEADER, api-version 2019-08-01")
    func managedIdentityEndpoint() async throws {
        let idp = FakeIdP()
        try await idp.run { base in
            let source = FederatedTokenSource(
                origin: .managedIdentity(clientID: nil), httpClient: .shared, clock: TestClock(),
                environment: ["IDENTITY_ENDPOINT": base + "/msi", "IDENTITY_HEADER": "hdr-secret"], metadataEndpoint: "http://127.0.0.1:1/unused")
            let token4 = try await source.token()
            #expect(token4 == "header.mi-token-1.signature")
            let query = idp.lastIdentityQuery.withLock { $0 }
            #expect(query["api-version"] == "2019-08-01" && query["client_id"] == nil)
            let headers = idp.lastIdentityHeaders.withLock { $0 }
            #expect(headers[HTTPField.Name("X-IDENTITY-HEADER")!] == "hdr-secret" && headers[HTTPField.Name("Metadata")!] == nil)
        }
    }

    @Test("doctor: a made-up code refused as invalid_grant proves the certificate was accepted; invalid_client names the refused thumbprint")
    func doctor() async throws {
        let idp = FakeIdP()
        try await idp.run { base in
            let config = Self.config(base, Self.certificateAuth())
            let doctor = UpstreamDoctor(
                config: config, resourceScopes: [], callbackURL: "http://127.0.0.1:1/callback", httpClient: .shared, logger: Logger(label: "test"),
                clock: TestClock())
            let endpoints = UpstreamEndpoints(authorization: base + "/authorize", token: base + "/token")
            idp.set(.upstreamError("invalid_grant"))
            let accepted = await doctor.credentialsCheck(endpoints)
            #expect(accepted.outcome == .ok, "\(accepted)")
            #expect(idp.lastForm.withLock { $0 }["client_assertion"] != nil)
            idp.set(.upstreamError("invalid_client"))
            let refused = await doctor.credentialsCheck(endpoints)
            #expect(refused.outcome == .failed)
            #expect(
                refused.detail.contains(TestRSAKeys.oneCertificateSHA256Thumbprint)
                    && refused.detail.contains("945EA3455AACEE03173375263ACBB144F51D4E47"), "\(refused)")
            let certificate = doctor.clientAuthChecks(endpoints, now: Date(timeIntervalSince1970: 4_733_510_400 - 86400))
            #expect(certificate.first?.outcome == .warning && certificate.first?.detail.contains(TestRSAKeys.oneCertificateSHA256Thumbprint) == true)
            var listed = endpoints
            listed.tokenAuthMethods = ["client_secret_basic"]
            #expect(
                doctor.clientAuthChecks(listed, now: Date(timeIntervalSince1970: 0)).contains {
                    $0.outcome == .failed && $0.name == "client authentication method"
                })
        }
    }

    @Test("doctor: a bare 403 with no error code (glewlwyd's answer to an assertion it refuses) fails and names the refused thumbprint")
    func doctorBareRefusal() async throws {
        let idp = FakeIdP()
        try await idp.run { base in
            let doctor = UpstreamDoctor(
                config: Self.config(base, Self.certificateAuth(), preset: .oidc), resourceScopes: [], callbackURL: "http://127.0.0.1:1/callback",
                httpClient: .shared, logger: Logger(label: "test"), clock: TestClock())
            let endpoints = UpstreamEndpoints(authorization: base + "/authorize", token: base + "/token")
            for status in [403, 401] {
                idp.set(.raw(status, "text/plain", ""))
                let refused = await doctor.credentialsCheck(endpoints)
                #expect(refused.outcome == .failed, "\(status): \(refused)")
                #expect(refused.detail.contains(TestRSAKeys.oneCertificateSHA256Thumbprint), "\(refused)")
                #expect(refused.fix?.contains("refused the shim's client assertion") == true, "\(refused)")
            }
        }
    }
}
