import ShimCore
import Testing

/// The client address behind trusted proxies (the key of the rate limits)
/// (`X-Forwarded-For`, RFC 7239 `Forwarded`), never from an untrusted peer.
@Suite("Client address behind reverse proxies")
struct ClientAddressTests {
    static let proxies = ["10.0.0.0/8", "192.0.2.10", "2001:db8:aaaa::/48"].compactMap(IPNetwork.init)
    static let xff = ClientAddress(trustedProxies: proxies, header: .xForwardedFor)
    static let forwarded = ClientAddress(trustedProxies: proxies, header: .forwarded)

    static func resolve(_ resolver: ClientAddress, peer: String, _ values: [String]) -> String? {
        resolver.resolve(peer: IPAddress(peer), headerValues: values)?.description
    }

    @Test(
        "X-Forwarded-For: read from the right past trusted hops, only from a trusted peer",
        arguments: [
            // An untrusted peer: its header is never believed.
            ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),
            ("203.0.113.9", ["10.0.0.1"], "203.0.113.9"),
            // A trusted peer: the hop it appended.
            ("10.1.2.3", ["198.51.100.1"], "198.51.100.1"),
            // A client that sends its own header: its entries are left of the real one.
            ("10.1.2.3", ["1.1.1.1, 198.51.100.1"], "198.51.100.1"),
            ("10.1.2.3", ["10.9.9.9, 198.51.100.1"], "198.51.100.1"),
            // Two trusted hops (ingress behind a cloud load balancer).
            ("192.0.2.10", ["198.51.100.1, 10.0.0.7"], "198.51.100.1"),
            ("192.0.2.10", ["spoofed, 198.51.100.1", "10.0.0.7"], "198.51.100.1"),
            // Every hop trusted: the left-most one.
            ("10.1.2.3", ["10.0.0.5, 10.0.0.6"], "10.0.0.5"),
            // A hop that is no address ends the walk at the last trusted hop.
            ("10.1.2.3", ["198.51.100.1, unknown"], "10.1.2.3"),
            ("10.1.2.3", ["198.51.100.1, 10.0.0.6, garbage"], "10.1.2.3"),
            ("10.1.2.3", [""], "10.1.2.3"),
            ("10.1.2.3", [], "10.1.2.3"),
            // Ports, brackets and spaces as proxies write them; IPv6.
            ("10.1.2.3", [" 198.51.100.1:4711 "], "198.51.100.1"),
            ("10.1.2.3", ["[2001:db8::17]:4711"], "2001:db8::17"),
            ("10.1.2.3", ["2001:DB8:0:0::17"], "2001:db8::17"),
            ("2001:db8:aaaa::1", ["198.51.100.1"], "198.51.100.1"),
            ("::ffff:10.0.0.1", ["198.51.100.1"], "198.51.100.1"),
            ("2001:db8:bbbb::1", ["198.51.100.1"], "2001:db8:bbbb::1"),
        ] as [(String, [String], String)])
    func xForwardedFor(_ peer: String, _ values: [String], _ expected: String) {
        #expect(Self.resolve(Self.xff, peer: peer, values) == expected, "\(peer) \(values)")
    }

    @Test(
        "Forwarded (RFC 7239 §4, §6): the for= parameter, quoted IPv6 with port, case-insensitive names",
        arguments: [
            ("10.1.2.3", ["for=198.51.100.1"], "198.51.100.1"),
            ("10.1.2.3", ["for=192.0.2.60;proto=http;by=203.0.113.43"], "192.0.2.60"),
            ("10.1.2.3", [#"For="[2001:db8:cafe::17]:4711""#], "2001:db8:cafe::17"),
            ("10.1.2.3", [#"for="198.51.100.1:8080""#], "198.51.100.1"),
            ("10.1.2.3", ["for=1.1.1.1, for=198.51.100.1", "for=10.0.0.9;proto=https"], "198.51.100.1"),
            ("10.1.2.3", ["for=unknown"], "10.1.2.3"),
            ("10.1.2.3", ["for=_hidden, for=198.51.100.1"], "198.51.100.1"),
            ("10.1.2.3", ["proto=https"], "10.1.2.3"),
            ("203.0.113.9", ["for=198.51.100.1"], "203.0.113.9"),
        ] as [(String, [String], String)])
    func forwardedHeader(_ peer: String, _ values: [String], _ expected: String) {
        #expect(Self.resolve(Self.forwarded, peer: peer, values) == expected, "\(peer) \(values)")
    }

    @Test("no trusted proxies: the peer, whatever the header says")
    func noneTrusted() {
        let resolver = ClientAddress(trustedProxies: [])
        #expect(resolver.resolve(peer: IPAddress("127.0.0.1"), headerValues: ["198.51.100.1"])?.description == "127.0.0.1")
    }

    @Test("a huge header is bounded: only the last 32 hops are read")
    func boundedHops() {
        let long = Array(repeating: "10.0.0.1", count: 100_000).joined(separator: ",")
        #expect(Self.resolve(Self.xff, peer: "10.1.2.3", ["198.51.100.1," + long]) == "10.0.0.1")
    }

    @Test(
        "addresses print canonically; IPv6 limits count by /64; CIDR blocks",
        arguments: [
            ("2001:0DB8:0000::0001", "2001:db8::1", "2001:db8::/64"),
            ("[2001:db8::1]", "2001:db8::1", "2001:db8::/64"),
            ("2001:db8:0:0:ffff:1:2:3", "2001:db8::ffff:1:2:3", "2001:db8::/64"),
            ("::ffff:192.0.2.1", "192.0.2.1", "192.0.2.1"),
            ("192.0.2.1", "192.0.2.1", "192.0.2.1"),
        ])
    func canonical(_ text: String, _ printed: String, _ key: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.description == printed && address.limitKey == key)
    }

    @Test("IPNetwork parses and matches; nonsense is refused")
    func networks() throws {
        let ten = try #require(IPNetwork("10.0.0.0/8"))
        #expect(ten.contains(IPAddress("10.255.1.2")!) && !ten.contains(IPAddress("11.0.0.1")!) && !ten.contains(IPAddress("::a00:1")!))
        let v6 = try #require(IPNetwork("2001:db8::/32"))
        #expect(v6.contains(IPAddress("2001:db8:ffff::1")!) && !v6.contains(IPAddress("2001:db9::1")!))
        #expect(try #require(IPNetwork("0.0.0.0/0")).contains(IPAddress("203.0.113.1")!))
        #expect(try #require(IPNetwork("192.0.2.7")).description == "192.0.2.7/32")
        for bad in ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0/8", "::/129", "example.com", "", "10.0.0.0/8/8", "1.2.3.4/ 8", "01.2.3.4"] {
            #expect(IPNetwork(bad) == nil, "\(bad)")
        }
    }
}
