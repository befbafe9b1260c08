/// A NAT64 translator's /96 prefix (rule 11): an IPv6 address inside it is
/// a connection to the IPv4 address in its last 32 bits, so it is judged as
/// that IPv4 address.
///
/// RFC 6052 §2.2: "When the prefix is of length 96, the IPv4 address is
/// encoded in positions 96 to 127". An IPv6-only deployment with DNS64 and
/// a prefix of its own (RFC 6052 §2.3, "Network-Specific Prefix") answers
/// `<prefix>::a9fe:a9fe` for a name whose A record is 169.254.169.254: the
/// address looks global, and the translator delivers it to the cloud
/// metadata service. The operator names such prefixes in
/// `cimd.nat64_prefixes`; the well-known prefix 64:ff9b::/96 is always
/// recognised. Only /96 prefixes are accepted: for shorter ones the IPv4
/// bits sit elsewhere (and around the "u" octet), and a wrong guess of the
/// layout would judge bits the translator ignores.
public struct NAT64Prefix: Sendable, Hashable, CustomStringConvertible {
    /// The first 12 bytes of the prefix.
    public let bytes: [UInt8]

    /// RFC 6052 §2.1, the Well-Known Prefix.
    public static let wellKnown = NAT64Prefix(uncheckedBytes: [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])

    init(uncheckedBytes: [UInt8]) {
        bytes = uncheckedBytes
    }

    /// `2001:db8:64::/96`; nil unless the text is an IPv6 address, the length
    /// is exactly 96, the last 32 bits are zero, and the prefix lies where a
    /// translator's can: global unicast (2000::/3), unique local (fc00::/7),
    /// the local-use block 64:ff9b:1::/48 (RFC 8215) or the well-known prefix
    /// itself. Elsewhere (link-local, multicast, ::/8 with its IPv4-mapped
    /// form) a listed prefix would only reopen addresses refused for good.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1] == "96", let address = NetworkAddress(String(parts[0])), !address.isIPv4,
            address.bytes[12..<16].allSatisfy({ $0 == 0 })
        else { return nil }
        let head = Array(address.bytes[0..<12])
        guard
            address.hasPrefix([0x20], bits: 3) || address.hasPrefix([0xfc], bits: 7)
                || address.hasPrefix([0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], bits: 48) || head == Self.wellKnown.bytes
        else { return nil }
        bytes = head
    }

    /// True when `address` is an IPv6 address inside this prefix.
    public func contains(_ address: NetworkAddress) -> Bool {
        !address.isIPv4 && address.hasPrefix(bytes, bits: 96)
    }

    /// The IPv4 address a translator would connect to for `address` (which
    /// must be inside the prefix).
    public func embeddedIPv4(_ address: NetworkAddress) -> NetworkAddress {
        address.embeddedIPv4(at: 12)
    }

    public var description: String {
        var groups: [String] = []
        for i in stride(from: 0, to: 12, by: 2) {
            groups.append(String(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]), radix: 16))
        }
        return groups.joined(separator: ":") + "::/96"
    }
}
