/// What `upstream.tenant` names for the Entra preset
/// (https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc#find-your-apps-openid-configuration-document-uri):
/// one tenant by its Directory (tenant) ID, one tenant by a verified domain,
/// or one of the multi-tenant endpoints, whose ID tokens come from whatever
/// tenant the user belongs to.
public enum EntraTenant: Sendable, Equatable {
    /// A tenant GUID (lowercased): ID tokens carry
    /// `https://login.microsoftonline.com/<it>/v2.0` as `iss`.
    case id(String)
    /// A verified domain (`contoso.onmicrosoft.com`): one tenant, whose GUID
    /// the domain's discovery document names in its `issuer`. Until it is
    /// resolved, `iss` would only be known as the `{tenantid}` template,
    /// which a token of any tenant fills with its own `tid`.
    case domain(String)
    /// `common`, `organizations` or `consumers`: users of any tenant that can
    /// sign in to the application.
    case multiTenant(String)

    public static let multiTenantNames: Set<String> = ["common", "organizations", "consumers"]

    /// `upstream.tenant` as configured (`common` when absent, as the preset's endpoints use).
    public init(_ tenant: String?) {
        let value = tenant ?? "common"
        if Self.isGUID(value) {
            self = .id(value.lowercased())
        } else if Self.multiTenantNames.contains(value.lowercased()) {
            self = .multiTenant(value.lowercased())
        } else {
            self = .domain(value)
        }
    }

    /// Whether ID tokens of more than one tenant can arrive: leg 1 must then
    /// be told which tenants it serves (`ema.policy[i].tenants`).
    public var servesSeveralTenants: Bool {
        if case .multiTenant = self { return true }
        return false
    }

    /// 8-4-4-4-12 hexadecimal digits.
    public static func isGUID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (i, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(i) {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                let lower = byte | 0x20
                guard (byte >= 0x30 && byte <= 0x39) || (lower >= 0x61 && lower <= 0x66) else { return false }
            }
        }
        return true
    }

    /// The tenant GUID of an Entra v2 issuer, `<scheme>://<host>/<GUID>/v2.0`
    /// (what a domain's discovery document publishes), or nil for any other
    /// shape (`{tenantid}`, a domain, extra path segments).
    public static func tenantID(ofIssuer issuer: String) -> String? {
        guard let uri = RedirectURI(issuer), uri.query == nil, !uri.hasFragment, !uri.hasUserinfo else { return nil }
        let segments = uri.path.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count == 3, segments[0].isEmpty, segments[2] == "v2.0", isGUID(String(segments[1])) else { return nil }
        return segments[1].lowercased()
    }
}
