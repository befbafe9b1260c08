import Foundation
public import Logging
public import ShimCore
import ShimUpstream
import Synchronization

/// Tokens for the APIs behind the MCP servers (`resources[i].downstream`),
/// obtained as the signed-in user: the user's current upstream access token
/// (`UpstreamRefresher.accessToken`, refreshed when near expiry) is the
/// assertion of Entra's on-behalf-of or of RFC 8693 token exchange.
///
/// Each token is cached in this process, sealed for its grant and API
/// (`UpstreamTokenVault.Binding.downstream`, rule 8), and obtained again
/// when it has less than `DownstreamTokenRules.renewalMargin` left or the
/// user's upstream token was renewed. Replicas each obtain their own. A
/// revoked grant gets none: the grant is read from the store on every
/// request (`UpstreamRefresher.accessToken` throws `invalid_grant`), and its
/// cached tokens are dropped then (rule 15).
public final class DownstreamTokenBroker: Sendable {
    let refresher: UpstreamRefresher
    let upstream: any UpstreamIdP
    let vault: UpstreamTokenVault
    let preset: UpstreamPreset
    let clock: any ShimClock
    private let cache = Mutex<[Key: Entry]>([:])

    struct Key: Hashable, Sendable {
        let grantID: String
        let api: String
    }

    struct Entry: Sendable {
        let sealed: String
        let expiresAt: Date
        /// SHA-256 of the upstream access token it was obtained with.
        let assertionHash: String
    }

    /// Entries kept before expired ones are swept (then all, if none expired).
    static let capacity = 10_000

    init(refresher: UpstreamRefresher, upstream: any UpstreamIdP, vault: UpstreamTokenVault, preset: UpstreamPreset, clock: any ShimClock) {
        self.refresher = refresher
        self.upstream = upstream
        self.vault = vault
        self.preset = preset
        self.clock = clock
    }

    /// The API's token for the grant's user. Throws `invalid_grant` for a
    /// revoked grant, `DownstreamRefusal` when the IdP refuses (or the grant
    /// has no upstream sign-in), an `OAuthError` when the IdP is unreachable.
    public func token(grantID: String, api: DownstreamAPI, logger: Logger) async throws -> String {
        let assertion: String
        do {
            guard let current = try await refresher.accessToken(grantID: grantID, logger: logger) else {
                throw DownstreamRefusal(
                    status: 403, providerCode: nil, message: "The API \(api.name) needs a user who signed in at the identity provider",
                    operatorHint: "the grant has no upstream access token (made from an identity assertion); downstream tokens need a sign-in")
            }
            assertion = current
        } catch let error as OAuthError where error.code == .invalidGrant {
            forget(grantID: grantID)
            throw error
        }
        guard let method = api.method(for: preset) else {
            throw OAuthError(.serverError, "no token exchange for this identity provider", detail: "downstream \(api.name): no method")
        }
        let key = Key(grantID: grantID, api: api.name)
        let assertionHash = SecretToken.hash(assertion)
        let now = clock.now()
        if let entry = cache.withLock({ $0[key] }),
            DownstreamTokenRules.isReusable(expiresAt: entry.expiresAt, obtainedWith: entry.assertionHash, currentAssertion: assertionHash, now: now)
        {
            return try vault.open(entry.sealed, for: .downstream(grantID: grantID, api: api.name))
        }
        let response = try await upstream.downstreamToken(api, method: method, assertion: assertion)
        if let lifetime = response.expiresIn.flatMap({ Clamp.tokenLifetime(Double($0)) }) {
            let entry = Entry(
                sealed: try vault.seal(response.accessToken, for: .downstream(grantID: grantID, api: api.name)),
                expiresAt: now.addingTimeInterval(TimeInterval(lifetime)), assertionHash: assertionHash)
            cache.withLock { cache in
                if cache.count >= Self.capacity {
                    cache = cache.filter { $0.value.expiresAt > now }
                    if cache.count >= Self.capacity { cache.removeAll() }
                }
                cache[key] = entry
            }
        }
        return response.accessToken
    }

    /// Drops every cached token of a grant.
    func forget(grantID: String) {
        cache.withLock { cache in cache = cache.filter { $0.key.grantID != grantID } }
    }

    /// How many tokens are cached (tests).
    var cachedCount: Int { cache.withLock { $0.count } }
}
