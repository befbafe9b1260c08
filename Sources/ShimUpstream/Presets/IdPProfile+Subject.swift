public import Logging
public import ShimCore

extension IdPProfile {
    /// The user's identifier from verified ID-token claims, the same for the
    /// sign-in (code flow) and for ID-JAG leg 1.
    ///
    /// Entra: `sub` is pairwise — "unique to a particular application ID"
    /// (https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference),
    /// so the same user has one `sub` in the shim's sign-in and another in the
    /// ID token an MCP client application presents at leg 1. `oid` is the
    /// user's object id, the same across applications within a tenant, and
    /// `tid` the tenant: the subject is `<tid>/<oid>` (both GUIDs, lowercased),
    /// unique across tenants. Entra puts `oid` in ID tokens only when the
    /// `profile` scope was asked for (`authorizeScope` adds it); without `oid`
    /// or `tid` this is nil, and `userSubject(from:logger:)` decides.
    ///
    /// Other presets: `sub` (OIDC Core §2: "locally unique and never reassigned
    /// identifier within the Issuer").
    public func subject(from claims: [String: JSONValue]) -> String? {
        switch preset {
        case .entra:
            guard let tid = claims["tid"]?.stringValue, let oid = claims["oid"]?.stringValue,
                EntraTenant.isGUID(tid), EntraTenant.isGUID(oid)
            else { return nil }
            return tid.lowercased() + "/" + oid.lowercased()
        default:
            guard let sub = claims["sub"]?.stringValue, !sub.isEmpty else { return nil }
            return sub
        }
    }

    /// `subject(from:)`, or, when it finds none (an Entra ID token without
    /// `oid`, asked for without the `profile` scope), the token's `sub` with
    /// a warning. The fallback is safe: Entra's pairwise `sub` never
    /// contains `/`, so it never equals a `<tid>/<oid>` subject, and a
    /// policy naming users by `<tid>/<oid>` does not match it (denied, not
    /// confused); it is only less usable, the same user having another
    /// subject than at sign-in.
    public func userSubject(from claims: [String: JSONValue], logger: Logger) -> String? {
        if let subject = subject(from: claims) { return subject }
        guard let sub = claims["sub"]?.stringValue, !sub.isEmpty else { return nil }
        logger.warning(
            "ID token without oid or tid: the subject is Entra's per-application sub; ask for the profile scope",
            metadata: ["preset": "\(preset.rawValue)"])
        return sub
    }
}

extension IdPProfile {
    /// The scope asked for at the IdP's authorize endpoint. Entra: `profile`
    /// is added next to `openid`, because Entra puts `oid` in ID tokens only
    /// with it ("the profile scope is required to receive this claim",
    /// https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference),
    /// and the subject is `<tid>/<oid>` (`subject(from:)`), whatever
    /// `upstream.scopes` lists.
    public func authorizeScope(_ scope: ScopeSet) -> ScopeSet {
        guard preset == .entra, scope.values.contains("openid"), !scope.values.contains("profile") else { return scope }
        return ScopeSet(values: scope.values + ["profile"])
    }
}
