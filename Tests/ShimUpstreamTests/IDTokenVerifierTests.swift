import Foundation
import JWTKit
import ShimCore
import ShimTesting
import ShimUpstream
import Synchronization
import Testing

/// Rule 12 for ID tokens: verified against the IdP's published
/// keys (OIDC Core §3.1.3.7), with the attacks an ID-token check must stop.
@Suite("ID token verification")
struct IDTokenVerifierTests {
    static let issuer = "https://idp.example"
    static let clientID = "shim-upstream"
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    struct Claims: JWTPayload {
        var iss = IDTokenVerifierTests.issuer
        var sub: String? = "user-42"
        var aud: [String] = [IDTokenVerifierTests.clientID]
        var exp = IDTokenVerifierTests.now.timeIntervalSince1970 + 3600
        var iat = IDTokenVerifierTests.now.timeIntervalSince1970
        var nonce: String? = "n-1"
        var azp: String?
        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    static func rsaJWK(_ kid: String, modulus: String = TestRSAKeys.oneModulus, alg: String? = nil) -> String {
        #"{"kty":"RSA","kid":"\#(kid)","use":"sig","n":"\#(modulus)","e":"\#(TestRSAKeys.exponent)"\#(alg.map { #","alg":"\#($0)""# } ?? "")}"#
    }

    static func sign(_ claims: Claims = Claims(), kid: String? = "k1", pem: String = TestRSAKeys.onePrivatePEM) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: pem), digestAlgorithm: .sha256, kid: kid.map { JWKIdentifier(string: $0) })
        var header = JWTHeader()
        if kid == nil { header.kid = nil }
        return try await keys.sign(claims, kid: kid.map { JWKIdentifier(string: $0) }, header: header)
    }

    /// A verifier whose JWKS comes from `jwks` (changeable), counting fetches.
    final class KeyServer: Sendable {
        let jwks: Mutex<String>
        let fetches = Mutex(0)
        init(_ keys: [String]) { jwks = Mutex(#"{"keys":[\#(keys.joined(separator: ","))]}"#) }
        func set(_ keys: [String]) { jwks.withLock { $0 = #"{"keys":[\#(keys.joined(separator: ","))]}"# } }
        func verifier(algorithms: Set<String> = ["RS256"]) -> IDTokenVerifier {
            IDTokenVerifier(
                expectations: .init(issuer: IDTokenVerifierTests.issuer, audience: IDTokenVerifierTests.clientID, algorithms: algorithms),
                clock: TestClock(IDTokenVerifierTests.now)
            ) {
                self.fetches.withLock { $0 += 1 }
                return Data(self.jwks.withLock { $0 }.utf8)
            }
        }
    }

    static func failure(_ verifier: IDTokenVerifier, _ token: String, nonce: String? = "n-1") async -> IDTokenVerifier.Failure? {
        do {
            _ = try await verifier.verify(token, nonce: nonce)
            return nil
        } catch {
            return error
        }
    }

    @Test("a token the IdP signed, for this client, in time, with the nonce: its subject")
    func good() async throws {
        let verifier = KeyServer([Self.rsaJWK("k1")]).verifier()
        let verified = try await verifier.verify(try await Self.sign(), nonce: "n-1")
        #expect(verified.subject == "user-42" && verified.issuer == Self.issuer)
    }

    @Test("refused: bad signature, wrong iss, wrong aud, wrong azp, expired, issued in the future, wrong nonce, no sub")
    func claimAttacks() async throws {
        let verifier = KeyServer([Self.rsaJWK("k1")]).verifier()
        let good = try await Self.sign()
        var parts = good.split(separator: ".").map(String.init)
        parts[1] = Base64URL.encode(Data(#"{"iss":"https://idp.example","sub":"admin","aud":"shim-upstream","exp":9999999999,"nonce":"n-1"}"#.utf8))
        #expect(await Self.failure(verifier, parts.joined(separator: ".")) == .badSignature)
        #expect(
            await Self.failure(verifier, try await Self.sign(Self.with { $0.iss = "https://evil.example" })) == .wrongIssuer("https://evil.example"))
        #expect(await Self.failure(verifier, try await Self.sign(Self.with { $0.aud = ["another-client"] })) == .wrongAudience)
        #expect(
            await Self.failure(
                verifier,
                try await Self.sign(
                    Self.with {
                        $0.aud = ["another-client", Self.clientID]
                        $0.azp = "another-client"
                    })) == .wrongAudience)
        #expect(await Self.failure(verifier, try await Self.sign(Self.with { $0.exp = Self.now.timeIntervalSince1970 - 61 })) == .expired)
        #expect(await Self.failure(verifier, try await Self.sign(Self.with { $0.iat = Self.now.timeIntervalSince1970 + 600 })) == .issuedInTheFuture)
        #expect(await Self.failure(verifier, try await Self.sign(), nonce: "n-2") == .nonceMismatch)
        #expect(await Self.failure(verifier, try await Self.sign(Self.with { $0.sub = nil })) == .noSubject)
        // Within the 60 s skew, and aud as a list with azp naming this client: accepted.
        _ = try await verifier.verify(try await Self.sign(Self.with { $0.exp = Self.now.timeIntervalSince1970 - 30 }), nonce: "n-1")
        _ = try await verifier.verify(
            try await Self.sign(
                Self.with {
                    $0.aud = ["x", Self.clientID]
                    $0.azp = Self.clientID
                }), nonce: "n-1")
    }

    static func with(_ change: (inout Claims) -> Void) -> Claims {
        var claims = Claims()
        change(&claims)
        return claims
    }

    @Test("refused before any key is used: alg none, HS256 keyed with the IdP's public key, an algorithm not allowed")
    func algorithmAttacks() async throws {
        let verifier = KeyServer([Self.rsaJWK("k1")]).verifier()
        let payload = Base64URL.encode(try JSONEncoder().encode(Claims()))
        let none = Base64URL.encode(Data(#"{"alg":"none","kid":"k1"}"#.utf8)) + "." + payload + "."
        #expect(await Self.failure(verifier, none) == .algorithmNotAllowed("none"))
        // The classic confusion: HMAC with the RSA public key as the secret.
        let hmac = JWTKeyCollection()
        await hmac.add(hmac: HMACKey(from: TestRSAKeys.onePublicPEM), digestAlgorithm: .sha256, kid: "k1")
        let confused = try await hmac.sign(Claims(), kid: "k1")
        #expect(await Self.failure(verifier, confused) == .algorithmNotAllowed("HS256"))
        // Even an operator who lists HS256 cannot enable it.
        #expect(
            await Self.failure(KeyServer([Self.rsaJWK("k1")]).verifier(algorithms: ["RS256", "HS256"]), confused) == .algorithmNotAllowed("HS256"))
        // RS256 allowed, but the key pins RS512 for itself.
        #expect(await Self.failure(KeyServer([Self.rsaJWK("k1", alg: "RS512")]).verifier(), try await Self.sign()) == .unknownKey("k1"))
        // An EC-only allow-list refuses an RS256 token.
        #expect(
            await Self.failure(KeyServer([Self.rsaJWK("k1")]).verifier(algorithms: ["ES256"]), try await Self.sign()) == .algorithmNotAllowed("RS256")
        )
        #expect(await Self.failure(verifier, "not.a.jwt") == .malformed)
        #expect(await Self.failure(verifier, "a.b") == .malformed)
    }

    @Test("refused: a typ naming another kind of JWT (access token, ID-JAG), and critical header extensions (RFC 8725 §3.11, RFC 7515 §4.1.11)")
    func headerAttacks() async throws {
        let verifier = KeyServer([Self.rsaJWK("k1")]).verifier()
        for typ in ["at+jwt", "application/at+JWT", "oauth-id-jag+jwt"] {
            var header = JWTHeader()
            header.typ = typ
            let keys = JWTKeyCollection()
            await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: TestRSAKeys.onePrivatePEM), digestAlgorithm: .sha256, kid: "k1")
            let token = try await keys.sign(Claims(), kid: "k1", header: header)
            #expect(await Self.failure(verifier, token) == .wrongType(typ))
        }
        var critical = JWTHeader()
        critical.crit = ["exp"]
        let keys = JWTKeyCollection()
        await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: TestRSAKeys.onePrivatePEM), digestAlgorithm: .sha256, kid: "k1")
        #expect(await Self.failure(verifier, try await keys.sign(Claims(), kid: "k1", header: critical)) == .criticalHeader)
        // typ "JWT" (what most IdPs send) is an ID token as far as typ goes.
        var plain = JWTHeader()
        plain.typ = "JWT"
        _ = try await verifier.verify(try await keys.sign(Claims(), kid: "k1", header: plain), nonce: "n-1")
    }

    @Test("ID-JAG leg 1: another audience (the asking application), no nonce; every claim is returned")
    func otherAudience() async throws {
        let verifier = KeyServer([Self.rsaJWK("k1")]).verifier()
        let token = try await Self.sign(
            Self.with {
                $0.aud = ["mcp-app"]
                $0.nonce = nil
            })
        #expect(await Self.failure(verifier, token, nonce: nil) == .wrongAudience)
        let verified = try await verifier.verify(token, nonce: nil, audience: "mcp-app")
        #expect(verified.subject == "user-42")
        #expect(verified.claims["aud"] == .array([.string("mcp-app")]) && verified.claims["sub"] == .string("user-42"))
        // The code flow's audience is not the application's.
        await #expect(throws: IDTokenVerifier.Failure.wrongAudience) {
            _ = try await verifier.verify(try await Self.sign(), nonce: "n-1", audience: "mcp-app")
        }
    }

    @Test("unknown kid: the keys are fetched again once (rotation), then refused; not again within 30 s")
    func unknownKid() async throws {
        let server = KeyServer([Self.rsaJWK("k1")])
        let verifier = server.verifier()
        _ = try await verifier.verify(try await Self.sign(), nonce: "n-1")
        #expect(server.fetches.withLock { $0 } == 1)
        // The IdP rotates to k2: the token with the new kid triggers one refetch.
        server.set([Self.rsaJWK("k1"), Self.rsaJWK("k2", modulus: TestRSAKeys.twoModulus)])
        let rotated = try await Self.sign(kid: "k2", pem: TestRSAKeys.twoPrivatePEM)
        // Within 30 s of the last fetch, no refetch: refused.
        #expect(await Self.failure(verifier, rotated) == .unknownKey("k2"))
        #expect(server.fetches.withLock { $0 } == 1)
    }

    @Test("unknown kid after the refetch interval: one refetch finds the rotated key; a kid that is nowhere is refused")
    func rotation() async throws {
        let server = KeyServer([Self.rsaJWK("k1")])
        let verifier = IDTokenVerifier(
            expectations: .init(issuer: Self.issuer, audience: Self.clientID), clock: TestClock(Self.now), refetchInterval: 0
        ) {
            server.fetches.withLock { $0 += 1 }
            return Data(server.jwks.withLock { $0 }.utf8)
        }
        _ = try await verifier.verify(try await Self.sign(), nonce: "n-1")
        server.set([Self.rsaJWK("k1"), Self.rsaJWK("k2", modulus: TestRSAKeys.twoModulus)])
        _ = try await verifier.verify(try await Self.sign(kid: "k2", pem: TestRSAKeys.twoPrivatePEM), nonce: "n-1")
        #expect(server.fetches.withLock { $0 } == 2)
        #expect(await Self.failure(verifier, try await Self.sign(kid: "k9")) == .unknownKey("k9"))
        #expect(server.fetches.withLock { $0 } == 3)
        // A token signed by k2's key but naming k1: the signature fails against k1.
        #expect(await Self.failure(verifier, try await Self.sign(kid: "k1", pem: TestRSAKeys.twoPrivatePEM)) == .badSignature)
    }

    @Test("a key set with odd keys: encryption and unknown kty are skipped; no kid works with exactly one fitting key")
    func oddKeys() async throws {
        let server = KeyServer([
            #"{"kty":"oct","kid":"h","k":"c2VjcmV0"}"#, #"{"kty":"RSA","kid":"enc","use":"enc","n":"\#(TestRSAKeys.twoModulus)","e":"AQAB"}"#,
            #"{"kty":"XYZ","kid":"weird"}"#, Self.rsaJWK("k1"),
        ])
        let verifier = server.verifier()
        _ = try await verifier.verify(try await Self.sign(), nonce: "n-1")
        _ = try await verifier.verify(try await Self.sign(kid: nil), nonce: "n-1")
        let two = KeyServer([Self.rsaJWK("k1"), Self.rsaJWK("k2", modulus: TestRSAKeys.twoModulus)]).verifier()
        #expect(await Self.failure(two, try await Self.sign(kid: nil)) == .noKey)
    }

    @Test("ES256: a P-256 key verifies; an RSA key never does")
    func ecdsa() async throws {
        let key = ES256PrivateKey()
        let parameters = try #require(key.publicKey.parameters)
        func url(_ standard: String) -> String {
            standard.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        let jwk = #"{"kty":"EC","crv":"P-256","kid":"e1","x":"\#(url(parameters.x))","y":"\#(url(parameters.y))"}"#
        let signer = JWTKeyCollection()
        await signer.add(ecdsa: key, kid: "e1")
        let token = try await signer.sign(Claims(), kid: "e1")
        _ = try await KeyServer([jwk]).verifier(algorithms: ["ES256"]).verify(token, nonce: "n-1")
        #expect(await Self.failure(KeyServer([Self.rsaJWK("e1")]).verifier(algorithms: ["ES256"]), token) == .unknownKey("e1"))
    }

    @Test("the JWKS cannot be read: keysUnavailable, and the last good set keeps serving")
    func keysUnavailable() async throws {
        let verifier = IDTokenVerifier(expectations: .init(issuer: Self.issuer, audience: Self.clientID), clock: TestClock(Self.now)) {
            throw URLError(.cannotConnectToHost)
        }
        guard case .keysUnavailable = await Self.failure(verifier, try await Self.sign()) else {
            Issue.record("not keysUnavailable")
            return
        }
    }
}
