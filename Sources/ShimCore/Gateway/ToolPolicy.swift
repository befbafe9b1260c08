/// Per-tool authorization at the gateway (`resources[i].tools`,
/// docs/tokens-and-gateway.md, "Per-tool policy"): which MCP methods and
/// which tools a caller may use, by scope, group, app role and client.
///
/// Semantics, chosen to be read top to bottom like a firewall:
///
/// * With no rule for a resource, everything passes (the MCP server decides).
/// * With at least one rule, a request is **denied unless a rule allows it**.
/// * Rules are tried in order; the **first rule that matches decides**
///   (`allow: true` or `allow: false`). A rule matches when its target
///   matches (`tools` patterns for a `tools/call`, `methods` patterns for any
///   other method) and every condition it names holds: one of its `scopes`
///   is granted, one of its `groups` / `roles` is in the token's copied
///   `groups` / `roles` claim, the token's client is one of its `clients`.
/// * The protocol's own messages always pass, because no session works
///   without them: `initialize` (2026-07-28: `server/discover`), `ping`,
///   `notifications/…`, the client's
///   answers to the server's requests, and `tools/list`, whose answer is
///   filtered to the tools the caller may call (`ToolListFilter`).
public struct ToolPolicy: Sendable, Equatable {
    public var rules: [ToolRule]

    public init(rules: [ToolRule]) { self.rules = rules }

    /// What the policy says about one JSON-RPC request `method` (for a
    /// `tools/call`, with the tool's `name`).
    public func decide(method: String, name: String?, caller: ToolCaller) -> ToolDecision {
        guard !rules.isEmpty, !Self.alwaysAllowed(method) else { return .allow }
        let isCall = method == "tools/call"
        if isCall, name == nil { return .deny(rule: nil) }
        for (index, rule) in rules.enumerated() {
            let target = isCall ? ToolPattern.matchesAny(rule.tools, name ?? "") : ToolPattern.matchesAny(rule.methods, method)
            guard target, rule.conditionsHold(for: caller) else { continue }
            return rule.allow ? .allow : .deny(rule: index)
        }
        return .deny(rule: nil)
    }

    /// Whether `caller` may call the tool `name` (the `tools/list` filter).
    public func mayCall(_ name: String, caller: ToolCaller) -> Bool {
        decide(method: "tools/call", name: name, caller: caller) == .allow
    }

    /// Messages no rule governs (see the type's comment).
    public static func alwaysAllowed(_ method: String) -> Bool {
        ["initialize", "server/discover", "ping", "tools/list"].contains(method) || method.hasPrefix("notifications/")
    }

    /// Tool names written without `*` in the rules: bounded metric labels.
    public var namedTools: Set<String> {
        Set(rules.flatMap(\.tools).filter { !$0.contains("*") })
    }
}

/// One `resources[i].tools[j]` rule.
public struct ToolRule: Sendable, Equatable {
    /// `tools`: tool names or `*` patterns this rule governs for `tools/call`.
    public var tools: [String]
    /// `methods`: JSON-RPC methods or `*` patterns (other than `tools/call`),
    /// e.g. `resources/*`, `prompts/get`.
    public var methods: [String]
    /// `allow` (default true): what the rule decides when it matches.
    public var allow: Bool
    /// Conditions (each list: one of its entries suffices; every list given must hold).
    public var scopes: [String]
    public var groups: [String]
    public var roles: [String]
    public var clients: [String]

    public init(
        tools: [String] = [], methods: [String] = [], allow: Bool = true, scopes: [String] = [], groups: [String] = [],
        roles: [String] = [], clients: [String] = []
    ) {
        self.tools = tools
        self.methods = methods
        self.allow = allow
        self.scopes = scopes
        self.groups = groups
        self.roles = roles
        self.clients = clients
    }

    func conditionsHold(for caller: ToolCaller) -> Bool {
        (scopes.isEmpty || scopes.contains(where: caller.scopes.contains))
            && (groups.isEmpty || groups.contains(where: caller.groups.contains))
            && (roles.isEmpty || roles.contains(where: caller.roles.contains))
            && (clients.isEmpty || clients.contains(where: { ToolPattern.sameBytes($0, caller.clientID) }))
    }
}

/// The outcome for one request.
public enum ToolDecision: Sendable, Equatable {
    case allow
    /// `rule`: the index of the rule that denied it; nil when none matched (deny by default).
    case deny(rule: Int?)
}

/// Who is calling, from the validated issued token only: its client, its
/// scopes, and the `groups` and `roles` claims copied from the upstream ID
/// token (`tokens.claims`; Entra's security-group object ids and app roles).
public struct ToolCaller: Sendable, Equatable {
    public var clientID: String
    public var scopes: Set<String>
    public var groups: Set<String>
    public var roles: Set<String>

    public init(clientID: String, scopes: Set<String>, groups: Set<String> = [], roles: Set<String> = []) {
        self.clientID = clientID
        self.scopes = scopes
        self.groups = groups
        self.roles = roles
    }

    public init(claims: AccessTokenClaims) {
        self.init(
            clientID: claims.clientID, scopes: Set(claims.scope.split(separator: " ").map(String.init)),
            groups: Self.strings(claims.extra["groups"]), roles: Self.strings(claims.extra["roles"]))
    }

    /// A claim that is an array of strings, or one string; anything else
    /// (Entra's group overage `_claim_names`, a number) counts as empty, so
    /// a rule that needs it does not match (fail closed).
    static func strings(_ value: JSONValue?) -> Set<String> {
        switch value {
        case .string(let text): [text]
        case .array(let items): Set(items.compactMap(\.stringValue))
        default: []
        }
    }
}

/// Names and `*` patterns, compared on UTF-8 bytes: Swift's `String ==`
/// treats canonically equivalent texts as equal, the MCP server does not,
/// so a byte comparison is the one both sides agree on (rule 10).
public enum ToolPattern {
    /// `*` matches any run of bytes, empty included; everything else is literal.
    public static func matches(_ pattern: String, _ name: String) -> Bool {
        let p = Array(pattern.utf8)
        let n = Array(name.utf8)
        let star = UInt8(ascii: "*")
        // Iterative glob with one back-track point: linear-ish, no recursion.
        var pi = 0
        var ni = 0
        var starAt = -1
        var resumeAt = 0
        while ni < n.count {
            if pi < p.count, p[pi] != star, p[pi] == n[ni] {
                pi += 1
                ni += 1
            } else if pi < p.count, p[pi] == star {
                starAt = pi
                resumeAt = ni
                pi += 1
            } else if starAt >= 0 {
                pi = starAt + 1
                resumeAt += 1
                ni = resumeAt
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == star { pi += 1 }
        return pi == p.count
    }

    public static func matchesAny(_ patterns: [String], _ name: String) -> Bool {
        patterns.contains { matches($0, name) }
    }

    static func sameBytes(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8)
    }
}
