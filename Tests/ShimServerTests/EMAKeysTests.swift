import Crypto
import Foundation
import ShimCore
import ShimTokens
import ShimUpstream
import Testing

/// Trusted issuers' keys (`ema.trusted_issuers[].jwks_uri`): fetched under
/// rule 11 (here a fake fetcher), one key per check, rotation, odd keys.
@Suite("EMA leg 2: trusted issuers' keys")
struct EMAKeysTests {
    static let issuer = "https://idp.enterprise.example"
    static let url = "https://idp.enterprise.example/jwks"

    static func keys(_ sets: [SigningKeys], extra: [String] = []) throws -> String {
        let encoded = try sets.flatMap(\.jwks.keys).map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        return #"{"keys":[\#((extra + encoded).joined(separator: ","))]}"#
    }

    static func idJAG(_ keys: SigningKeys) async throws -> (String, JOSEHeader) {
        let claims = IDJAGClaims(issuer: issuer, subject: "s", audience: ["https://as"], clientID: "c", tokenID: UUID().uuidString,
                                 expiresAt: 2_000_000_000, issuedAt: 1_900_000_000, resources: [], scope: nil)
        let token = try await keys.sign(claims, type: EMAProtocol.mediaType)
        return (token, try CompactJWS.parse(token).header)
    }

    @Test("a fetched key verifies; odd keys in the set (encryption, unknown kty, junk) are skipped, not fatal")
    func fetched() async throws {
        let documents = FakeDocuments(clock: SystemClock())
        let signer = try await SigningKeys.make(current: P256.Signing.PrivateKey())
        documents.publish(Self.url, try Self.keys([signer], extra: [#"{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB","kid":"enc"}"#,
                                                                  #"{"kty":"XYZ","kid":"odd"}"#, #""junk""#]))
        let trusted = try TrustedIssuerKeys(issuers: [TrustedIssuer(issuer: Self.issuer, jwksURI: Self.url, algorithms: ["ES256"])], fetcher: documents)
        let (token, header) = try await Self.idJAG(signer)
        try await trusted.verifySignature(token, header: header, issuer: Self.issuer)
        #expect(documents.fetched == [Self.url])
    }

    @Test("rotation: when the issuer publishes a new key set, its new kid verifies and a dropped kid is unknown")
    func rotation() async throws {
        let documents = FakeDocuments(clock: SystemClock())
        let old = try await SigningKeys.make(current: P256.Signing.PrivateKey()), new = try await SigningKeys.make(current: P256.Signing.PrivateKey())
        documents.publish(Self.url, try Self.keys([old]))
        let trusted = try TrustedIssuerKeys(issuers: [TrustedIssuer(issuer: Self.issuer, jwksURI: Self.url, algorithms: ["ES256"])], fetcher: documents)
        let (oldToken, oldHeader) = try await Self.idJAG(old)
        try await trusted.verifySignature(oldToken, header: oldHeader, issuer: Self.issuer)
        documents.publish(Self.url, try Self.keys([new]))
        let (newToken, newHeader) = try await Self.idJAG(new)
        try await trusted.verifySignature(newToken, header: newHeader, issuer: Self.issuer)
        await #expect(throws: TokenProblem.unknownKey) { try await trusted.verifySignature(oldToken, header: oldHeader, issuer: Self.issuer) }
    }

    @Test("no kid: only when exactly one key fits; a key that names another alg never fits")
    func keySelection() async throws {
        let a = try await SigningKeys.make(current: P256.Signing.PrivateKey()), b = try await SigningKeys.make(current: P256.Signing.PrivateKey())
        let (token, header) = try await Self.idJAG(a)
        var noKid = header
        noKid.kid = nil
        var onlyA = try JSONDecoder().decode(JSONValue.self, from: try JSONEncoder().encode(a.jwks.keys[0]))
        if case .object(var members) = onlyA { members["kid"] = nil; onlyA = .object(members) }
        let single = #"{"keys":[\#(String(decoding: try JSONEncoder().encode(onlyA), as: UTF8.self))]}"#
        let one = try TrustedIssuerKeys(issuers: [TrustedIssuer(issuer: Self.issuer, jwks: single, algorithms: ["ES256"])], fetcher: nil)
        try await one.verifySignature(token, header: noKid, issuer: Self.issuer)
        let two = try TrustedIssuerKeys(issuers: [TrustedIssuer(issuer: Self.issuer, jwks: try Self.keys([a, b]), algorithms: ["ES256"])], fetcher: nil)
        await #expect(throws: TokenProblem.unknownKey) { try await two.verifySignature(token, header: noKid, issuer: Self.issuer) }
        try await two.verifySignature(token, header: header, issuer: Self.issuer)
        let pinned = try Self.keys([a]).replacingOccurrences(of: #""alg":"ES256""#, with: #""alg":"ES384""#)
        let wrongAlg = try TrustedIssuerKeys(issuers: [TrustedIssuer(issuer: Self.issuer, jwks: pinned, algorithms: ["ES256"])], fetcher: nil)
        await #expect(throws: TokenProblem.unknownKey) { try await wrongAlg.verifySignature(token, header: header, issuer: Self.issuer) }
    }

    @Test("keys that cannot be read: unavailable (a 503 at /token), never accepted")
    func unavailable() async throws {
        let documents = FakeDocuments(clock: SystemClock())
        documents.fail(Self.url, .timeout(seconds: 10))
        let trusted = try TrustedIssuerKeys(issuers: [TrustedIssuer(issuer: Self.issuer, jwksURI: Self.url, algorithms: ["ES256"])], fetcher: documents)
        let (token, header) = try await Self.idJAG(try await SigningKeys.make(current: P256.Signing.PrivateKey()))
        await #expect(throws: TokenProblem.self) { try await trusted.verifySignature(token, header: header, issuer: Self.issuer) }
        documents.publish(Self.url, "not json")
        await #expect(throws: TokenProblem.self) { try await trusted.verifySignature(token, header: header, issuer: Self.issuer) }
    }
}
