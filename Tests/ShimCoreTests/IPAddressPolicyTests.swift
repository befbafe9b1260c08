import ShimCore
import Testing

/// Rule 11 (docs/security-rules.md): outbound fetches chosen by a client go only to
/// globally routable addresses (draft-ietf-oauth-client-id-metadata-document
/// "SSRF Attacks": never to RFC 6890 special-use addresses).
@Suite("Rule 11: address classification")
struct IPAddressPolicyTests {
    typealias Use = IPAddressPolicy.SpecialUse

    @Test(
        "every special-use IPv4 range is refused, at both ends",
        arguments: [
            ("0.0.0.0", Use.unspecified), ("0.255.255.255", .unspecified),
            ("10.0.0.0", .privateUse), ("10.255.255.255", .privateUse),
            ("100.64.0.0", .sharedAddressSpace), ("100.127.255.255", .sharedAddressSpace),
            ("127.0.0.1", .loopback), ("127.255.255.254", .loopback), ("127.0.0.2", .loopback),
            ("169.254.169.254", .linkLocal), ("169.254.0.0", .linkLocal), ("169.254.255.255", .linkLocal),
            ("172.16.0.0", .privateUse), ("172.31.255.255", .privateUse),
            ("192.0.0.0", .protocolAssignments), ("192.0.0.255", .protocolAssignments),
            ("192.0.2.1", .documentation), ("198.51.100.7", .documentation), ("203.0.113.255", .documentation),
            ("192.88.99.1", .relayAnycast),
            ("192.168.0.0", .privateUse), ("192.168.255.255", .privateUse),
            ("198.18.0.0", .benchmarking), ("198.19.255.255", .benchmarking),
            ("224.0.0.1", .multicast), ("239.255.255.255", .multicast),
            ("240.0.0.1", .reserved), ("255.255.255.255", .reserved),
        ])
    func ipv4Special(_ text: String, _ use: Use) throws {
        let address = try #require(NetworkAddress(text))
        #expect(IPAddressPolicy.specialUse(address) == use, "\(text)")
    }

    @Test(
        "public IPv4, including the neighbours of every refused range, is allowed",
        arguments: [
            "1.1.1.1", "8.8.8.8", "93.184.216.34", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0",
            "126.255.255.255", "128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255", "172.32.0.0",
            "192.0.1.0", "192.0.3.0", "192.88.98.255", "192.88.100.0", "192.167.255.255", "192.169.0.0",
            "198.17.255.255", "198.20.0.0", "198.51.99.255", "198.51.101.0", "203.0.112.255", "203.0.114.0",
            "223.255.255.255",
        ])
    func ipv4Global(_ text: String) throws {
        #expect(IPAddressPolicy.isGloballyRoutable(try #require(NetworkAddress(text))), "\(text)")
    }

    @Test(
        "special-use IPv6, and IPv4 hidden inside IPv6, is refused",
        arguments: [
            ("::", Use.unspecified), ("::1", .loopback), ("[::1]", .loopback),
            // IPv4-mapped: judged as the IPv4 address it carries
            ("::ffff:127.0.0.1", .loopback), ("::ffff:7f00:1", .loopback), ("::ffff:10.0.0.1", .privateUse),
            ("::ffff:169.254.169.254", .linkLocal), ("::ffff:100.64.0.1", .sharedAddressSpace), ("::ffff:0.0.0.0", .unspecified),
            // IPv4-compatible (deprecated) and the rest of ::/8
            ("::127.0.0.1", .ipv4Compatible), ("::8.8.8.8", .ipv4Compatible), ("::2", .ipv4Compatible),
            // NAT64 well-known prefix carries the IPv4 address; the local-use prefix is never global
            ("64:ff9b::127.0.0.1", .loopback), ("64:ff9b::a00:1", .privateUse), ("64:ff9b::a9fe:a9fe", .linkLocal),
            ("64:ff9b:1::1", .nat64LocalUse), ("64:ff9b:1:ffff::8.8.8.8", .nat64LocalUse),
            // 6to4 with a special-use IPv4 tunnel end; ISATAP interface identifiers
            ("2002:7f00:1::1", .loopback), ("2002:a00:1::", .privateUse), ("2002:c0a8:101::1", .privateUse),
            ("2002:a9fe:a9fe::1", .linkLocal),
            ("2600:1f18::5efe:10.0.0.1", .privateUse), ("2600:1f18::200:5efe:127.0.0.1", .loopback),
            // Teredo (its client address is obfuscated), and the rest of 2001::/23
            ("2001::1", .teredo), ("2001:0:4136:e378:8000:63bf:3fff:fdd2", .teredo), ("2001:2::1", .protocolAssignments),
            ("2001:10::1", .protocolAssignments), ("2001:1ff:ffff::1", .protocolAssignments),
            ("2001:db8::1", .documentation), ("3fff::1", .documentation), ("3fff:fff:ffff::1", .documentation),
            ("100::1", .discardOnly), ("5f00::1", .segmentRouting),
            ("fc00::1", .uniqueLocal), ("fd12:3456:789a::1", .uniqueLocal),
            ("fe80::1", .linkLocal), ("febf:ffff::1", .linkLocal), ("fec0::1", .siteLocal),
            ("ff02::1", .multicast), ("ff05::fb", .multicast),
            // outside 2000::/3, the global unicast space
            ("4000::1", .reserved), ("1000::1", .reserved), ("e000::1", .reserved), ("8000::1", .reserved),
        ])
    func ipv6Special(_ text: String, _ use: Use) throws {
        let address = try #require(NetworkAddress(text))
        #expect(IPAddressPolicy.specialUse(address) == use, "\(text)")
    }

    @Test(
        "global IPv6 is allowed, including forms that carry a public IPv4",
        arguments: [
            "2606:4700:4700::1111", "2001:4860:4860::8888", "2a00:1450:4001:82a::200e", "2001:200::1",
            "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1", "2600:1f18::5efe:8.8.8.8", "3fff:1000::1",
            "2001:dc0::1", "2000::1", "3ffe:ffff::1",
        ])
    func ipv6Global(_ text: String) throws {
        #expect(IPAddressPolicy.isGloballyRoutable(try #require(NetworkAddress(text))), "\(text)")
    }

    /// The deployment's NAT64 prefixes (`cimd.nat64_prefixes`): an address
    /// inside one is a connection to the IPv4 address in its last 32 bits.
    static let nat64 = ["2001:db8:64::/96", "64:ff9b:1:fffe::/96"].compactMap(NAT64Prefix.init)

    @Test(
        "NAT64: an address in a translator's prefix is judged by the IPv4 address it carries",
        arguments: [
            // (address, with the deployment's prefixes listed?, expected)
            ("64:ff9b::a9fe:a9fe", false, Use.linkLocal as Use?), ("64:ff9b::a9fe:a9fe", true, .linkLocal),
            ("64:ff9b::808:808", false, nil),
            // A prefix of the deployment's own: metadata refused, a public IPv4 allowed
            ("2001:db8:64::a9fe:a9fe", true, .linkLocal), ("2001:db8:64::169.254.169.254", true, .linkLocal),
            ("2001:db8:64::a00:1", true, .privateUse), ("2001:db8:64::7f00:1", true, .loopback),
            ("2001:db8:64::808:808", true, nil),
            // Unlisted, the same addresses are what they look like (here: documentation space)
            ("2001:db8:64::808:808", false, .documentation), ("2001:db8:64::a9fe:a9fe", false, .documentation),
            // The local-use block (RFC 8215): refused whole, except a listed /96 inside it
            ("64:ff9b:1:fffe::808:808", false, .nat64LocalUse), ("64:ff9b:1:fffe::808:808", true, nil),
            ("64:ff9b:1:fffe::a9fe:a9fe", true, .linkLocal), ("64:ff9b:1:ffff::808:808", true, .nat64LocalUse),
            // Unrelated IPv6 is unaffected by the list
            ("2606:4700:4700::1111", true, nil), ("2001:db8:65::808:808", true, .documentation), ("fe80::a9fe:a9fe", true, .linkLocal),
            ("::ffff:169.254.169.254", true, .linkLocal), ("10.0.0.1", true, .privateUse), ("8.8.8.8", true, nil),
        ])
    func nat64(_ text: String, _ listed: Bool, _ expected: Use?) throws {
        let address = try #require(NetworkAddress(text))
        #expect(IPAddressPolicy.specialUse(address, nat64Prefixes: listed ? Self.nat64 : []) == expected, "\(text)")
    }

    @Test(
        "NAT64 prefixes: /96, host bits zero, where a translator's prefix can lie",
        arguments: [
            ("2001:db8:64::/96", "2001:db8:64:0:0:0::/96" as String?), ("64:ff9b::/96", "64:ff9b:0:0:0:0::/96"),
            ("64:ff9b:1:fffe::/96", "64:ff9b:1:fffe:0:0::/96"), ("fd00:64::/96", "fd00:64:0:0:0:0::/96"),
            ("2001:db8:64::/64", nil), ("2001:db8:64::/48", nil), ("2001:db8:64::1/96", nil), ("2001:db8:64::", nil),
            ("10.0.0.0/8", nil), ("::ffff:0:0/96", nil), ("::/96", nil), ("fe80::/96", nil), ("ff02::/96", nil),
            ("64:ff9b:2::/96", nil), ("nonsense/96", nil), ("2001:db8:64::/096", nil),
        ])
    func nat64Prefix(_ text: String, _ normalised: String?) {
        #expect(NAT64Prefix(text)?.description == normalised, "\(text)")
    }

    @Test(
        "the parser refuses ambiguous and malformed forms instead of guessing",
        arguments: [
            "127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "010.0.0.1", "127.0.0.1.", "127.0.0.256", "1.2.3.4.5",
            "1.2.3", "", ".", "::1%lo", "fe80::1%eth0", ":::", "1::2::3", "12345::", "g::1", "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7", "::ffff:127.1", "::ffff:1.2.3.4:5", "[::1", "localhost", " 127.0.0.1", "127.0.0.1 ",
            "１２７.0.0.1",
        ])
    func strictParser(_ text: String) {
        #expect(NetworkAddress(text) == nil, "\(text)")
    }

    @Test(
        "parsed forms are the bytes they spell",
        arguments: [
            ("::", [UInt8](repeating: 0, count: 16)),
            ("::1", [UInt8](repeating: 0, count: 15) + [1]),
            ("1:2:3:4:5:6:7:8", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]),
            ("::ffff:1.2.3.4", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]),
            ("fe80::", [0xfe, 0x80] + [UInt8](repeating: 0, count: 14)),
            ("10.0.0.255", [10, 0, 0, 255]),
        ])
    func bytes(_ text: String, _ expected: [UInt8]) {
        #expect(NetworkAddress(text)?.bytes == expected, "\(text)")
    }

    @Test("addresses print as the fetcher logs them")
    func description() {
        #expect(NetworkAddress("10.1.2.3")?.description == "10.1.2.3")
        #expect(NetworkAddress("fe80::1")?.description == "[fe80:0:0:0:0:0:0:1]")
        #expect(NetworkAddress(bytes: [1, 2, 3]) == nil)
    }
}
