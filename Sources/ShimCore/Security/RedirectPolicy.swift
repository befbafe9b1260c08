import Foundation

/// Security rules 1 and 2: which redirect URIs a client may register, and
/// whether the one presented at /authorize is one it registered.
public struct RedirectPolicy: Sendable {
    public let allowlist: RedirectAllowlist

    public init(allowlist: RedirectAllowlist) {
        self.allowlist = allowlist
    }

    /// Rule 1, at registration (RFC 7591 §2, RFC 8252 §7, OAuth 2.1 §2.3.1,
    /// MCP authorization spec "Redirect URIs must be either localhost or HTTPS").
    public func checkRegistration(_ raw: String) throws(OAuthError) {
        // A private-use scheme without a dot (Cursor's `cursor://`) passes only
        // when the operator's allowlist names that exact URI.
        try Self.checkShape(raw, operatorListed: allowlist.listsExactly(raw))
        guard allowlist.permits(raw) else {
            throw OAuthError(.invalidRedirectURI, "redirect_uri is not on this server's allowlist")
        }
    }

    /// The shape half of rule 1, without the allowlist (also used to validate
    /// the operator's own allowlist entries in check-config).
    /// - Parameter operatorListed: the URI is written out in the operator's
    ///   allowlist, which vouches for a private-use scheme without a dot.
    public static func checkShape(_ raw: String, operatorListed: Bool = false) throws(OAuthError) {
        guard let uri = RedirectURI(raw) else {
            throw OAuthError(.invalidRedirectURI, "redirect_uri must be an absolute URI of printable ASCII")
        }
        // RFC 6749 §3.1.2: "The endpoint URI MUST NOT include a fragment component."
        guard !uri.hasFragment else { throw OAuthError(.invalidRedirectURI, "redirect_uri must not contain a fragment") }
        // Userinfo makes `https://good.example@evil.example/` look like good.example.
        guard !uri.hasUserinfo else { throw OAuthError(.invalidRedirectURI, "redirect_uri must not contain userinfo") }
        guard !uri.raw.utf8.contains(UInt8(ascii: "*")) else { throw OAuthError(.invalidRedirectURI, "redirect_uri must not contain a wildcard") }
        guard !Self.hasDotSegment(uri.path) else {
            throw OAuthError(.invalidRedirectURI, "redirect_uri must not contain dot-segments")
        }
        guard !uri.host.isEmpty || uri.scheme != "https" && uri.scheme != "http" else {
            throw OAuthError(.invalidRedirectURI, "redirect_uri must name a host")
        }
        if !uri.hasAuthority {
            // RFC 8252 §7.1 `com.example.app:/path`: only a reverse-domain scheme
            // ("MUST use ... a domain name under their control, expressed in
            // reverse order"), even when the operator lists the URI.
            guard uri.scheme.contains("."), !Self.dangerousSchemes.contains(uri.scheme) else {
                throw OAuthError(.invalidRedirectURI, "a redirect_uri without // must use a reverse-domain scheme such as com.example.app:/callback")
            }
            return
        }
        guard Self.isValidHost(uri.host) else { throw OAuthError(.invalidRedirectURI, "redirect_uri host is not valid") }
        switch uri.scheme {
        case "https":
            return
        case "http":
            // RFC 8252 §7.3 and OAuth 2.1 §2.3.1: plain http only for loopback.
            guard uri.isLoopback else {
                throw OAuthError(.invalidRedirectURI, "http redirect_uri is allowed only on loopback (127.0.0.1, [::1], localhost)")
            }
        default:
            // RFC 8252 §7.1: private-use schemes use reverse domain names,
            // so a scheme without a dot (javascript:, data:, file:, ...) is refused.
            guard uri.scheme.contains(".") || operatorListed, !Self.dangerousSchemes.contains(uri.scheme) else {
                throw OAuthError(.invalidRedirectURI, "redirect_uri scheme must be https, loopback http or a private-use scheme with a dot")
            }
        }
    }

    /// Rule 1 again at /authorize: the operator's
    /// allowlist as configured NOW must still admit the redirect URI, so
    /// that removing a URI or a bundle from `redirects.*` takes effect for
    /// clients that registered before the change. `requested` is the URI
    /// the code would be sent to (rule 2 has matched it to a registration).
    public func stillAllowed(_ requested: String) -> Bool {
        (try? checkRegistration(requested)) != nil
    }

    /// Rule 2 at /authorize (RFC 6749 §3.1.2.3 exact match; RFC 8252 §7.3: the
    /// authorization server MUST allow any port for loopback IP redirects).
    public static func matches(requested: String, registered: [String]) -> String? {
        // Byte equality: Swift's String == treats canonically equivalent
        // strings as equal (U+212A KELVIN SIGN == "K"), which is not exact.
        if registered.contains(where: { $0.utf8.elementsEqual(requested.utf8) }) { return requested }
        guard let asked = RedirectURI(requested), asked.scheme == "http", asked.isLoopback,
            !asked.hasFragment, !asked.hasUserinfo
        else { return nil }
        for candidate in registered {
            guard let known = RedirectURI(candidate), known.scheme == "http", known.isLoopback else { continue }
            if known.withoutPort == asked.withoutPort { return candidate }
        }
        return nil
    }

    /// RFC 3986 §5.2.4 dot-segments, also percent-encoded (`%2e`, `%2E`) and
    /// with encoded slashes (`%2f`), which some servers decode before routing.
    static func hasDotSegment(_ path: String) -> Bool {
        // One pass over the bytes: `%2e` counts as '.', `%2f` and `%5c` as '/'
        // (either case), then each segment is compared with "." and "..".
        var segmentLength = 0
        var dots = 0
        var bytes = path.utf8[...]
        while !bytes.isEmpty {
            var byte = bytes.removeFirst()
            if byte == UInt8(ascii: "%"), bytes.count >= 2 {
                let hi = bytes[bytes.startIndex]
                let lo = bytes[bytes.index(after: bytes.startIndex)] | 0x20
                switch (hi, lo) {
                case (UInt8(ascii: "2"), UInt8(ascii: "e")):
                    byte = UInt8(ascii: ".")
                    bytes = bytes.dropFirst(2)
                case (UInt8(ascii: "2"), UInt8(ascii: "f")), (UInt8(ascii: "5"), UInt8(ascii: "c")):
                    byte = UInt8(ascii: "/")
                    bytes = bytes.dropFirst(2)
                default: break
                }
            }
            if byte == UInt8(ascii: "/") {
                if segmentLength > 0, segmentLength == dots, dots <= 2 { return true }
                segmentLength = 0
                dots = 0
            } else {
                segmentLength += 1
                if byte == UInt8(ascii: ".") { dots += 1 }
            }
        }
        return segmentLength > 0 && segmentLength == dots && dots <= 2
    }

    /// A registered name of letters, digits, '-' and '.', or a bracketed IPv6
    /// literal: no percent-encoding or other characters a browser would
    /// reinterpret (IDN must arrive as punycode).
    /// `isValidHost`, for other modules (the guarded fetcher judges hosts the same way).
    public static func isPlainHost(_ host: String) -> Bool { isValidHost(host) }

    static func isValidHost(_ host: String) -> Bool {
        let bytes = host.utf8
        if bytes.first == UInt8(ascii: "[") {
            return bytes.last == UInt8(ascii: "]") && bytes.count > 2
                && bytes.dropFirst().dropLast().allSatisfy { isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }
        }
        guard !bytes.isEmpty, bytes.count <= 253, bytes.first != UInt8(ascii: "."), bytes.first != UInt8(ascii: "-") else { return false }
        return bytes.allSatisfy { RedirectURI.isLetter($0) || RedirectURI.isDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
    }

    static func isHexDigit(_ byte: UInt8) -> Bool {
        RedirectURI.isDigit(byte) || ((byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "f"))
    }

    static let dangerousSchemes: Set<String> = [
        "javascript", "data", "file", "vbscript", "about", "blob", "ftp", "ws", "wss", "mailto", "tel", "chrome", "view-source",
    ]
}
