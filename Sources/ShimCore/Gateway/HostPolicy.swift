/// The `Host` check of gateway routes (DNS rebinding, MCP Streamable HTTP
/// "Security & Endpoint"; RFC 9110 §7.4 "Rejecting Misdirected Requests").
///
/// A browser tricked by DNS rebinding sends the attacker's host name in
/// `Host` (the name it resolved); a same-origin `GET` carries no `Origin`
/// for the Origin check to catch. So a request whose host name is neither
/// the issuer's nor the resource's is answered 421 Misdirected Request:
/// this server does not answer for that name. Loopback names (`localhost`,
/// `127.0.0.0/8`, `[::1]`) are accepted too: a reverse proxy that does not
/// pass the client's `Host` on (nginx's default `proxy_pass` sends the
/// upstream's, `127.0.0.1:8080`) and local health checks use them, and no
/// rebinding page can make a browser send them. Only the host name counts,
/// not the port (a proxy may listen on another port than the shim).
public enum HostPolicy {
    /// Whether `authority` (the request's `Host`, `host[:port]`) may be
    /// answered; `hosts` are lower-case host names (`RedirectURI.host` form,
    /// IPv6 in brackets). An absent `Host` (HTTP/1.0) is not the client's
    /// choice of name and is accepted.
    public static func allows(_ authority: String?, hosts: Set<String>) -> Bool {
        guard let authority else { return true }
        guard let name = hostname(authority) else { return false }
        return hosts.contains(name) || RedirectURI.isLoopbackHost(name)
    }

    /// The lower-case host name of `host[:port]` (one trailing dot of a
    /// fully qualified name removed); nil for anything else (userinfo,
    /// spaces, a bad port, an empty name).
    public static func hostname(_ authority: String) -> String? {
        let bytes = Array(authority.utf8)
        guard !bytes.isEmpty, bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "@") && $0 != UInt8(ascii: "/") }) else {
            return nil
        }
        var hostEnd = bytes.count
        if bytes[0] == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            hostEnd = close + 1
        } else if let colon = bytes.lastIndex(of: UInt8(ascii: ":")) {
            hostEnd = colon
        }
        if hostEnd < bytes.count {
            let port = bytes[(hostEnd + 1)...]
            guard bytes[hostEnd] == UInt8(ascii: ":"), port.count <= 5, port.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
            else { return nil }
        }
        var host = bytes[..<hostEnd].map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 }
        if host.count > 1, host.last == UInt8(ascii: ".") { host.removeLast() }
        guard !host.isEmpty, bytes[0] == UInt8(ascii: "[") || !host.contains(UInt8(ascii: ":")) else { return nil }
        return String(decoding: host, as: UTF8.self)
    }
}
