/// A Client Identifier URL (draft-ietf-oauth-client-id-metadata-document §3,
/// MCP 2025-11-25 / 2026-07-28 "Client ID Metadata Documents"): a `client_id`
/// that is an https URL with a path names a document the shim fetches.
///
/// The shim's own client ids are 22 base64url characters and never start
/// with `https://` (§"Supporting Both Pre-Registered and Unregistered
/// Clients"), so `isCandidate` tells the two kinds apart without a lookup.
public struct CIMDClientID: Sendable, Equatable {
    /// The URL exactly as the client sent it: the client's identity,
    /// compared byte for byte (§3: "simple string comparison"; no
    /// normalisation, so `https://a.example:443/c` and `https://a.example/c`
    /// are two clients).
    public let url: String
    /// The host, lowercased (DNS names are case-insensitive), without brackets.
    public let host: String
    public let port: Int?

    /// At most this long; a longer `client_id` is refused before anything else.
    public static let maxLength = 512

    /// True when `clientID` is meant as a Client Identifier URL (it starts
    /// with `https://`); it may still fail `init(validating:)`.
    public static func isCandidate(_ clientID: String) -> Bool {
        clientID.utf8.starts(with: "https://".utf8)
    }

    /// §3: https; no userinfo; a path, not only `/` (MCP: "MUST … contain a
    /// path component"; a root path would make the site's home page the
    /// document); no single- or double-dot segments; no fragment. A query is
    /// allowed (§3 says SHOULD NOT, for the client). The host must be a DNS
    /// name or an IP literal the redirect rules also accept.
    public init(validating raw: String) throws(OAuthError) {
        func refuse(_ why: String) -> OAuthError {
            OAuthError(.invalidClient, "the client_id URL is not a valid Client ID Metadata Document URL: \(why)", status: 400)
        }
        guard raw.utf8.count <= Self.maxLength else { throw refuse("longer than \(Self.maxLength) characters") }
        guard let uri = RedirectURI(raw), uri.scheme == "https", raw.hasPrefix("https://") else {
            throw refuse("it must be an absolute https URL of printable ASCII")
        }
        guard !uri.hasUserinfo else { throw refuse("it must not contain userinfo") }
        guard !uri.hasFragment else { throw refuse("it must not contain a fragment") }
        guard !uri.path.isEmpty, uri.path != "/" else { throw refuse("it must have a path, such as /client.json") }
        guard !RedirectPolicy.hasDotSegment(uri.path) else { throw refuse("it must not contain . or .. path segments") }
        guard RedirectPolicy.isValidHost(uri.host), !uri.host.hasSuffix(".") else { throw refuse("its host is not valid") }
        url = raw
        var host = uri.host.lowercased()
        if host.hasPrefix("[") { host = String(host.dropFirst().dropLast()) }
        self.host = host
        port = uri.port
    }
}

/// `cimd.allowed_hosts` / `cimd.blocked_hosts` entries: an exact host
/// (`claude.ai`) or a suffix pattern (`*.example.com`, which matches
/// `a.example.com` and `a.b.example.com`, not `example.com` itself).
public struct HostPattern: Sendable, Equatable, CustomStringConvertible {
    public let text: String
    let suffix: String?
    /// For an IP-literal entry, the address it names (compared as an
    /// address, not as text: `[::ffff:a.b.c.d]`, `0x…` and decimal spellings
    /// of it match too).
    let address: NetworkAddress?

    /// nil when `text` is neither a host name nor `*.` followed by one.
    public init?(_ text: String) {
        let lowered = text.lowercased()
        if lowered.hasPrefix("*.") {
            let rest = String(lowered.dropFirst(2))
            guard rest.contains("."), Self.isHostName(rest) else { return nil }
            suffix = "." + rest
            address = nil
        } else {
            address = NetworkAddress(lowered)?.unmapped
            guard Self.isHostName(lowered) || address != nil else { return nil }
            suffix = nil
        }
        self.text = lowered
    }

    /// `host` as `CIMDClientID.host` gives it (lowercased, no brackets).
    public func matches(_ host: String) -> Bool {
        if let suffix { return host.count > suffix.count && host.hasSuffix(suffix) }
        if let address { return NetworkAddress.named(by: host) == address }
        return host == text
    }

    public var description: String { text }

    static func isHostName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 253 && !name.hasSuffix(".")
            && name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
                !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
            }
    }
}
