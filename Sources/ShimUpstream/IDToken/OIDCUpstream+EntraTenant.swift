import AsyncHTTPClient
import Foundation
import Logging
import ShimCore

extension OIDCUpstream {
    /// Entra with `upstream.tenant` given as a domain (`contoso.onmicrosoft.com`):
    /// the issuer its ID tokens carry, with the tenant's GUID, read from the
    /// domain's discovery document
    /// (https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc:
    /// `https://login.microsoftonline.com/<domain>/v2.0/.well-known/openid-configuration`
    /// answers `"issuer": "https://login.microsoftonline.com/<GUID>/v2.0"`).
    /// The verifier then expects that `iss` exactly; without it the expected
    /// issuer would be the `{tenantid}` template, filled from each token's own
    /// `tid`, and ID tokens of any tenant that can sign in to a multi-tenant
    /// application would pass (threat I11 in docs/threat-model.md).
    ///
    /// Nil for any other tenant (a GUID is exact already; `common`,
    /// `organizations`, `consumers` serve several tenants by design and
    /// `ema.policy[i].tenants` names the ones leg 1 admits). A failure is
    /// thrown, never skipped: the verifier is made on a later call.
    func pinnedEntraIssuer() async throws(OAuthError) -> String? {
        guard profile.preset == .entra, case .domain(let domain) = EntraTenant(config.tenant),
            let base = profile.discoveryIssuer(config), let url = UpstreamEndpoints.discoveryURLs(issuer: base).first
        else { return nil }
        func unusable(_ why: String) -> OAuthError {
            logger.warning("upstream tenant not resolved", metadata: ["tenant": "\(domain)", "problem": "\(why)"])
            return OAuthError(
                .temporarilyUnavailable, "the identity provider's metadata is unusable; try again later",
                detail: "tenant \(domain): \(why)")
        }
        let status: Int
        let body: Data
        do { (status, body, _) = try await send(HTTPClientRequest(url: url), operation: "tenant discovery") } catch {
            throw unusable("\(url): \(error)")
        }
        guard status == 200 else { throw unusable("\(url) answered \(status)") }
        guard let published = (try? JSONDecoder().decode(DiscoveryDocument.self, from: body))?.issuer else {
            throw unusable("\(url) names no issuer")
        }
        guard Self.isPinnedEntraIssuer(published, discoveredAt: base) else {
            throw unusable("\(url) names issuer \(LogSafe.text(published, limit: 200)), not <host>/<tenant GUID>/v2.0")
        }
        logger.info("upstream tenant resolved", metadata: ["tenant": "\(domain)", "issuer": "\(published)"])
        return published
    }

    /// The published issuer is `<same origin>/<GUID>/v2.0` as the discovery
    /// base it was read from (https, or http on loopback for a test IdP).
    static func isPinnedEntraIssuer(_ published: String, discoveredAt base: String) -> Bool {
        guard EntraTenant.tenantID(ofIssuer: published) != nil, let a = RedirectURI(published), let b = RedirectURI(base) else { return false }
        return a.scheme == b.scheme && a.host.lowercased() == b.host.lowercased() && a.port == b.port
            && (a.scheme == "https" || (a.scheme == "http" && a.isLoopback))
    }
}
