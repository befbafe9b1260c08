/// Rule 11 (docs/security-rules.md): outbound fetches chosen by a client go only to
/// globally routable addresses.
///
/// draft-ietf-oauth-client-id-metadata-document §"SSRF Attacks": the
/// authorization server "MUST NOT fetch a Client ID Metadata Document URL
/// … that resolve[s] to special-use IP addresses as defined in RFC 6890".
/// The tables below follow the IANA IPv4 and IPv6 Special-Purpose Address
/// Registries (RFC 6890 and later updates), stricter where a range is
/// "globally reachable" but has no business hosting a client's document
/// (all of 192.0.0.0/24 and 2001::/23). IPv6 must be in 2000::/3, the
/// global unicast space; IPv4 hidden inside IPv6 (mapped, NAT64, 6to4,
/// ISATAP) is judged by the IPv4 address it carries, so `::ffff:127.0.0.1`
/// or `64:ff9b::a00:1` are as refused as `127.0.0.1` and `10.0.0.1`. The
/// NAT64 prefixes are the well-known 64:ff9b::/96 and those the operator
/// lists (`cimd.nat64_prefixes`, `NAT64Prefix`): a deployment's own prefix
/// may lie anywhere, even in global unicast space, so only the operator can
/// say which addresses a translator turns into IPv4 connections.
public enum IPAddressPolicy {
    /// Why an address is not a destination for an outbound fetch.
    public enum SpecialUse: String, Sendable, Equatable {
        case unspecified = "this host / unspecified"
        case loopback
        case privateUse = "private-use (RFC 1918)"
        case sharedAddressSpace = "shared address space (RFC 6598 CGNAT)"
        case linkLocal = "link-local (incl. cloud metadata)"
        case protocolAssignments = "IETF protocol assignments"
        case documentation
        case benchmarking
        case relayAnycast = "deprecated 6to4 relay anycast"
        case multicast
        case reserved
        case uniqueLocal = "unique local (fc00::/7)"
        case siteLocal = "site-local (deprecated)"
        case discardOnly = "discard-only"
        case nat64LocalUse = "local-use NAT64"
        case teredo = "Teredo tunnel"
        case segmentRouting = "SRv6 SIDs"
        case ipv4Compatible = "IPv4-compatible (deprecated)"
    }

    /// nil when `address` is globally routable; otherwise the range that makes it not.
    /// An address inside one of `nat64Prefixes` (the operator's translator
    /// prefixes, besides the well-known one) is judged by the IPv4 address
    /// it carries, wherever the prefix lies.
    public static func specialUse(_ address: NetworkAddress, nat64Prefixes: [NAT64Prefix] = []) -> SpecialUse? {
        if address.isIPv4 { return ipv4(address) }
        if let prefix = nat64Prefixes.first(where: { $0.contains(address) }) { return ipv4(prefix.embeddedIPv4(address)) }
        return ipv6(address)
    }

    public static func isGloballyRoutable(_ address: NetworkAddress, nat64Prefixes: [NAT64Prefix] = []) -> Bool {
        specialUse(address, nat64Prefixes: nat64Prefixes) == nil
    }

    /// IANA IPv4 Special-Purpose Address Registry.
    static let ipv4Table: [(prefix: [UInt8], bits: Int, use: SpecialUse)] = [
        ([0, 0, 0, 0], 8, .unspecified),
        ([10, 0, 0, 0], 8, .privateUse),
        ([100, 64, 0, 0], 10, .sharedAddressSpace),
        ([127, 0, 0, 0], 8, .loopback),
        ([169, 254, 0, 0], 16, .linkLocal),
        ([172, 16, 0, 0], 12, .privateUse),
        ([192, 0, 0, 0], 24, .protocolAssignments),
        ([192, 0, 2, 0], 24, .documentation),
        ([192, 88, 99, 0], 24, .relayAnycast),
        ([192, 168, 0, 0], 16, .privateUse),
        ([198, 18, 0, 0], 15, .benchmarking),
        ([198, 51, 100, 0], 24, .documentation),
        ([203, 0, 113, 0], 24, .documentation),
        ([224, 0, 0, 0], 4, .multicast),
        ([240, 0, 0, 0], 4, .reserved),  // includes 255.255.255.255
    ]

    static func ipv4(_ address: NetworkAddress) -> SpecialUse? {
        ipv4Table.first { address.hasPrefix($0.prefix, bits: $0.bits) }?.use
    }

    /// IANA IPv6 Special-Purpose Address Registry, then "outside 2000::/3".
    static let ipv6Table: [(prefix: [UInt8], bits: Int, use: SpecialUse)] = [
        ([0x01, 0x00, 0, 0, 0, 0, 0, 0], 64, .discardOnly),
        // RFC 8215 §2: 64:ff9b:1::/48 is "for local use within domains that enable
        // IPv4/IPv6 translation mechanisms". Each domain carves its prefixes from
        // it with a layout it does not announce, so the whole block is refused;
        // a /96 the operator lists in `cimd.nat64_prefixes` is judged first.
        ([0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48, .nat64LocalUse),
        ([0x20, 0x01, 0x00, 0x00], 32, .teredo),
        ([0x20, 0x01, 0x00, 0x00], 23, .protocolAssignments),
        ([0x20, 0x01, 0x0d, 0xb8], 32, .documentation),
        ([0x3f, 0xff, 0x00, 0x00], 20, .documentation),
        ([0x5f, 0x00], 16, .segmentRouting),
        ([0xfc, 0x00], 7, .uniqueLocal),
        ([0xfe, 0x80], 10, .linkLocal),
        ([0xfe, 0xc0], 10, .siteLocal),
        ([0xff, 0x00], 8, .multicast),
    ]

    static func ipv6(_ address: NetworkAddress) -> SpecialUse? {
        let b = address.bytes
        if b.allSatisfy({ $0 == 0 }) { return .unspecified }
        if b[0..<15].allSatisfy({ $0 == 0 }), b[15] == 1 { return .loopback }
        // ::ffff:0:0/96, IPv4-mapped (RFC 4291 §2.5.5.2): judged as the IPv4 address.
        if b[0..<10].allSatisfy({ $0 == 0 }), b[10] == 0xff, b[11] == 0xff { return ipv4(address.embeddedIPv4(at: 12)) }
        // ::/96, IPv4-compatible (deprecated, RFC 4291 §2.5.5.1), and the rest of ::/8.
        if b[0..<12].allSatisfy({ $0 == 0 }) { return .ipv4Compatible }
        // 64:ff9b::/96, the NAT64 well-known prefix (RFC 6052): the gateway connects to the IPv4 address.
        if NAT64Prefix.wellKnown.contains(address) { return ipv4(NAT64Prefix.wellKnown.embeddedIPv4(address)) }
        if let special = ipv6Table.first(where: { address.hasPrefix($0.prefix, bits: $0.bits) })?.use { return special }
        // Only 2000::/3 is global unicast; everything else is unassigned or reserved.
        guard address.hasPrefix([0x20], bits: 3) else { return .reserved }
        // 2002::/16, 6to4 (RFC 3056): the IPv4 address of the tunnel end is bytes 2-5.
        if address.hasPrefix([0x20, 0x02], bits: 16), let special = ipv4(address.embeddedIPv4(at: 2)) { return special }
        // ISATAP interface identifiers (RFC 5214 §6.1): ::0:5efe:a.b.c.d and ::200:5efe:a.b.c.d.
        if b[8] == 0x00 || b[8] == 0x02, b[9] == 0x00, b[10] == 0x5e, b[11] == 0xfe,
            let special = ipv4(address.embeddedIPv4(at: 12))
        {
            return special
        }
        return nil
    }
}
