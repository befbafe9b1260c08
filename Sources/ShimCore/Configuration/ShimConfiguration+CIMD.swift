import Foundation

/// The `cimd:` block: Client ID Metadata Documents (docs/configuration.md).
public struct CIMDConfiguration: Sendable, Equatable {
    /// `cimd.enabled` (default true): accept https URLs as `client_id` and
    /// advertise `client_id_metadata_document_supported`.
    public var enabled = true
    /// `cimd.allowed_hosts` (default empty = any public host): exact hosts or
    /// `*.suffix` patterns. Listed hosts may also skip a remembered consent.
    public var allowedHosts: [String] = []
    /// `cimd.blocked_hosts` (default empty): same syntax; wins over allowed.
    public var blockedHosts: [String] = []
    /// `cimd.fetch_timeout` (default 5s, 1–30 s): the whole fetch, from name
    /// resolution to the last byte.
    public var fetchTimeoutSeconds = 5
    /// `cimd.cache_min` / `cimd.cache_max` (defaults 60s and 1h): a document is
    /// reused for its `Cache-Control: max-age` within these bounds (10 minutes
    /// when it sends none; `no-store` counts as the minimum).
    public var cacheMinSeconds = 60
    public var cacheMaxSeconds = 3600
    /// `cimd.insecure_private_hosts` (default empty): hosts whose document may
    /// be fetched although they resolve to loopback or private addresses. For
    /// tests and private deployments only; logged at start.
    public var insecurePrivateHosts: [String] = []
    /// `cimd.insecure_ca` or `cimd.insecure_ca_file` (default none): PEM
    /// certificates of extra CAs trusted for document fetches, besides the
    /// system's (a private deployment's CA, a test CA). Logged at start.
    public var insecureCAPEM: String?
    /// `cimd.nat64_prefixes` (default empty): the /96 prefixes of the
    /// deployment's NAT64 translators (RFC 6052 §2.3), as `2001:db8:64::/96`.
    /// An address inside one is judged by the IPv4 address in its last 32
    /// bits (rule 11). The well-known 64:ff9b::/96 is always recognised, and
    /// the rest of the local-use block 64:ff9b:1::/48 (RFC 8215) is refused.
    public var nat64Prefixes: [String] = []

    /// A document larger than this is refused (draft §"Maximum Response Size": 5 KB).
    public static let maxDocumentBytes = 5 * 1024

    public init() {}

    /// The policy checked before each fetch; patterns were validated by `validate()`.
    public var policy: CIMDPolicy {
        CIMDPolicy(
            enabled: enabled, allowedHosts: allowedHosts.compactMap(HostPattern.init),
            blockedHosts: blockedHosts.compactMap(HostPattern.init),
            insecurePrivateHosts: insecurePrivateHosts.compactMap(HostPattern.init))
    }

    /// The translator prefixes, validated by `validate()`; the guarded
    /// fetchers (documents and trusted issuers' keys) judge addresses with them.
    public var nat64: [NAT64Prefix] { nat64Prefixes.compactMap(NAT64Prefix.init) }

    /// The start-up warnings for the relaxations in effect.
    public var relaxationWarnings: [String] {
        var out: [String] = []
        if !insecurePrivateHosts.isEmpty {
            out.append(
                "cimd.insecure_private_hosts: documents from \(insecurePrivateHosts.joined(separator: ", ")) may be fetched from loopback or private addresses"
            )
        }
        if let insecureCAPEM {
            let count = insecureCAPEM.components(separatedBy: "-----BEGIN CERTIFICATE-----").count - 1
            out.append("cimd.insecure_ca: \(count) extra CA certificate(s) are trusted for Client ID Metadata Document fetches")
        }
        return out
    }

    static func read(_ r: inout ConfigReader) -> CIMDConfiguration {
        var c = CIMDConfiguration()
        c.enabled = r.bool("cimd.enabled", default: true)
        c.allowedHosts = r.stringList("cimd.allowed_hosts", default: [])
        c.blockedHosts = r.stringList("cimd.blocked_hosts", default: [])
        c.fetchTimeoutSeconds = r.duration("cimd.fetch_timeout", default: 5, range: 1...30)
        c.cacheMinSeconds = r.duration("cimd.cache_min", default: 60, range: 0...86400)
        c.cacheMaxSeconds = r.duration("cimd.cache_max", default: 3600, range: 0...(7 * 86400))
        c.insecurePrivateHosts = r.stringList("cimd.insecure_private_hosts", default: [])
        c.insecureCAPEM = r.secret("cimd.insecure_ca")
        c.nat64Prefixes = r.stringList("cimd.nat64_prefixes", default: [])
        return c
    }

    func validate() -> [String] {
        var problems: [String] = []
        for (key, list) in [("cimd.allowed_hosts", allowedHosts), ("cimd.blocked_hosts", blockedHosts)] {
            for (i, entry) in list.enumerated() where HostPattern(entry) == nil {
                problems.append("\(key)[\(i)]: \(entry.quotedForProblem) is not a host name or a *.suffix pattern")
            }
        }
        for (i, entry) in insecurePrivateHosts.enumerated() where HostPattern(entry) == nil || entry.hasPrefix("*") {
            problems.append("cimd.insecure_private_hosts[\(i)]: \(entry.quotedForProblem) must be an exact host name (no patterns)")
        }
        for (i, entry) in nat64Prefixes.enumerated() where NAT64Prefix(entry) == nil {
            problems.append(
                "cimd.nat64_prefixes[\(i)]: \(entry.quotedForProblem) is not an IPv6 /96 prefix in global unicast, unique local "
                    + "or 64:ff9b:1::/48 space with its last 32 bits zero (like 2001:db8:64::/96)")
        }
        if cacheMinSeconds > cacheMaxSeconds {
            problems.append("cimd.cache_min: must not be longer than cimd.cache_max")
        }
        if let insecureCAPEM, !insecureCAPEM.contains("-----BEGIN CERTIFICATE-----") {
            problems.append("cimd.insecure_ca: must hold PEM certificates (-----BEGIN CERTIFICATE-----)")
        }
        return problems
    }
}
