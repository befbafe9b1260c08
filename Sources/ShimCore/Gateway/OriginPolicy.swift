/// The Streamable HTTP transport's DNS-rebinding defence (MCP 2026-07-28,
/// Streamable HTTP, "Security & Endpoint" 1): "Servers MUST validate the
/// Origin header on all incoming connections ... If the Origin header is
/// present and invalid, servers MUST respond with HTTP 403 Forbidden."
public enum OriginPolicy {
    /// A request without `Origin` is not a browser's cross-origin request
    /// and is allowed (MCP clients outside browsers send none). A present
    /// `Origin` must be one of `allowed` (already normalised); `null`
    /// (opaque origins: sandboxed frames, file URLs) only when listed as such.
    public static func allows(_ origin: String?, allowed: Set<String>) -> Bool {
        guard let origin else { return true }
        guard let normalised = normalise(origin) else { return false }
        return allowed.contains(normalised)
    }

    /// RFC 6454 §6.2 ASCII serialisation: `scheme://host[:port]`, scheme and
    /// host lower-case, the default port (80 for http, 443 for https)
    /// omitted, no path. `null` stays `null`; anything else is nil.
    public static func normalise(_ value: String) -> String? {
        if value == "null" { return value }
        guard let uri = RedirectURI(value), ["http", "https"].contains(uri.scheme), !uri.hasUserinfo, uri.query == nil,
            !uri.hasFragment, uri.path.isEmpty || uri.path == "/"
        else { return nil }
        let scheme = uri.scheme.lowercased()
        var port = uri.port
        if (scheme == "http" && port == 80) || (scheme == "https" && port == 443) { port = nil }
        return "\(scheme)://\(uri.host.lowercased())" + (port.map { ":\($0)" } ?? "")
    }

    /// The origin of an absolute URL (for the defaults: the resource's own
    /// origin and the issuer's).
    public static func origin(of url: String) -> String? {
        guard let uri = RedirectURI(url) else { return nil }
        return normalise("\(uri.scheme)://\(uri.host)" + (uri.port.map { ":\($0)" } ?? ""))
    }
}
