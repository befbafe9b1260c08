extension UpstreamConfiguration {
    /// The name the consent page gives the identity provider the user is
    /// about to sign in with: `upstream.display_name`, else the preset's
    /// vendor, else the host of the IdP (its issuer, or its authorization
    /// endpoint when only endpoints are configured).
    public var identityProviderName: String {
        if let displayName, !displayName.isEmpty { return displayName }
        switch preset {
        case .entra: return "Microsoft Entra ID"
        case .okta: return "Okta"
        case .google: return "Google"
        case .github: return "GitHub"
        case .auth0: return "Auth0"
        case .keycloak, .oidc: break
        }
        for candidate in [issuer, authorizationEndpoint] {
            if let candidate, let uri = RedirectURI(candidate), !uri.host.isEmpty {
                return uri.host + (uri.port.map { ":\($0)" } ?? "")
            }
        }
        return "your organisation's identity provider"
    }
}
