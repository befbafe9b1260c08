/// The operator's policy for Client ID Metadata Documents (`cimd.*`):
/// whether they are accepted at all, from which hosts, and which hosts
/// may bypass the public-address rule (tests, private deployments).
///
/// draft-ietf-oauth-client-id-metadata-document §"Client ID Domain Trust":
/// "An authorization server may also maintain allowlists of trusted domain
/// patterns … and apply reduced friction for clients matching such
/// patterns." Here the reduced friction is exactly one thing: a remembered
/// consent may skip the consent page (see `mayRememberConsent`).
public struct CIMDPolicy: Sendable, Equatable {
    public var enabled: Bool
    /// Empty: any host (that passes the address rule) may serve a document.
    public var allowedHosts: [HostPattern]
    public var blockedHosts: [HostPattern]
    /// Hosts whose document may be fetched even when they resolve to a
    /// loopback or private address (`cimd.insecure_private_hosts`).
    public var insecurePrivateHosts: [HostPattern]

    public init(
        enabled: Bool = true, allowedHosts: [HostPattern] = [], blockedHosts: [HostPattern] = [],
        insecurePrivateHosts: [HostPattern] = []
    ) {
        self.enabled = enabled
        self.allowedHosts = allowedHosts
        self.blockedHosts = blockedHosts
        self.insecurePrivateHosts = insecurePrivateHosts
    }

    /// Decides, before any network access, whether the document at `id` may
    /// be fetched. Blocked wins over allowed.
    public func check(_ id: CIMDClientID) throws(OAuthError) {
        guard enabled else {
            throw OAuthError(.invalidClient, "this server does not accept Client ID Metadata Documents; the application must register", status: 400)
        }
        if blockedHosts.contains(where: { $0.matches(id.host) }) {
            throw OAuthError(.invalidClient, "applications from \(id.host) are not allowed on this server", detail: "cimd.blocked_hosts", status: 400)
        }
        if !allowedHosts.isEmpty, !allowedHosts.contains(where: { $0.matches(id.host) }) {
            throw OAuthError(
                .invalidClient, "applications from \(id.host) are not allowed on this server", detail: "not in cimd.allowed_hosts", status: 400)
        }
        // A document URL names a port of the caller's choice: fetched from any
        // port, it would make the shim probe services on it (their answers,
        // refusals and timeouts differ). Port 443 only, unless the operator
        // named the host (cimd.allowed_hosts or cimd.insecure_private_hosts).
        if let port = id.port, port != 443, !allowedHosts.contains(where: { $0.matches(id.host) }),
            !insecurePrivateHosts.contains(where: { $0.matches(id.host) })
        {
            throw OAuthError(
                .invalidClient, "application metadata documents are fetched from port 443 only",
                detail: "port \(port) without cimd.allowed_hosts or cimd.insecure_private_hosts", status: 400)
        }
    }

    /// GHSA-6x8h-498w-gv8c (FastMCP): a CIMD client plus silently remembered
    /// consent made an authorization server in the middle, because anyone
    /// can publish a document naming any loopback redirect. A remembered
    /// consent skips the page only for a host the operator listed in
    /// `cimd.allowed_hosts`; with the list empty, never.
    public func mayRememberConsent(host: String) -> Bool {
        allowedHosts.contains { $0.matches(host) }
    }

    /// Whether `host` may resolve to a non-public address (operator relaxation).
    public func trustsPrivateAddresses(of host: String) -> Bool {
        insecurePrivateHosts.contains { $0.matches(host) }
    }
}

/// How long a fetched document may be reused (RFC 9111 §5.2.2 directives,
/// bounded): `max-age` within `[floor, ceiling]`; `no-store` and `no-cache` count as "as short as allowed",
/// the floor, so a hostile server cannot make the shim fetch on every
/// request; no usable directive gives `fallback` (also bounded).
public enum CacheLifetime {
    public static func seconds(cacheControl: String?, floor: Int, ceiling: Int, fallback: Int) -> Int {
        let clamp = { (value: Int) in min(max(value, floor), ceiling) }
        guard let cacheControl else { return clamp(fallback) }
        var maxAge: Int?
        for directive in cacheControl.split(separator: ",") {
            let parts = directive.split(separator: "=", maxSplits: 1)
            let name = parts.first.map { $0.trimmingWhitespace().lowercased() } ?? ""
            switch name {
            case "no-store", "no-cache":
                return floor
            case "max-age":
                guard parts.count == 2 else { continue }
                var value = parts[1].trimmingWhitespace()
                if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
                // RFC 9111 §1.2.2: a delta-seconds too large to represent means "very long".
                guard !value.isEmpty, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { continue }
                let seconds = value.utf8.count > 10 ? Int.max : Int(value) ?? Int.max
                maxAge = min(maxAge ?? Int.max, seconds)
            default:
                continue
            }
        }
        return clamp(maxAge ?? fallback)
    }
}
