/// Leg 1 of Enterprise-Managed Authorization: the operator's policy for
/// issuing ID-JAGs (`ema.policy`). The draft §4.3.1: "The IdP evaluates
/// administrator-defined policy for the token exchange request and
/// determines if the client should be granted access to act on behalf of
/// the subject for the target audience, resources, scopes"; "The granted
/// scopes MAY be a subset of the requested scopes based on policy".
/// Nothing is allowed unless a rule allows it.
public enum EMAPolicy {
    /// Who asks, for whom, for what.
    public struct Request: Sendable, Equatable {
        /// The authenticated client application (also the ID token's `aud`).
        public var client: String
        public var subject: String
        public var groups: [String]
        public var tenant: String?
        public var audience: String
        public var resource: String
        /// The requested scopes; nil for "what the rule allows".
        public var scope: String?

        public init(client: String, subject: String, groups: [String], tenant: String?, audience: String, resource: String, scope: String?) {
            self.client = client
            self.subject = subject
            self.groups = groups
            self.tenant = tenant
            self.audience = audience
            self.resource = resource
            self.scope = scope
        }
    }

    /// What is granted: the ID-JAG's `client_id` at the audience, and its scopes.
    public struct Decision: Sendable, Equatable {
        public var clientID: String
        public var scope: ScopeSet

        public init(clientID: String, scope: ScopeSet) {
            self.clientID = clientID
            self.scope = scope
        }
    }

    /// The first rule that matches client, user (subject or group, when the
    /// rule names any), tenant (when named), audience and resource, and
    /// grants at least one scope. `access_denied` otherwise, with a reason
    /// the client may see (it names no rule).
    public static func decide(_ request: Request, rules: [EMAPolicyRule]) throws(OAuthError) -> Decision {
        var sawScopeProblem = false
        for rule in rules where applies(rule, to: request) {
            let granted = request.scope.map { ScopeSet($0).values.filter(rule.scopes.contains) } ?? rule.scopes
            if granted.isEmpty {
                sawScopeProblem = true
                continue
            }
            return Decision(clientID: rule.clientID, scope: ScopeSet(values: granted))
        }
        if sawScopeProblem {
            throw OAuthError(.accessDenied, "the policy grants none of the requested scopes for this resource")
        }
        throw OAuthError(.accessDenied, "the policy does not allow this client to obtain an ID-JAG for this user, audience and resource")
    }

    static func applies(_ rule: EMAPolicyRule, to request: Request) -> Bool {
        guard rule.clients.contains(request.client), rule.audience == request.audience, rule.resources.contains(request.resource) else {
            return false
        }
        if !rule.tenants.isEmpty {
            guard let tenant = request.tenant, rule.tenants.contains(tenant) else { return false }
        }
        if rule.subjects.isEmpty && rule.groups.isEmpty { return true }
        return rule.subjects.contains(request.subject) || rule.subjects.contains("*")
            || rule.groups.contains(where: request.groups.contains)
    }
}
