extension ShimConfiguration {
    /// Reads `resources[i].tools` (a list of `ToolRule`s) for every
    /// resource; called by `load` before unknown keys are reported, so a
    /// misspelt rule key (`tool:`, `role:`) is an error.
    mutating func readToolPolicies(_ r: inout ConfigReader) {
        for (i, configured) in resources.enumerated() {
            let key = "resources[\(i)].tools"
            let count = r.count(key)
            guard count > 0 else { continue }
            var rules: [ToolRule] = []
            for j in 0..<count {
                let rule = "\(key)[\(j)]"
                rules.append(
                    ToolRule(
                        tools: r.stringList(rule + ".tools", default: []), methods: r.stringList(rule + ".methods", default: []),
                        allow: r.bool(rule + ".allow", default: true), scopes: r.stringList(rule + ".scopes", default: []),
                        groups: r.stringList(rule + ".groups", default: []), roles: r.stringList(rule + ".roles", default: []),
                        clients: r.stringList(rule + ".clients", default: [])))
            }
            toolPolicies[configured.resource] = ToolPolicy(rules: rules)
        }
    }

    /// Checks of `resources[i].tools`; each problem names its key.
    func validateToolPolicies() -> [String] {
        var problems: [String] = []
        for (i, resource) in resources.enumerated() {
            guard let policy = toolPolicies[resource.resource] else { continue }
            let key = "resources[\(i)].tools"
            if !gatewayResources.contains(where: { $0.resource == resource.resource }) {
                problems.append("\(key): tool rules apply only with resources[\(i)].upstream (gateway mode)")
            }
            let offered = Set(resource.scopes)
            for (j, rule) in policy.rules.enumerated() {
                problems += Self.checkToolRule(rule, key: "\(key)[\(j)]", offeredScopes: offered, copiedClaims: issuedTokens.copiedClaims)
            }
        }
        return problems
    }

    /// One rule: it names what it governs, its patterns are names, and each
    /// condition could hold for some token (a scope the resource offers, a
    /// claim `tokens.claims` copies); otherwise it could never match and
    /// the operator's intent would be silently lost.
    static func checkToolRule(_ rule: ToolRule, key: String, offeredScopes: Set<String>, copiedClaims: [String]) -> [String] {
        var problems: [String] = []
        if rule.tools.isEmpty, rule.methods.isEmpty {
            problems.append("\(key): name the tools (tools: [...]) or the methods (methods: [...]) the rule governs")
        }
        let lists = [
            ("tools", rule.tools), ("methods", rule.methods), ("scopes", rule.scopes), ("groups", rule.groups), ("roles", rule.roles),
            ("clients", rule.clients),
        ]
        for (name, values) in lists {
            for (j, value) in values.enumerated() where value.isEmpty || value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
            {
                problems.append("\(key).\(name)[\(j)]: \(value.quotedForProblem) is empty or holds a control character")
            }
        }
        for (j, method) in rule.methods.enumerated() {
            if method == "tools/call" {
                problems.append("\(key).methods[\(j)]: tools/call is governed by tool name; use tools: [...] (\"*\" for every tool)")
            } else if ToolPolicy.alwaysAllowed(method) {
                problems.append(
                    "\(key).methods[\(j)]: \(method.quotedForProblem) always passes (initialize, ping, notifications/… and tools/list, "
                        + "which is filtered by the tool rules)")
            }
        }
        for scope in rule.scopes where !offeredScopes.contains(scope) {
            problems.append("\(key).scopes: \(scope.quotedForProblem) is not one of the resource's scopes")
        }
        for (name, values) in [("groups", rule.groups), ("roles", rule.roles)] where !values.isEmpty && !copiedClaims.contains(name) {
            problems.append(
                "\(key).\(name): the \(name) claim is not in issued tokens; add \(name.quotedForProblem) to tokens.claims (and to the IdP's ID token)"
            )
        }
        return problems
    }
}
