public import Foundation
public import ShimCore
public import ShimStorage
import Synchronization

/// Validates the shim's own access tokens (RFC 9068 §4), for the gateway and
/// for /introspect: header rules, the ES256 signature against the shim's
/// keys, the claim rules, then the grant the token came from (`sid`) must
/// still be live, so a revocation (RFC 7009, `grants revoke`,
/// `clients revoke`, refresh-token reuse, a replayed code) ends the token,
/// on every replica sharing the store. The server passes a `GrantLiveness`
/// as `store` (answers from memory; the bound within which a revocation
/// made elsewhere is seen is in docs/tokens-and-gateway.md); tests may pass
/// the store itself.
public struct IssuedTokenValidator: Sendable {
    public let keys: SigningKeys
    public let issuer: String
    let store: any GrantStatusStore
    /// Tokens whose header and signature already verified (see `VerifiedTokenCache`).
    let verified = VerifiedTokenCache()

    public init(keys: SigningKeys, issuer: String, store: any GrantStatusStore) {
        self.keys = keys
        self.issuer = issuer
        self.store = store
    }

    /// The token's claims, or the rule it breaks.
    /// - Parameters: `resource`: the audience required (the gateway's
    ///   resource); nil with `allowedAudiences` for introspection.
    public func validate(
        _ token: String, resource: String?, allowedAudiences: Set<String>? = nil,
        now: Date
    ) async throws -> AccessTokenClaims {
        let claims = try await verify(token, resource: resource, allowedAudiences: allowedAudiences, now: now)
        try await checkGrant(claims)
        return claims
    }

    /// Signature and claims only (no store read). The header and signature
    /// checks and the claims' decoding are done once per token and cached;
    /// the claim rules (expiry, audience) run on every call.
    public func verify(
        _ token: String, resource: String?, allowedAudiences: Set<String>? = nil,
        now: Date
    ) async throws(TokenProblem) -> AccessTokenClaims {
        let claims: AccessTokenClaims
        if let cached = verified[token] {
            claims = cached
        } else {
            let jws = try CompactJWS.parse(token)
            try AccessTokenRules.checkHeader(jws.header, keyIDs: keys.keyIDs)
            guard await keys.verifySignature(token) else { throw .badSignature }
            do { claims = try JSONDecoder().decode(AccessTokenClaims.self, from: jws.payload) } catch {
                throw .malformed("the claims are not an RFC 9068 claim set")
            }
            verified.insert(token, claims)
        }
        try AccessTokenRules.checkClaims(
            claims, issuer: issuer, resource: resource, allowedAudiences: allowedAudiences,
            now: Int(now.timeIntervalSince1970))
        return claims
    }

    /// The grant named by `sid` exists, belongs to the token's client and is
    /// not revoked. A missing grant is a revoked one: in `issued` mode every
    /// token's grant is created before the token is returned, and revoking
    /// an id not yet created leaves a tombstone (GrantStore.revokeGrant).
    /// A token without `sid` is refused the same way: every token the shim
    /// issues names its grant (the code, refresh and jwt-bearer grants all
    /// create one first), so one without names nothing that could be revoked
    /// and must not outlive every revocation (fail closed).
    /// Store errors propagate (the caller answers 503, never "active").
    public func checkGrant(_ claims: AccessTokenClaims) async throws {
        guard let grantID = claims.grantID else { throw TokenProblem.revoked }
        guard let status = try await store.grantStatus(id: grantID), !status.revoked, status.clientID == claims.clientID else {
            throw TokenProblem.revoked
        }
    }
}

/// Issued tokens whose header and ES256 signature verified, with their
/// decoded claims, so a token used for many requests is verified once.
/// Safe because a signature check is a pure function of the token and the
/// process's keys, which never change while it runs (a rotation is a
/// restart); everything that depends on time or state (expiry, audience,
/// the grant's revocation) is checked on every use. Bounded: past
/// `capacity` entries an arbitrary one is dropped.
final class VerifiedTokenCache: Sendable {
    private let entries = Mutex<[String: AccessTokenClaims]>([:])
    let capacity: Int

    init(capacity: Int = 4096) { self.capacity = capacity }

    subscript(token: String) -> AccessTokenClaims? { entries.withLock { $0[token] } }

    func insert(_ token: String, _ claims: AccessTokenClaims) {
        entries.withLock { entries in
            if entries.count >= capacity, let victim = entries.keys.first { entries[victim] = nil }
            entries[token] = claims
        }
    }
}
