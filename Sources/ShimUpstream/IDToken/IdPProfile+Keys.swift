import ShimCore

/// Where an IdP's ID-token keys are, and what issuer its ID tokens carry,
/// when discovery does not say (the preset's fixed endpoints).
extension IdPProfile {
    /// Entra's keys, https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys,
    /// when the endpoints are Microsoft's own (not overridden to elsewhere).
    func defaultJWKS(_ config: UpstreamConfiguration) -> String? {
        guard usesMicrosoftEndpoints(config) else { return nil }
        return "https://login.microsoftonline.com/\(config.tenant ?? "common")/discovery/v2.0/keys"
    }

    func usesMicrosoftEndpoints(_ config: UpstreamConfiguration) -> Bool {
        preset == .entra && config.authorizationEndpoint == nil && config.tokenEndpoint == nil
    }

    /// Entra v2 ID tokens carry `https://login.microsoftonline.com/<tenant GUID>/v2.0`:
    /// exact for a tenant configured by GUID; otherwise (a domain, `common`,
    /// `organizations`) the `{tenantid}` form, matched with the token's own
    /// `tid` (the `aud` check still requires this shim's client id). Other
    /// presets: the configured issuer.
    func idTokenIssuer(_ config: UpstreamConfiguration) -> String? {
        guard usesMicrosoftEndpoints(config) else { return config.issuer }
        let tenant = config.tenant ?? "common"
        let isGUID =
            tenant.utf8.count == 36
            && tenant.utf8.allSatisfy { $0 == UInt8(ascii: "-") || ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x66 || $0 >= 0x30 && $0 <= 0x39 }
        return "https://login.microsoftonline.com/\(isGUID ? tenant.lowercased() : "{tenantid}")/v2.0"
    }
}
