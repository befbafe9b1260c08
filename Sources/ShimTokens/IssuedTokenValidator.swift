public import Foundation
public import ShimCore
public import ShimStorage

/// Validates the shim's own access tokens (RFC 9068 §4), for the gateway and
/// for /introspect: header rules, the ES256 signature against the shim's
/// keys, the claim rules, then the grant the token came from (`sid`) must
/// still be live in the store, so a revocation (RFC 7009, `grants revoke`,
/// `clients revoke`, refresh-token reuse, a replayed code) ends the token
/// at once, on every replica sharing the store.
public struct IssuedTokenValidator: Sendable {
    public let keys: SigningKeys
    public let issuer: String
    let store: any GrantStore

    public init(keys: SigningKeys, issuer: String, store: any GrantStore) {
        self.keys = keys
        self.issuer = issuer
        self.store = store
    }

    /// The token's claims, or the rule it breaks.
    /// - Parameters: `resource`: the audience required (the gateway's
    ///   resource); nil with `allowedAudiences` for introspection.
    public func validate(_ token: String, resource: String?, allowedAudiences: Set<String>? = nil,
                         now: Date) async throws -> AccessTokenClaims {
        let claims = try await verify(token, resource: resource, allowedAudiences: allowedAudiences, now: now)
        try await checkGrant(claims)
        return claims
    }

    /// Signature and claims only (no store read).
    public func verify(_ token: String, resource: String?, allowedAudiences: Set<String>? = nil,
                       now: Date) async throws(TokenProblem) -> AccessTokenClaims {
        let jws = try CompactJWS.parse(token)
        try AccessTokenRules.checkHeader(jws.header, keyIDs: keys.keyIDs)
        guard await keys.verifySignature(token) else { throw .badSignature }
        let claims: AccessTokenClaims
        do { claims = try JSONDecoder().decode(AccessTokenClaims.self, from: jws.payload) } catch {
            throw .malformed("the claims are not an RFC 9068 claim set")
        }
        try AccessTokenRules.checkClaims(claims, issuer: issuer, resource: resource, allowedAudiences: allowedAudiences,
                                         now: Int(now.timeIntervalSince1970))
        return claims
    }

    /// The grant named by `sid` exists, belongs to the token's client and is
    /// not revoked. A missing grant is a revoked one: in `issued` mode every
    /// token's grant is created before the token is returned, and revoking
    /// an id not yet created leaves a tombstone (GrantStore.revokeGrant).
    /// Store errors propagate (the caller answers 503, never "active").
    public func checkGrant(_ claims: AccessTokenClaims) async throws {
        guard let grantID = claims.grantID else { return }
        guard let grant = try await store.grant(id: grantID), grant.revokedAt == nil, grant.clientID == claims.clientID else {
            throw TokenProblem.revoked
        }
    }
}
