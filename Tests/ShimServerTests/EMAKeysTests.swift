import Crypto
import Foundation
import ShimCore
import ShimTesting
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
        let claims = IDJAGClaims(
            issuer: issuer, subject: "s", audience: ["https://as"], clientID: "c", tokenID: UUID().uuidString,
            expiresAt: 2_000_000_000, issuedAt: 1_900_000_000, resources: [], scope: nil)
        let token = try await keys.sign(claims, type: EMAProtocol.mediaType)
        return (token, try CompactJWS.parse(token).header)
    }

    @Test("a fetched key verifies; odd keys in the set (encryption, unknown kty, junk) are skipped, not fatal")
    func fetched() async throws {
        let documents = FakeDocuments(clock: SystemClock())
        let signer = try await SigningKeys.make(current: P256.Signing.PrivateKey())
        documents.publish(
            Self.url,
            try Self.keys(
                [signer],
                extra: [
                    #"{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB","kid":"enc"}"#,
                    #"{"kty":"XYZ","kid":"odd"}"#, #""junk""#,
                ]))
        let trusted = try TrustedIssuerKeys(
            issuers: [TrustedIssuer(issuer: Self.issuer, jwksURI: Self.url, algorithms: ["ES256"])], fetcher: documents)
        let (token, header) = try await Self.idJAG(signer)
        try await trusted.verifySignature(token, header: header, issuer: Self.issuer)
        #expect(documents.fetched == [Self.url])
    }

    @Test("rotation: when the issuer publishes a new key set, its new kid verifies and a dropped kid is unknown")
    func rotation() async throws {
        let documents = FakeDocuments(clock: SystemClock())
        let old = try await SigningKeys.make(current: P256.Signing.PrivateKey())
        let new = try await SigningKeys.make(current: P256.Signing.PrivateKey())
        documents.publish(Self.url, try Self.keys([old]))
        let trusted = try TrustedIssuerKeys(
            issuers: [TrustedIssuer(issuer: Self.issuer, jwksURI: Self.url, algorithms: ["ES256"])], fetcher: documents)
        let (oldToken, oldHeader) = try await Self.idJAG(old)
        try await trusted.verifySignature(oldToken, header: oldHeader, issuer: Self.issuer)
        documents.publish(Self.url, try Self.keys([new]))
        let (newToken, newHeader) = try await Self.idJAG(new)
        try await trusted.verifySignature(newToken, header: newHeader, issuer: Self.issuer)
        await #expect(throws: TokenProblem.unknownKey) { try await trusted.verifySignature(oldToken, header: oldHeader, issuer: Self.issuer) }
    }

    /// A JWKS endpoint behind a cache, as `GuardedFetcher` serves it: `fetch`
    /// answers the copy taken at the first fetch until `fetchFresh` takes a new one.
    final class CachingJWKS: DocumentFetching {
        private let published = Locked<String>("")
        private let cached = Locked<String?>(nil)
        private let forced = Locked<Int>(0)
        var freshFetches: Int { forced.current }

        func publish(_ body: String) { published.withLock { $0 = body } }

        func fetch(_ url: String, clientAddress: String?) async throws(GuardedFetcher.FetchError) -> GuardedFetcher.Document {
            let body = cached.withLock { copy -> String in
                if copy == nil { copy = published.current }
                return copy ?? ""
            }
            return Self.document(url, body)
        }

        func fetchFresh(_ url: String) async throws(GuardedFetcher.FetchError) -> GuardedFetcher.Document {
            forced.withLock { $0 += 1 }
            let body = published.current
            cached.withLock { $0 = body }
            return Self.document(url, body)
        }

        static func document(_ url: String, _ body: String) -> GuardedFetcher.Document {
            let now = Date()
            return GuardedFetcher.Document(
                url: url, body: Data(body.utf8), address: NetworkAddress("93.184.216.34")!,
                fetchedAt: now, expiresAt: now.addingTimeInterval(300), fromCache: false)
        }
    }

    @Test(
        "an unknown kid fetches the issuer's keys again past the cache, at most once per 30 s: a key rotated before the cached copy expired verifies")
    func unknownKidRefetches() async throws {
        let jwks = CachingJWKS()
        let clock = TestClock()
        let old = try await SigningKeys.make(current: P256.Signing.PrivateKey())
        let new = try await SigningKeys.make(current: P256.Signing.PrivateKey())
        jwks.publish(try Self.keys([old]))
        let trusted = try TrustedIssuerKeys(
            issuers: [TrustedIssuer(issuer: Self.issuer, jwksURI: Self.url, algorithms: ["ES256"])],
            fetcher: jwks, clock: clock, refetchInterval: 30)
        let (oldToken, oldHeader) = try await Self.idJAG(old)
        try await trusted.verifySignature(oldToken, header: oldHeader, issuer: Self.issuer)
        #expect(jwks.freshFetches == 0)
        // The issuer rotates; the cache still holds the old set. Before, the new kid was unknown until the copy expired.
        jwks.publish(try Self.keys([new]))
        let (newToken, newHeader) = try await Self.idJAG(new)
        try await trusted.verifySignature(newToken, header: newHeader, issuer: Self.issuer)
        #expect(jwks.freshFetches == 1)
        // Made-up kids within the interval force nothing more.
        let stranger = try await SigningKeys.make(current: P256.Signing.PrivateKey())
        let (strangerToken, strangerHeader) = try await Self.idJAG(stranger)
        for _ in 0..<5 {
            await #expect(throws: TokenProblem.unknownKey) {
                try await trusted.verifySignature(strangerToken, header: strangerHeader, issuer: Self.issuer)
            }
        }
        #expect(jwks.freshFetches == 1)
        // Past the interval, one more.
        clock.advance(by: 30)
        await #expect(throws: TokenProblem.unknownKey) {
            try await trusted.verifySignature(strangerToken, header: strangerHeader, issuer: Self.issuer)
        }
        #expect(jwks.freshFetches == 2)
        try await trusted.verifySignature(newToken, header: newHeader, issuer: Self.issuer)
        #expect(jwks.freshFetches == 2)
    }

    @Test("no kid: only when exactly one key fits; a key that names another alg never fits")
    func keySelection() async throws {
        let a = try await SigningKeys.make(current: P256.Signing.PrivateKey())
        let b = try await SigningKeys.make(current: P256.Signing.PrivateKey())
        let (token, header) = try await Self.idJAG(a)
        var noKid = header
        noKid.kid = nil
        var onlyA = try JSONDecoder().decode(JSONValue.self, from: try JSONEncoder().encode(a.jwks.keys[0]))
        if case .object(var members) = onlyA {
            members["kid"] = nil
            onlyA = .object(members)
        }
        let single = #"{"keys":[\#(String(decoding: try JSONEncoder().encode(onlyA), as: UTF8.self))]}"#
        let one = try TrustedIssuerKeys(issuers: [TrustedIssuer(issuer: Self.issuer, jwks: single, algorithms: ["ES256"])], fetcher: nil)
        try await one.verifySignature(token, header: noKid, issuer: Self.issuer)
        let two = try TrustedIssuerKeys(
            issuers: [TrustedIssuer(issuer: Self.issuer, jwks: try Self.keys([a, b]), algorithms: ["ES256"])], fetcher: nil)
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
        let trusted = try TrustedIssuerKeys(
            issuers: [TrustedIssuer(issuer: Self.issuer, jwksURI: Self.url, algorithms: ["ES256"])], fetcher: documents)
        let (token, header) = try await Self.idJAG(try await SigningKeys.make(current: P256.Signing.PrivateKey()))
        await #expect(throws: TokenProblem.self) { try await trusted.verifySignature(token, header: header, issuer: Self.issuer) }
        documents.publish(Self.url, "not json")
        await #expect(throws: TokenProblem.self) { try await trusted.verifySignature(token, header: header, issuer: Self.issuer) }
    }
}
