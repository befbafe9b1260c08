import Foundation
import JWTKit
import ShimCore

extension IDTokenVerifier {
    /// The IdP's keys usable for signatures, fetched at `fetchedAt`.
    struct KeySet: Sendable {
        var keys: [JWK]
        var fetchedAt: Date

        /// Keys that are for signatures (`use` absent or `sig`) and of a type
        /// jwt-kit knows; the rest (encryption keys, unknown `kty`) is dropped
        /// one by one, so one odd key does not make the whole set unusable.
        static func parse(_ data: Data, at time: Date) throws(Failure) -> KeySet {
            guard let keys = SigningKeySet.parse(data) else { throw .keysUnavailable("not a JWK set") }
            guard !keys.isEmpty else { throw .keysUnavailable("no signing key") }
            return KeySet(keys: keys, fetchedAt: time)
        }
    }

    /// Step 2: the key for this header, fetching the set when there is none
    /// yet, when it is older than `maxKeyAge`, or when the `kid` is unknown
    /// and the last fetch is older than `refetchInterval`.
    func key(for header: TokenHeader) async throws(Failure) -> JWK {
        let now = clock.now()
        var set = try await currentKeys(refreshIfOlderThan: maxKeyAge, now: now)
        if let found = try pick(header, in: set) { return found }
        if now.timeIntervalSince(set.fetchedAt) >= refetchInterval {
            set = try await currentKeys(refreshIfOlderThan: 0, now: now)
            if let found = try pick(header, in: set) { return found }
        }
        throw header.kid.map(Failure.unknownKey) ?? .noKey
    }

    /// `SigningKeySet.choose`: the fitting key with the header's `kid`, or
    /// without a `kid` the only fitting key.
    func pick(_ header: TokenHeader, in set: KeySet) throws(Failure) -> JWK? {
        switch SigningKeySet.choose(alg: header.alg, kid: header.kid, in: set.keys) {
        case .key(let key): return key
        case .missing: return nil
        case .ambiguous: throw .noKey
        }
    }

    /// The cached set, or a fresh one; concurrent callers share one fetch.
    func currentKeys(refreshIfOlderThan age: TimeInterval, now: Date) async throws(Failure) -> KeySet {
        if let keys, now.timeIntervalSince(keys.fetchedAt) < age || (age == 0 && now.timeIntervalSince(keys.fetchedAt) < refetchInterval) {
            return keys
        }
        let task = fetching ?? Task { [fetchKeys, clock] in try KeySet.parse(try await fetchKeys(), at: clock.now()) }
        fetching = task
        defer { fetching = nil }
        do {
            let fresh = try await task.value
            keys = fresh
            return fresh
        } catch let failure as Failure {
            if let keys { return keys }  // keep serving the last good set
            throw failure
        } catch {
            if let keys { return keys }
            throw .keysUnavailable("\(error)")
        }
    }
}

/// The JOSE header fields that choose the key (RFC 7515 §4.1), once `alg` is allowed.
struct TokenHeader: Sendable {
    var alg: String
    var kid: String?
}

/// The ID token claims read (OIDC Core §2). Numbers and the audience are
/// read leniently and checked by `IDTokenVerifier.check`, not here.
struct IDTokenPayload: JWTPayload {
    var iss: String?
    var sub: String?
    var aud: [String]
    var exp: Double?
    var iat: Double?
    var nonce: String?
    var azp: String?
    var tid: String?

    enum CodingKeys: String, CodingKey { case iss, sub, aud, exp, iat, nonce, azp, tid }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        iss = try? c.decodeIfPresent(String.self, forKey: .iss)
        sub = try? c.decodeIfPresent(String.self, forKey: .sub)
        // OIDC Core §2: "aud ... MAY be a single case-sensitive string".
        aud =
            (try? c.decodeIfPresent([String].self, forKey: .aud)) ?? (try? c.decodeIfPresent(String.self, forKey: .aud)).flatMap { $0.map { [$0] } }
            ?? []
        exp = (try? c.decodeIfPresent(Double.self, forKey: .exp)).flatMap { $0 }.flatMap { $0.isFinite ? $0 : nil }
        iat = (try? c.decodeIfPresent(Double.self, forKey: .iat)).flatMap { $0 }.flatMap { $0.isFinite ? $0 : nil }
        nonce = try? c.decodeIfPresent(String.self, forKey: .nonce)
        azp = try? c.decodeIfPresent(String.self, forKey: .azp)
        tid = try? c.decodeIfPresent(String.self, forKey: .tid)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(iss, forKey: .iss)
        try c.encodeIfPresent(sub, forKey: .sub)
        try c.encode(aud, forKey: .aud)
        try c.encodeIfPresent(exp, forKey: .exp)
        try c.encodeIfPresent(iat, forKey: .iat)
        try c.encodeIfPresent(nonce, forKey: .nonce)
    }

    /// Time and audience are checked by the verifier with its own clock.
    func verify(using algorithm: some JWTAlgorithm) throws {}
}
