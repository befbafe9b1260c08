/// The grant types the token endpoint knows (RFC 6749 §4.1.3, §6; RFC 7523
/// §2.1; RFC 8693 §2.1). Clients register and present them as these
/// strings; the server compares them as this type.
public enum GrantType: String, CaseIterable, Sendable, Codable {
    case authorizationCode = "authorization_code"
    case refreshToken = "refresh_token"
    /// RFC 7523 §2.1: an ID-JAG presented by the client (Enterprise-Managed Authorization, leg 2).
    case jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    /// RFC 8693 §2.1: an upstream ID token exchanged for an ID-JAG (leg 1).
    case tokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
}

extension RegisteredClient {
    /// Whether the client registered `grant` (RFC 7591 §2 `grant_types`).
    public func mayUse(_ grant: GrantType) -> Bool { grantTypes.contains(grant.rawValue) }
}
