/// One answer of `dcr-shim init`, checked by the rule the configuration
/// applies to the key it is written to (`ShimConfiguration.validate`), so a
/// prompt refuses at once what `check-config` would refuse later. Each
/// returns nil, or one problem that names the key.
public enum SetupFieldCheck {
    /// `issuer`: https, or http on loopback; no query or fragment (RFC 8414 §2).
    public static func issuer(_ text: String) -> String? {
        ShimConfiguration.checkIssuer(text).first
    }

    /// `upstream.issuer` and the IdP's endpoints: https, or http on loopback.
    public static func upstreamURL(_ text: String, key: String) -> String? {
        if text.isEmpty { return "\(key): required" }
        return UpstreamConfiguration.checkURL(text, key: key)
    }

    /// `resources[i].resource`: an absolute http(s) URI without a fragment (RFC 8707 §2).
    public static func resource(_ text: String, key: String) -> String? {
        ShimConfiguration.checkResource(text, key: key)
    }

    /// `resources[i].upstream` (`resourceKey` is `resources[i]`): where the
    /// gateway forwards to; https, or http to loopback (init never writes
    /// `insecure_http_upstream`).
    public static func gatewayUpstream(_ text: String, resourceKey: String) -> String? {
        ShimConfiguration.checkGatewayUpstream(GatewayResource(resource: "", upstream: text), key: resourceKey).first
    }

    /// `upstream.tenant` for Entra: a Directory (tenant) ID, `common`,
    /// `organizations`, `consumers`, or a verified domain
    /// (https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc#find-your-apps-openid-configuration-document-uri).
    /// The configuration only requires it to be present; init also refuses a
    /// text that is none of these shapes (a typo would otherwise surface as
    /// AADSTS90002 at the first sign-in).
    public static func entraTenant(_ text: String) -> String? {
        if text.isEmpty { return "upstream.tenant: required for the entra preset (tenant id or domain)" }
        if EntraTenant.isGUID(text) || EntraTenant.multiTenantNames.contains(text.lowercased()) { return nil }
        let labels = text.lowercased().split(separator: ".", omittingEmptySubsequences: false)
        let isDomain =
            labels.count >= 2
            && labels.allSatisfy { label in
                !label.isEmpty && label.utf8.count <= 63 && label.first != "-" && label.last != "-"
                    && label.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") }
            }
        if isDomain { return nil }
        return
            "upstream.tenant: \(text.quotedForProblem) is neither a tenant id (8-4-4-4-12 hex digits), a domain (contoso.onmicrosoft.com) nor common, organizations or consumers"
    }

    /// `upstream.client_id`: required.
    public static func clientID(_ text: String) -> String? {
        text.isEmpty ? "upstream.client_id: required (the client pre-registered at the IdP)" : nil
    }

    /// `redirects.clients`: names of known bundles.
    public static func redirectBundles(_ names: [String]) -> String? {
        if names.isEmpty { return "redirects.clients: name at least one of \(RedirectAllowlist.bundles.keys.sorted().joined(separator: ", "))" }
        for name in names where RedirectAllowlist.bundles[name] == nil {
            return "redirects.clients: \(name.quotedForProblem) is not one of \(RedirectAllowlist.bundles.keys.sorted().joined(separator: ", "))"
        }
        return nil
    }
}
