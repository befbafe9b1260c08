/// The address of the client behind reverse proxies (the key of the rate limits).
///
/// The TCP peer of a shim behind a TLS-terminating proxy or an ingress is
/// the proxy: keyed on it, one abuser's registrations would rate-limit every
/// client. The address the proxy saw is in the header it appends to, but a
/// client can send that header too, with any address in it. So the header
/// counts only when the TCP peer is one of the operator's
/// `listen.trusted_proxies`, and it is read from the right (the hops the
/// trusted proxies appended) past every trusted hop; the first address that
/// is not a trusted proxy is the client. Entries to the left of it were
/// written by the client and are never believed.
///
/// Only the header the operator names (`listen.client_address_header`) is
/// read: a proxy that sets `X-Forwarded-For` passes a client's own
/// `Forwarded` header through untouched, so reading both would let the
/// client choose its address.
public struct ClientAddress: Sendable {
    public enum Header: String, Sendable, CaseIterable {
        /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, most ingresses, cloud load balancers).
        case xForwardedFor = "x-forwarded-for"
        /// RFC 7239 `Forwarded: for=client;proto=https, for="[2001:db8::1]:443"`.
        case forwarded

        /// The HTTP field name.
        public var fieldName: String { self == .forwarded ? "Forwarded" : "X-Forwarded-For" }
    }

    public let trustedProxies: [IPNetwork]
    public let header: Header
    /// Hops read from the right at most (a header is bounded work, rule 10).
    public static let maxHops = 32

    public init(trustedProxies: [IPNetwork], header: Header = .xForwardedFor) {
        self.trustedProxies = trustedProxies
        self.header = header
    }

    public func isTrusted(_ address: IPAddress) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }

    /// The client's address: the peer itself unless the peer is a trusted
    /// proxy; then the right-most hop of `headerValues` (every line of the
    /// header, in order) that is not a trusted proxy. A hop that is no IP
    /// address (`unknown`, an obfuscated `_name`, garbage) ends the walk at
    /// the last trusted hop: that proxy is then the best-known address.
    public func resolve(peer: IPAddress?, headerValues: [String]) -> IPAddress? {
        guard var current = peer, isTrusted(current), !headerValues.isEmpty else { return peer }
        for hop in hops(headerValues).reversed() {
            guard let address = hop else { return current }
            current = address
            if !isTrusted(address) { return address }
        }
        return current
    }

    /// The last `maxHops` hops of the header lines, left to right; nil for
    /// one that is not an address. Only those are parsed.
    func hops(_ values: [String]) -> [IPAddress?] {
        let elements = values.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.suffix(Self.maxHops)
        return elements.map { element in
            switch header {
            case .xForwardedFor: Self.parseHop(element)
            case .forwarded: Self.forwardedFor(element).flatMap(Self.parseHop)
            }
        }
    }

    /// RFC 7239 §4: the `for` parameter of one forwarded-element
    /// (`for=192.0.2.60;proto=http;by=…`); names are case-insensitive,
    /// values are tokens or quoted strings.
    static func forwardedFor(_ element: Substring) -> Substring? {
        for pair in element.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingASCIISpaces().lowercased() == "for" else { continue }
            var value = parts[1].trimmingASCIISpaces()
            if value.count >= 2, value.first == "\"", value.last == "\"" { value = value.dropFirst().dropLast() }
            return value
        }
        return nil
    }

    /// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:4711`.
    static func parseHop(_ raw: Substring) -> IPAddress? {
        let text = raw.trimmingASCIISpaces()
        if let address = IPAddress(text) { return address }
        if text.first == "[", let close = text.firstIndex(of: "]") { return IPAddress(text[...close]) }
        if let colon = text.firstIndex(of: ":"), text[text.index(after: colon)...].allSatisfy(\.isASCII),
            !text[text.index(after: colon)...].contains(":")
        {
            return IPAddress(text[..<colon])
        }
        return nil
    }
}

extension Substring {
    func trimmingASCIISpaces() -> Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
