/// OIDC Dynamic Client Registration §2 `application_type`, which MCP
/// 2026-07-28 (SEP-837) requires clients to send: "native" for desktop,
/// mobile and CLI applications and locally hosted web applications reached
/// through localhost; "web" for remote browser-based applications.
///
/// The redirect URIs must fit the declared type, on top of rule 1:
/// - `native` (RFC 8252 §7): a private-use scheme (§7.1), a claimed https
///   URI on a real host (§7.2), or http on loopback (§7.3); not https on a
///   loopback host (§8.3: loopback redirects use http).
/// - `web`: https on a host that is not loopback (OIDC §2: web clients "MUST
///   NOT use localhost as the hostname"; SEP-837 sends localhost-hosted apps
///   to `native`); no private-use scheme, no plain http.
///
/// When a client sends no `application_type`, no type rule applies and none
/// is echoed. OIDC's default is `web`, which would refuse the loopback
/// redirects of every client written before SEP-837; the shim is not an
/// OpenID Provider (it issues no ID tokens), and SEP-837 itself notes that
/// non-OIDC servers "safely ignore the parameter". The shim goes one step
/// further and holds a client to the type it declares.
public enum ApplicationType: String, Sendable, Equatable, Codable {
    case web, native

    /// `application_type` as sent; anything but the two OIDC values is
    /// `invalid_client_metadata`.
    static func parse(_ member: Member<String>) throws(OAuthError) -> ApplicationType? {
        switch member {
        case .absent: return nil
        case .present(let name): if let type = ApplicationType(rawValue: name) { return type }
        case .wrongType: break
        }
        throw OAuthError(.invalidClientMetadata, "application_type must be \"web\" or \"native\" (OpenID Connect Registration §2)")
    }

    /// The redirect URI fits this type (see the type's documentation);
    /// `uri` has already passed rule 1's shape check.
    public func checkRedirect(_ raw: String) throws(OAuthError) {
        guard let uri = RedirectURI(raw) else { return }
        switch (self, uri.scheme) {
        case (.native, "https") where uri.isLoopback:
            throw OAuthError(.invalidRedirectURI, "a native application's loopback redirect_uri uses http, not https (RFC 8252 §8.3): \(raw)")
        case (.native, _):
            return
        case (.web, "https") where uri.isLoopback:
            throw OAuthError(
                .invalidRedirectURI,
                "a web application's redirect_uri must not be on localhost; register as application_type \"native\" (SEP-837): \(raw)")
        case (.web, "https"):
            return
        case (.web, _):
            throw OAuthError(.invalidRedirectURI, Self.webNeedsHTTPS(uri, raw))
        }
    }

    /// The refusal of a non-https redirect for a `web` client, naming the
    /// fix: generic OAuth clients (oidc-agent) send `web`, OIDC's default,
    /// with an `http://localhost` redirect, and must learn that they are
    /// `native` clients (SEP-837).
    static func webNeedsHTTPS(_ uri: RedirectURI, _ raw: String) -> String {
        let fix =
            uri.scheme == "http" && uri.isLoopback
            ? "a client that redirects to http://localhost (or 127.0.0.1, [::1]) registers as application_type \"native\""
            : "a client that redirects to an app's own scheme registers as application_type \"native\""
        return "application_type \"web\" requires https redirect URIs on a public host; \(fix) (SEP-837): \(raw)"
    }
}
