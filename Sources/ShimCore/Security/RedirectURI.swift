/// A redirect URI split into the parts the redirect rules look at.
///
/// The parser is deliberately strict and small: it accepts only what RFC 3986
/// allows in the places that matter, and everything it does not understand is
/// a rejection, never a guess (parser confusion is the classic open-redirect
/// bug). It does not decode or normalise: rule 2 compares strings exactly.
public struct RedirectURI: Sendable, Equatable {
    public let raw: String
    public let scheme: String  // lowercased
    public let host: String  // as written (brackets kept for IPv6)
    public let port: Int?
    public let path: String
    public let query: String?
    public let hasUserinfo: Bool
    public let hasFragment: Bool
    /// False for RFC 8252 §7.1's `com.example.app:/oauth2redirect` form
    /// (a private-use scheme followed by an absolute path, no `//`).
    public let hasAuthority: Bool

    /// Parses `scheme://authority/path?query#fragment`, and, for schemes other
    /// than http(s), `scheme:/path?query#fragment` (RFC 8252 §7.1: "e.g.,
    /// com.example.app:/oauth2redirect/example-provider"); nil when the string
    /// is not such a URI made of visible ASCII.
    ///
    /// Works on the UTF-8 bytes: once every byte is known to be visible
    /// ASCII, a byte is a character, and byte searches avoid grapheme
    /// breaking on every registration and authorization (a profile showed it).
    public init?(_ raw: String) {
        let bytes = raw.utf8
        guard !bytes.isEmpty, bytes.count <= 2048, bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let scheme = bytes[..<colon]
        guard let first = scheme.first, Self.isLetter(first),
            scheme.allSatisfy({
                Self.isLetter($0) || Self.isDigit($0) || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
            })
        else { return nil }
        let rest = bytes[bytes.index(after: colon)...]
        let lowerScheme = String(decoding: scheme.map { Self.isLetter($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
        guard rest.starts(with: "//".utf8) else {
            // Only a path-absolute form ("/x", not "x" or "//x"), never for http(s).
            guard lowerScheme != "http", lowerScheme != "https", rest.first == UInt8(ascii: "/"),
                let parts = Self.splitPath(rest)
            else { return nil }
            self.raw = raw
            self.scheme = lowerScheme
            host = ""
            port = nil
            path = String(Substring(parts.path))
            query = parts.query.map { String(Substring($0)) }
            hasUserinfo = false
            hasFragment = parts.fragment
            hasAuthority = false
            return
        }
        // `splitPath` refuses a backslash anywhere before the query: it is a
        // path separator to WHATWG parsers (browsers) but not to RFC 3986.
        guard let parts = Self.splitPath(rest.dropFirst(2)) else { return nil }
        let fragment = parts.fragment
        let query = parts.query
        let slash = parts.path.firstIndex(of: UInt8(ascii: "/")) ?? parts.path.endIndex
        var authority = parts.path[..<slash]
        let path = parts.path[slash...]

        let userinfo = authority.contains(UInt8(ascii: "@"))
        if let at = authority.lastIndex(of: UInt8(ascii: "@")) { authority = authority[authority.index(after: at)...] }

        var host = authority
        var port: Int?
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == UInt8(ascii: ":"), let p = Self.parsePort(after.dropFirst()) else { return nil }
                port = p
            }
        } else if let c = authority.firstIndex(of: UInt8(ascii: ":")) {
            host = authority[..<c]
            guard let p = Self.parsePort(authority[authority.index(after: c)...]) else { return nil }
            port = p
        }
        self.raw = raw
        self.scheme = lowerScheme
        self.host = String(Substring(host))
        self.port = port
        self.path = String(Substring(path))
        self.query = query.map { String(Substring($0)) }
        self.hasUserinfo = userinfo
        self.hasFragment = fragment
        self.hasAuthority = true
    }

    /// `path?query#fragment` (with the authority still at the front of `path`
    /// when there is one); nil with a backslash before the query.
    private static func splitPath(_ text: Substring.UTF8View) -> (path: Substring.UTF8View, query: Substring.UTF8View?, fragment: Bool)? {
        var rest = text
        var fragment = false
        if let hash = rest.firstIndex(of: UInt8(ascii: "#")) {
            fragment = true
            rest = rest[..<hash]
        }
        var query: Substring.UTF8View?
        if let q = rest.firstIndex(of: UInt8(ascii: "?")) {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        guard !rest.contains(UInt8(ascii: "\\")) else { return nil }
        return (rest, query, fragment)
    }

    static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") }
    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// 1 to 5 ASCII digits, at most 65535.
    private static func parsePort(_ text: Substring.UTF8View) -> Int? {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy(isDigit) else { return nil }
        let value = text.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        return value <= 65535 ? value : nil
    }

    /// RFC 8252 §7.3 / §8.3: a loopback redirect names the loopback interface
    /// by IP literal (`127.0.0.0/8`, `[::1]`); `localhost` is accepted because
    /// Claude Code, Cursor and MCP Inspector register it. Only these exact
    /// spellings count: `localhost.`, `127.1`, decimal or octal forms and
    /// `[::ffff:127.0.0.1]` are not loopback to this check.
    public var isLoopback: Bool {
        Self.isLoopbackHost(host)
    }

    public static func isLoopbackHost(_ host: String) -> Bool {
        if host == "localhost" || host == "[::1]" { return true }
        let octets = host.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard octets.count == 4, octets[0].elementsEqual("127".utf8) else { return false }
        return octets.allSatisfy { o in
            !o.isEmpty && o.count <= 3 && o.allSatisfy(isDigit) && (o.count == 1 || o.first != UInt8(ascii: "0"))
                && o.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) } <= 255
        }
    }

    /// The URI with the port removed, for the loopback comparison of rule 2.
    public var withoutPort: String {
        (hasAuthority ? "\(scheme)://\(host)" : "\(scheme):") + path + (query.map { "?\($0)" } ?? "")
    }
}
