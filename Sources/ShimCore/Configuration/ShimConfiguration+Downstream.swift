extension DownstreamAPI {
    /// `<path>[j].name`, `.header`, `.scopes`, `.audience`, `.method`.
    static func readList(_ r: inout ConfigReader, _ path: String) -> [DownstreamAPI] {
        var list: [DownstreamAPI] = []
        for j in 0..<r.count(path) {
            let key = "\(path)[\(j)]"
            var method: DownstreamMethod?
            if let raw = r.string(key + ".method") {
                method = DownstreamMethod(rawValue: raw)
                if method == nil { r.problem("\(key).method: \(raw.quotedForProblem) is not on_behalf_of or token_exchange") }
            }
            list.append(
                DownstreamAPI(
                    name: r.string(key + ".name") ?? "", header: r.string(key + ".header") ?? "",
                    scopes: r.stringList(key + ".scopes", default: []), audience: r.string(key + ".audience"), method: method))
        }
        return list
    }
}

extension ShimConfiguration {
    /// `resources[i].downstream`: each API named once, a header the gateway
    /// can own (rule 14: removed from the client's request, then set), the
    /// scopes to ask for, and a method the preset's provider offers.
    func validateDownstream() -> [String] {
        var problems: [String] = []
        for gatewayResource in gatewayResources where !gatewayResource.downstream.isEmpty {
            let index = resources.firstIndex { $0.resource == gatewayResource.resource } ?? 0
            let key = "resources[\(index)].downstream"
            var names: Set<String> = []
            var headers: Set<String> = Set(gatewayResource.upstreamTokenHeader.map { [$0.lowercased()] } ?? [])
            for (j, api) in gatewayResource.downstream.enumerated() {
                let item = "\(key)[\(j)]"
                if api.name.isEmpty || !api.name.utf8.allSatisfy(Self.isNameByte) {
                    problems.append("\(item).name: required, letters, digits, - and _ only (it names the API in logs and errors)")
                } else if !names.insert(api.name).inserted {
                    problems.append("\(item).name: \(api.name.quotedForProblem) is listed twice")
                }
                if !DownstreamTokenRules.canCarryDownstreamToken(api.header) {
                    problems.append(
                        "\(item).header: \(api.header.quotedForProblem) cannot carry the token (Authorization, a hop-by-hop, identity, "
                            + "forwarding or request header the gateway removes or sets itself); use a name such as X-Graph-Token")
                } else if !headers.insert(api.header.lowercased()).inserted {
                    problems.append("\(item).header: \(api.header.quotedForProblem) already carries another token")
                }
                if api.scopes.isEmpty { problems.append("\(item).scopes: name the scopes to ask for (e.g. https://graph.microsoft.com/User.Read)") }
                let preset = upstream.preset
                if let method = api.configuredMethod, !preset.downstreamMethods.contains(method) {
                    problems.append("\(item).method: \(method.rawValue) is not offered by \(preset.rawValue): \(preset.downstreamRefusal)")
                } else if api.method(for: preset) == nil {
                    problems.append("\(item): the \(preset.rawValue) preset cannot obtain tokens for other APIs: \(preset.downstreamRefusal)")
                }
                if api.audience != nil, api.method(for: preset) != .tokenExchange {
                    problems.append("\(item).audience: applies only to token exchange (RFC 8693); Entra names the API by its scopes")
                }
            }
        }
        return problems
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: "_")
    }
}
