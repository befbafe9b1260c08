/// `storage.url` as text: what may be shown of it, and the PostgreSQL TLS
/// mode it asks for (configuration hygiene: threat I8).
public enum StorageURL {
    /// The URL with the password in its userinfo replaced by `***`, so it
    /// can be printed (check-config) or logged. Anything else is kept.
    public static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let authorityStart = schemeEnd.upperBound
        let rest = url[authorityStart...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else { return url }
        return String(url[..<authority.index(after: colon)]) + "***" + String(url[at...])
    }

    /// TLS toward PostgreSQL (`?sslmode=`): `disable`, `prefer` or `require`.
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, prefer, require
    }

    /// The `sslmode` the URL names; when it names none, `require` unless the
    /// host is loopback (plaintext to another machine must be asked for by
    /// name), `prefer` on loopback. nil when `sslmode` has another value.
    public static func sslMode(_ url: String) -> SSLMode? {
        if let given = queryValue(url, "sslmode") { return SSLMode(rawValue: given) }
        return host(url).map(isLoopback) == true ? .prefer : .require
    }

    /// The host of `scheme://user:pass@host:port/…` (brackets kept for IPv6).
    public static func host(_ url: String) -> String? {
        guard let schemeEnd = url.firstRange(of: "://") else { return nil }
        let rest = url[schemeEnd.upperBound...]
        var authority = rest[..<(rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex)]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") { return String(authority[...close]) }
        return String(authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }

    static func isLoopback(_ host: String) -> Bool {
        RedirectURI.isLoopbackHost(host.lowercased()) || host == "::1"
    }

    static func queryValue(_ url: String, _ name: String) -> String? {
        guard let question = url.firstIndex(of: "?") else { return nil }
        let query = url[url.index(after: question)...].prefix { $0 != "#" }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts[0] == name { return parts.count > 1 ? String(parts[1]) : "" }
        }
        return nil
    }
}
