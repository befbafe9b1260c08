import Foundation
import ShimCore
import ShimStorage
import ShimTokens
import ShimUpstream

extension ShimServices {
    /// The token endpoint's grants, each with only what it needs: the code
    /// and refresh grants always; jwt-bearer when the shim accepts ID-JAGs
    /// (leg 2), token exchange when it issues them (leg 1).
    static func grantHandlers(
        config: ShimConfiguration, store: any ShimStore, refresher: UpstreamRefresher, vault: UpstreamTokenVault,
        auditor: Auditor, clock: any ShimClock, resourcePolicy: ResourcePolicy, signingKeys: SigningKeys?,
        trustedIssuerKeys: TrustedIssuerKeys?, subjectTokens: (any SubjectTokenVerifying)?
    ) -> [any GrantHandler] {
        let responder = TokenResponder(
            mode: config.accessTokenMode, issuer: config.issuerBase,
            accessTTLSeconds: config.issuedTokens.accessTTLSeconds, signingKeys: signingKeys, vault: vault,
            auditor: auditor, clock: clock, upstreamIssuer: config.upstream.subjectIssuer,
            severalSubjectIssuers: config.ema.severalSubjectIssuers)
        var handlers: [any GrantHandler] = [
            AuthorizationCodeGrant(
                store: store, refresher: refresher, responder: responder, auditor: auditor, clock: clock,
                refreshTTLSeconds: config.refreshTTLSeconds, recordsEveryGrant: config.accessTokenMode == .issued),
            RefreshTokenGrant(
                store: store, refresher: refresher, vault: vault, responder: responder, auditor: auditor, clock: clock,
                resourcePolicy: resourcePolicy, graceSeconds: config.refreshGraceSeconds),
        ]
        if config.ema.acceptsAssertions {
            let assertions = EMAAssertions(
                issuer: config.issuerBase, ownKeys: config.ema.issuer.enabled ? signingKeys : nil,
                trustedIssuerKeys: trustedIssuerKeys)
            handlers.append(
                JWTBearerGrant(
                    store: store, assertions: assertions, responder: responder, auditor: auditor, clock: clock,
                    audience: config.issuerBase, upstreamIssuer: config.upstream.subjectIssuer, resourcePolicy: resourcePolicy,
                    maxAssertionLifetimeSeconds: config.ema.maxAssertionLifetimeSeconds,
                    accessTTLSeconds: config.issuedTokens.accessTTLSeconds))
        }
        if config.ema.issuer.enabled, let signingKeys {
            handlers.append(
                TokenExchangeGrant(
                    subjectTokens: subjectTokens, signingKeys: signingKeys, auditor: auditor, clock: clock,
                    issuer: config.issuerBase, settings: config.ema.issuer, policy: config.ema.policy,
                    emailTrust: config.upstream.emailTrust))
        }
        return handlers
    }
}
