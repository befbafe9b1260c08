/// Rule 17: CORS on the authorization server's public endpoints, for MCP
/// clients that run the OAuth flow in a browser (WHATWG Fetch, "CORS
/// protocol").
///
/// Discovery, registration, the token and revocation endpoints and the key
/// set read no cookie and no other ambient credential: a client
/// authenticates with what it puts in the body or sets in `Authorization`
/// itself. So any origin may call them, and every answer says so with
/// `Access-Control-Allow-Origin: *` and never `Access-Control-Allow-Credentials`
/// (Fetch: a browser refuses `*` for a request made with credentials, so a
/// page that sends cookies still cannot read the answer). The answer does
/// not depend on the request's `Origin`, so a cached document stays right
/// without `Vary`.
///
/// The browser-navigation endpoints (/authorize, /consent, /callback) carry
/// the consent cookie and its CSRF defences (rules 4 and 5), and
/// /introspect is for resource servers calling server to server: they get
/// no CORS headers, and a preflight to them is not answered.
extension CORSPolicy {
    /// The methods an authorization server endpoint takes, as
    /// `Access-Control-Allow-Methods` says them, or nil when the path gets no
    /// CORS. `pathPrefix` is the issuer's path ("" or "/auth"): RFC 8414
    /// §3.1 inserts it after the well-known name, OpenID Connect Discovery §4.1 appends
    /// the well-known name to it; the endpoints live below it.
    public static func authorizationServerMethods(path: String, pathPrefix: String) -> String? {
        let documents = [
            "/.well-known/oauth-authorization-server" + pathPrefix, pathPrefix + "/.well-known/openid-configuration",
            "/.well-known/openid-configuration" + pathPrefix, pathPrefix + "/jwks.json",
        ]
        if documents.contains(path) { return "GET, OPTIONS" }
        if ["/register", "/token", "/revoke"].contains(where: { pathPrefix + $0 == path }) { return "POST, OPTIONS" }
        return nil
    }

    /// Request headers a browser OAuth client sets: the JSON body's type at
    /// registration, its HTTP Basic credentials at /token and /revoke, and
    /// the protocol version MCP SDKs send with discovery. A fixed list: a
    /// header the preflight asks for beyond it is not echoed, and the browser
    /// does not send it.
    public static let authorizationServerAllowedHeaders = "Authorization, Content-Type, MCP-Protocol-Version"

    /// Readable beyond the safelisted response headers: the Basic challenge
    /// of a 401 `invalid_client` (RFC 6749 §5.2) and the wait of a 429 or a
    /// `temporarily_unavailable`.
    public static let authorizationServerExposedHeaders = "WWW-Authenticate, Retry-After"

    /// The answer (204) to a preflight, for any origin.
    public static func authorizationServerPreflightHeaders(methods: String) -> [(name: String, value: String)] {
        [
            (name: "Access-Control-Allow-Origin", value: "*"), (name: "Access-Control-Allow-Methods", value: methods),
            (name: "Access-Control-Allow-Headers", value: authorizationServerAllowedHeaders),
            (name: "Access-Control-Max-Age", value: String(maxAgeSeconds)),
        ]
    }

    /// Added to every answer of these endpoints, errors included.
    public static let authorizationServerResponseHeaders: [(name: String, value: String)] = [
        (name: "Access-Control-Allow-Origin", value: "*"), (name: "Access-Control-Expose-Headers", value: authorizationServerExposedHeaders),
    ]
}
