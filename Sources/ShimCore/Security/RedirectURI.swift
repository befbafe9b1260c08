/// A redirect URI split into the parts the redirect rules look at.
///
/// The parser is deliberately strict and small: it accepts only what RFC 3986
/// allows in the places that matter, and everything it does not understand is
/// a rejection, never a guess (parser confusion is the classic open-redirect
/// bug). It does not decode or normalise: rule 2 compares strings exactly.
public struct RedirectURI: Sendable, Equatable {
    public let raw: String
    public let scheme: String          // lowercased
    public let host: String            // as written (brackets kept for IPv6)
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
    public init?(_ raw: String) {
        guard !raw.isEmpty, raw.utf8.count <= 2048,
              raw.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        guard let colon = raw.firstIndex(of: ":") else { return nil }
        let scheme = raw[..<colon]
        guard let first = scheme.first, first.isLetter,
              scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." })
        else { return nil }
        var rest = raw[raw.index(after: colon)...]
        let lowerScheme = scheme.lowercased()
        guard rest.hasPrefix("//") else {
            // Only a path-absolute form ("/x", not "x" or "//x"), never for http(s).
            guard lowerScheme != "http", lowerScheme != "https", rest.hasPrefix("/"),
                  let parts = Self.splitPath(rest) else { return nil }
            self.raw = raw
            self.scheme = lowerScheme
            host = ""
            port = nil
            path = String(parts.path)
            query = parts.query.map(String.init)
            hasUserinfo = false
            hasFragment = parts.fragment
            hasAuthority = false
            return
        }
        rest = rest.dropFirst(2)

        var fragment = false
        if let hash = rest.firstIndex(of: "#") {
            fragment = true
            rest = rest[..<hash]
        }
        var query: Substring?
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = rest[..<slash]
        let path = rest[slash...]
        // A backslash is a path separator to WHATWG parsers (browsers) but not
        // to RFC 3986: refuse it anywhere before the query.
        guard !authority.contains("\\"), !path.contains("\\") else { return nil }

        let userinfo = authority.contains("@")
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }

        var host = authority
        var port: Int?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let p = Self.parsePort(after.dropFirst()) else { return nil }
                port = p
            }
        } else if let c = authority.firstIndex(of: ":") {
            host = authority[..<c]
            guard let p = Self.parsePort(authority[authority.index(after: c)...]) else { return nil }
            port = p
        }
        self.raw = raw
        self.scheme = scheme.lowercased()
        self.host = String(host)
        self.port = port
        self.path = String(path)
        self.query = query.map(String.init)
        self.hasUserinfo = userinfo
        self.hasFragment = fragment
        self.hasAuthority = true
    }

    /// `path?query#fragment` of the form without authority; nil with a backslash.
    private static func splitPath(_ text: Substring) -> (path: Substring, query: Substring?, fragment: Bool)? {
        var rest = text
        var fragment = false
        if let hash = rest.firstIndex(of: "#") {
            fragment = true
            rest = rest[..<hash]
        }
        var query: Substring?
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        guard !rest.contains("\\") else { return nil }
        return (rest, query, fragment)
    }

    private static func parsePort(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber),
              let value = Int(text), value <= 65535 else { return nil }
        return value
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
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets[0] == "127" else { return false }
        return octets.allSatisfy { o in
            !o.isEmpty && o.count <= 3 && o.allSatisfy(\.isNumber) && (o == "0" || !o.hasPrefix("0")) && (Int(o) ?? 256) <= 255
        }
    }

    /// The URI with the port removed, for the loopback comparison of rule 2.
    public var withoutPort: String {
        (hasAuthority ? "\(scheme)://\(host)" : "\(scheme):") + path + (query.map { "?\($0)" } ?? "")
    }
}
