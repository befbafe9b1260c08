/// RFC 9728 §2 protected-resource metadata for a resource the gateway
/// fronts, and where it is published (§3.1).
public struct ProtectedResourceMetadata: Codable, Sendable, Equatable {
    /// §2: "The protected resource's resource identifier".
    public var resource: String
    /// §2: the authorization servers that issue tokens for it: the shim.
    public var authorizationServers: [String]
    /// §2: scopes a client may request for it (never `offline_access`:
    /// MCP authorization "Refresh Tokens", SEP-2207).
    public var scopesSupported: [String]
    /// §2: how the token is presented: only in the Authorization header
    /// (MCP authorization "Token Requirements").
    public var bearerMethodsSupported: [String]
    public var resourceName: String?

    enum CodingKeys: String, CodingKey {
        case resource
        case authorizationServers = "authorization_servers"
        case scopesSupported = "scopes_supported"
        case bearerMethodsSupported = "bearer_methods_supported"
        case resourceName = "resource_name"
    }

    public init(resource: String, issuer: String, scopes: [String], name: String? = nil) {
        self.resource = resource
        authorizationServers = [issuer]
        scopesSupported = scopes.filter { $0 != "offline_access" }
        bearerMethodsSupported = ["header"]
        resourceName = name
    }

    /// §3.1: "inserting /.well-known/oauth-protected-resource between the
    /// host component and the path component". Built from the configured
    /// resource only, never from request headers.
    public static func url(for resource: String) -> String? {
        guard let uri = RedirectURI(resource) else { return nil }
        let origin = "\(uri.scheme)://\(uri.host)" + (uri.port.map { ":\($0)" } ?? "")
        return origin + path(for: resource)!
    }

    /// The path of that URL on the shim.
    public static func path(for resource: String) -> String? {
        guard let uri = RedirectURI(resource) else { return nil }
        let path = uri.path == "/" ? "" : uri.path
        return "/.well-known/oauth-protected-resource" + path
    }
}
