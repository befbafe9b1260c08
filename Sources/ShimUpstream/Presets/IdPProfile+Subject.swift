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
    /// `profile` scope was asked for; without `oid` or `tid` this is nil and
    /// the caller must refuse rather than fall back to `sub` (two spellings
    /// of one user would never match).
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
}
