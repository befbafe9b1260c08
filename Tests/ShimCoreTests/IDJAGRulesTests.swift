import Foundation
import ShimCore
import Testing

/// Leg 2 (draft-ietf-oauth-identity-assertion-authz-grant §4.4.1, RFC 7523 §3):
/// every check on an ID-JAG presented as a jwt-bearer grant, each with its
/// own refusal.
@Suite("EMA leg 2: ID-JAG rules")
struct IDJAGRulesTests {
    static let idp = "https://idp.example.com"
    static let shim = "https://auth.example.com"
    static let resource = "https://mcp.example.com/mcp"
    static let now = 1_800_000_000
    static let policy = ResourcePolicy(
        resources: [
            .init(resource: resource, scopes: ["mcp.read", "mcp.write"]),
            .init(resource: "https://other.example.com/mcp", scopes: ["other"]),
        ],
        upstreamScopes: ["openid"])

    static func claims(_ change: (inout IDJAGClaims) -> Void = { _ in }) -> IDJAGClaims {
        var claims = IDJAGClaims(
            issuer: idp, subject: "U019488227", audience: [shim], clientID: "mcp-client", tokenID: "jti-1",
            expiresAt: now + 300, issuedAt: now, resources: [resource], scope: "mcp.read")
        change(&claims)
        return claims
    }

    static func check(
        _ claims: IDJAGClaims, client: String = "mcp-client", resource: String? = nil,
        scope: String? = nil
    ) throws(OAuthError) -> IDJAGRules.Grant {
        try IDJAGRules.check(
            claims, trustedIssuer: idp, audience: shim, clientID: client, requestedResource: resource,
            requestedScope: scope, policy: policy, now: now, maxLifetime: 600)
    }

    // An ID-JAG that names no resource would otherwise grant every scope of any
    // resource the client asks for: refused unless the issuer's entry says its
    // ID-JAGs may omit it (ema.trusted_issuers[i].allow_without_resource).
    @Test("an ID-JAG that names no resource is refused unless its issuer is allowed to omit it")
    func withoutResource() throws {
        let bare = Self.claims {
            $0.resources = []
            $0.scope = nil
        }
        #expect(throws: OAuthError.invalidGrant("the assertion is not accepted: it names no resource")) {
            try Self.check(bare, resource: Self.resource)
        }
        let granted = try IDJAGRules.check(
            bare, trustedIssuer: Self.idp, audience: Self.shim, clientID: "mcp-client",
            requestedResource: Self.resource, requestedScope: nil, policy: Self.policy, now: Self.now,
            maxLifetime: 600, resourceRequired: false)
        #expect(granted.resource == Self.resource)
    }

    @Test("a good ID-JAG grants its user, resource and scope")
    func good() throws {
        #expect(try Self.check(Self.claims()) == .init(subject: "U019488227", resource: Self.resource, scope: ScopeSet("mcp.read")))
        #expect(try Self.check(Self.claims(), resource: Self.resource).resource == Self.resource)
        // No scope in the ID-JAG: the resource's own scopes; the request's scope narrows.
        #expect(try Self.check(Self.claims { $0.scope = nil }).scope == ScopeSet("mcp.read mcp.write"))
        #expect(try Self.check(Self.claims { $0.scope = "mcp.read mcp.write" }, scope: "mcp.write").scope == ScopeSet("mcp.write"))
        // Scopes the resource does not offer are dropped (a subset may be granted).
        #expect(try Self.check(Self.claims { $0.scope = "mcp.read admin" }).scope == ScopeSet("mcp.read"))
    }

    @Test(
        "refusals, each a clear invalid_grant (invalid_target for the resource)",
        arguments: [
            ("untrusted issuer", claims { $0.issuer = "https://evil.example" }, "mcp-client", nil as String?, "invalid_grant", "issuer"),
            ("wrong audience", claims { $0.audience = ["https://other-as.example"] }, "mcp-client", nil, "invalid_grant", "audience"),
            ("audience of two", claims { $0.audience = [shim, "https://other-as.example"] }, "mcp-client", nil, "invalid_grant", "audience"),
            ("audience with a slash", claims { $0.audience = [shim + "/"] }, "mcp-client", nil, "invalid_grant", "audience"),
            ("client_id mismatch", claims(), "another-client", nil, "invalid_grant", "another client"),
            ("expired", claims { $0.expiresAt = now }, "mcp-client", nil, "invalid_grant", "expired"),
            (
                "future iat",
                claims {
                    $0.issuedAt = now + 120
                    $0.expiresAt = now + 400
                }, "mcp-client", nil, "invalid_grant", "future"
            ),
            ("not yet valid", claims { $0.notBefore = now + 120 }, "mcp-client", nil, "invalid_grant", "not valid yet"),
            ("lifetime too long", claims { $0.expiresAt = now + 3600 }, "mcp-client", nil, "invalid_grant", "lifetime"),
            ("no subject", claims { $0.subject = "" }, "mcp-client", nil, "invalid_grant", "subject"),
            ("no jti", claims { $0.tokenID = "" }, "mcp-client", nil, "invalid_grant", "jti"),
            (
                "unknown resource in the ID-JAG", claims { $0.resources = ["https://unknown.example.com/mcp"] }, "mcp-client", nil, "invalid_grant",
                "resource"
            ),
            (
                "unknown resource asked for", claims { $0.resources = [resource, "https://unknown.example.com/mcp"] }, "mcp-client",
                "https://unknown.example.com/mcp", "invalid_target", "resource"
            ),
            (
                "request for a resource the ID-JAG does not grant", claims(), "mcp-client", "https://other.example.com/mcp", "invalid_grant",
                "resource"
            ),
            ("no resource anywhere", claims { $0.resources = [] }, "mcp-client", nil, "invalid_grant", "resource"),
            (
                "two resources, none asked for", claims { $0.resources = [resource, "https://other.example.com/mcp"] }, "mcp-client", nil,
                "invalid_target", "resource"
            ),
            ("no scope offered", claims { $0.scope = "admin" }, "mcp-client", nil, "invalid_grant", "scopes"),
        ])
    func refusals(_ name: String, _ claims: IDJAGClaims, _ client: String, _ resource: String?, _ code: String, _ words: String) {
        do {
            _ = try Self.check(claims, client: client, resource: resource)
            Issue.record("\(name): accepted")
        } catch {
            #expect(error.code.rawValue == code, "\(name): \(error)")
            #expect(error.description.contains(words), "\(name): \(error.description)")
            #expect(error.status == 400)
        }
    }

    @Test(
        "header: typ oauth-id-jag+jwt, alg from the configured list and asymmetric only, no crit",
        arguments: [
            (JOSEHeader(alg: "RS256", typ: "oauth-id-jag+jwt", kid: "k"), nil as TokenProblem?),
            (JOSEHeader(alg: "ES256", typ: "application/oauth-id-jag+jwt", kid: nil), nil),
            (JOSEHeader(alg: "RS256", typ: "JWT", kid: "k"), TokenProblem.wrongType(expected: "oauth-id-jag+jwt")),
            (JOSEHeader(alg: "RS256", typ: "at+jwt", kid: "k"), .wrongType(expected: "oauth-id-jag+jwt")),  // an access token is not a grant
            (JOSEHeader(alg: "RS256", typ: nil, kid: "k"), .wrongType(expected: "oauth-id-jag+jwt")),
            (JOSEHeader(alg: "none", typ: "oauth-id-jag+jwt", kid: "k"), .wrongAlgorithm),
            (JOSEHeader(alg: "HS256", typ: "oauth-id-jag+jwt", kid: "k"), .wrongAlgorithm),  // HMAC keyed with the public key
            (JOSEHeader(alg: "PS256", typ: "oauth-id-jag+jwt", kid: "k"), .wrongAlgorithm),  // not configured for this issuer
            (JOSEHeader(alg: "RS256", typ: "oauth-id-jag+jwt", kid: "k", crit: ["exp"]), .unsupportedCritical),
        ])
    func header(_ header: JOSEHeader, _ expected: TokenProblem?) {
        let configured: Set<String> = ["RS256", "ES256", "HS256"]  // HS256 listed by mistake is still refused
        if let expected {
            #expect(throws: expected) { try IDJAGRules.checkHeader(header, algorithms: configured) }
        } else {
            #expect(throws: Never.self) { try IDJAGRules.checkHeader(header, algorithms: configured) }
        }
    }

    @Test("claims coding: aud and resource as a string or an array, extra claims kept, typed fields required")
    func coding() throws {
        let json =
            #"{"iss":"i","sub":"s","aud":["a"],"client_id":"c","jti":"j","exp":2,"iat":1,"resource":["r1","r2"],"scope":"x","email":"e@x","amr":["mfa"]}"#
        let claims = try JSONDecoder().decode(IDJAGClaims.self, from: Data(json.utf8))
        #expect(claims.audience == ["a"] && claims.resources == ["r1", "r2"] && claims.scope == "x")
        #expect(claims.extra == ["email": .string("e@x"), "amr": .array([.string("mfa")])])
        let back = try JSONDecoder().decode(IDJAGClaims.self, from: try JSONEncoder().encode(claims))
        #expect(back == claims)
        for missing in ["iss", "sub", "client_id", "jti", "exp", "iat"] {
            var object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            object[missing] = nil
            #expect(throws: (any Error).self, "\(missing)") {
                try JSONDecoder().decode(IDJAGClaims.self, from: try JSONSerialization.data(withJSONObject: object))
            }
        }
    }
}

/// Leg 1: the operator's policy (`ema.policy`), deny by default.
@Suite("EMA leg 1: issuance policy")
struct EMAPolicyTests {
    static let rules = [
        EMAPolicyRule(
            clients: ["wiki-app"], groups: ["engineering"], audience: "https://as.example", resources: ["https://mcp.example/mcp"],
            scopes: ["mcp.read", "mcp.write"], clientID: "wiki-at-as"),
        EMAPolicyRule(
            clients: ["wiki-app"], subjects: ["alice"], tenants: ["t-1"], audience: "https://as.example",
            resources: ["https://mcp.example/mcp"], scopes: ["mcp.read"], clientID: "wiki-at-as"),
        EMAPolicyRule(
            clients: ["chat-app"], audience: "https://as.example", resources: ["https://mcp.example/mcp"], scopes: ["mcp.read"],
            clientID: "chat-at-as"),
    ]

    static func request(
        client: String = "wiki-app", subject: String = "bob", groups: [String] = ["engineering"], tenant: String? = nil,
        audience: String = "https://as.example", resource: String = "https://mcp.example/mcp",
        scope: String? = nil
    ) -> EMAPolicy.Request {
        .init(client: client, subject: subject, groups: groups, tenant: tenant, audience: audience, resource: resource, scope: scope)
    }

    @Test("allowed: by group, by subject with tenant, by client for anyone; scopes narrowed to the rule's")
    func allowed() throws {
        #expect(try EMAPolicy.decide(Self.request(), rules: Self.rules) == .init(clientID: "wiki-at-as", scope: ScopeSet("mcp.read mcp.write")))
        #expect(try EMAPolicy.decide(Self.request(scope: "mcp.write admin"), rules: Self.rules).scope == ScopeSet("mcp.write"))
        #expect(try EMAPolicy.decide(Self.request(subject: "alice", groups: [], tenant: "t-1"), rules: Self.rules).scope == ScopeSet("mcp.read"))
        #expect(try EMAPolicy.decide(Self.request(client: "chat-app", groups: []), rules: Self.rules).clientID == "chat-at-as")
    }

    @Test(
        "denied, access_denied",
        arguments: [
            request(client: "other-app"),  // application not in any rule
            request(groups: ["marketing"]),  // not in the group, not the subject
            request(subject: "alice", groups: [], tenant: "t-2"),  // the tenant does not match
            request(subject: "alice", groups: []),  // a tenant rule without tid
            request(audience: "https://evil-as.example"),  // another audience
            request(resource: "https://mcp.example/other"),  // another resource
            request(scope: "admin"),  // no scope granted
        ])
    func denied(_ request: EMAPolicy.Request) {
        do {
            _ = try EMAPolicy.decide(request, rules: Self.rules)
            Issue.record("allowed: \(request)")
        } catch {
            #expect(error.code == .accessDenied && error.status == 400, "\(error)")
        }
    }

    @Test("no rules: everything is denied")
    func empty() {
        #expect(throws: OAuthError.self) { try EMAPolicy.decide(Self.request(), rules: []) }
    }
}
