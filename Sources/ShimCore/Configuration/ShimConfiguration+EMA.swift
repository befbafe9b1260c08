/// `ema.*`: Enterprise-Managed Authorization (SEP-990, ID-JAG). Leg 2: which
/// issuers' ID-JAGs the shim accepts as jwt-bearer grants, and the clients
/// that may present them. Leg 1: whether the shim issues ID-JAGs from an
/// upstream ID token, and the operator's policy for it.
public struct EMAConfiguration: Sendable, Equatable {
    /// `ema.trusted_issuers`: whose ID-JAGs are accepted (leg 2).
    public var trustedIssuers: [TrustedIssuer] = []
    /// `ema.clients`: confidential clients configured here (not registered):
    /// they present ID-JAGs (leg 2) or ask for them (leg 1).
    public var clients: [EMAClient] = []
    /// `ema.max_assertion_lifetime` (default 10m): an ID-JAG whose `exp - iat`
    /// is longer is refused (RFC 7523 §3 item 4: "unreasonably far" expiry).
    public var maxAssertionLifetimeSeconds = 600
    /// `ema.insecure_private_hosts`: exact JWKS hosts that may resolve to
    /// loopback or private addresses (tests, private deployments).
    public var insecurePrivateHosts: [String] = []
    /// `ema.insecure_ca` (`_file`): PEM CA certificates trusted for JWKS fetches.
    public var insecureCA: String?
    /// `ema.issuer.*`: leg 1.
    public var issuer = EMAIssuer()
    /// `ema.policy`: who may obtain ID-JAGs for what (leg 1); deny by default.
    public var policy: [EMAPolicyRule] = []

    public init() {}

    /// Leg 2 is on when an issuer is trusted or the shim accepts its own ID-JAGs.
    public var acceptsAssertions: Bool { !trustedIssuers.isEmpty || issuer.enabled }
}

/// One `ema.trusted_issuers[i]`.
public struct TrustedIssuer: Sendable, Equatable {
    /// `issuer`: the ID-JAG's `iss`, exactly.
    public var issuer: String
    /// `jwks_uri`: its keys, fetched over https under rule 11
    /// (64 KB, 10 s, cached; an unknown `kid` refetches at most every 30 s).
    public var jwksURI: String?
    /// `jwks` (`_file`): its keys inline, as a JWKS JSON document.
    public var jwks: String?
    /// `algorithms` (default `[RS256, ES256]`): the `alg` values accepted
    /// from it; asymmetric only.
    public var algorithms: [String]
    /// `allow_without_resource` (default false): accept its ID-JAGs that name
    /// no `resource` (the client's `resource` parameter then chooses among the
    /// served resources). Off, such an ID-JAG is refused: it would grant
    /// every scope of any resource the client asks for.
    public var allowWithoutResource: Bool
    /// `email_authoritative` (default false): its ID-JAGs' `email` (with
    /// `email_verified: true`) is copied into grants, tokens and
    /// `X-Forwarded-Email` (rule 13). Off, its users have no email at the
    /// shim: any issuer can put any address in an assertion, and only one
    /// that owns the address's domain should be believed.
    public var emailAuthoritative: Bool

    public init(
        issuer: String, jwksURI: String? = nil, jwks: String? = nil, algorithms: [String] = ["RS256", "ES256"],
        allowWithoutResource: Bool = false, emailAuthoritative: Bool = false
    ) {
        self.issuer = issuer
        self.jwksURI = jwksURI
        self.jwks = jwks
        self.algorithms = algorithms
        self.allowWithoutResource = allowWithoutResource
        self.emailAuthoritative = emailAuthoritative
    }
}

/// One `ema.clients[i]`: `id`, `secret` (`secret_file`) and
/// `token_endpoint_auth_method` (`client_secret_post`, the SDK's default, or
/// `client_secret_basic`).
public struct EMAClient: Sendable, Equatable {
    public var id: String
    public var secret: String
    public var authMethod: String

    public init(id: String, secret: String, authMethod: String = "client_secret_post") {
        self.id = id
        self.secret = secret
        self.authMethod = authMethod
    }
}

/// `ema.issuer.*`.
public struct EMAIssuer: Sendable, Equatable {
    /// `enabled` (default false): RFC 8693 token exchange of an upstream ID
    /// token for an ID-JAG signed with the shim's keys.
    public var enabled = false
    /// `lifetime` (default 5m): of an issued ID-JAG.
    public var lifetimeSeconds = 300
    /// `groups_claim` (default `groups`): the ID-token claim policy `groups` match.
    public var groupsClaim = "groups"

    public init() {}
}

/// One `ema.policy[i]`: an exchange is allowed when a rule names the asking
/// client application, the user (or one of their groups, or any user), the
/// audience and the resource; it grants the requested scopes it lists.
public struct EMAPolicyRule: Sendable, Equatable {
    /// `clients`: applications (the ID token's `aud`, the authenticated
    /// `ema.clients` id) the rule applies to.
    public var clients: [String]
    /// `subjects` (default: any): the users (`sub`) it applies to.
    public var subjects: [String]
    /// `groups` (default: any): it applies to members of one of them.
    public var groups: [String]
    /// `tenants` (default: any): the ID token's `tid` (Entra) must be one.
    public var tenants: [String]
    /// `audience`: the target authorization server's issuer.
    public var audience: String
    /// `resources`: the resources an ID-JAG may name.
    public var resources: [String]
    /// `scopes`: the most an ID-JAG may carry.
    public var scopes: [String]
    /// `client_id`: the client's id AT the target authorization server (the
    /// ID-JAG's `client_id` claim; the draft §6 "Client ID mapping").
    public var clientID: String

    public init(
        clients: [String], subjects: [String] = [], groups: [String] = [], tenants: [String] = [], audience: String,
        resources: [String], scopes: [String], clientID: String
    ) {
        self.clients = clients
        self.subjects = subjects
        self.groups = groups
        self.tenants = tenants
        self.audience = audience
        self.resources = resources
        self.scopes = scopes
        self.clientID = clientID
    }
}

extension EMAConfiguration {
    static func read(_ r: inout ConfigReader) -> EMAConfiguration {
        var ema = EMAConfiguration()
        for i in 0..<r.count("ema.trusted_issuers") {
            let key = "ema.trusted_issuers[\(i)]"
            ema.trustedIssuers.append(
                TrustedIssuer(
                    issuer: r.string(key + ".issuer") ?? "", jwksURI: r.string(key + ".jwks_uri"),
                    jwks: r.secret(key + ".jwks"),
                    algorithms: r.stringList(key + ".algorithms", default: ["RS256", "ES256"]),
                    allowWithoutResource: r.bool(key + ".allow_without_resource", default: false),
                    emailAuthoritative: r.bool(key + ".email_authoritative", default: false)))
        }
        for i in 0..<r.count("ema.clients") {
            let key = "ema.clients[\(i)]"
            ema.clients.append(
                EMAClient(
                    id: r.string(key + ".id") ?? "", secret: r.secret(key + ".secret") ?? "",
                    authMethod: r.string(key + ".token_endpoint_auth_method", default: "client_secret_post")!))
        }
        ema.maxAssertionLifetimeSeconds = r.duration("ema.max_assertion_lifetime", default: 600, range: 60...3600)
        ema.insecurePrivateHosts = r.stringList("ema.insecure_private_hosts", default: [])
        ema.insecureCA = r.secret("ema.insecure_ca")
        ema.issuer.enabled = r.bool("ema.issuer.enabled", default: false)
        ema.issuer.lifetimeSeconds = r.duration("ema.issuer.lifetime", default: 300, range: 30...3600)
        ema.issuer.groupsClaim = r.string("ema.issuer.groups_claim", default: "groups")!
        for i in 0..<r.count("ema.policy") {
            let key = "ema.policy[\(i)]"
            ema.policy.append(
                EMAPolicyRule(
                    clients: r.stringList(key + ".clients", default: []), subjects: r.stringList(key + ".subjects", default: []),
                    groups: r.stringList(key + ".groups", default: []), tenants: r.stringList(key + ".tenants", default: []),
                    audience: r.string(key + ".audience") ?? "", resources: r.stringList(key + ".resources", default: []),
                    scopes: r.stringList(key + ".scopes", default: []), clientID: r.string(key + ".client_id") ?? ""))
        }
        return ema
    }
}
