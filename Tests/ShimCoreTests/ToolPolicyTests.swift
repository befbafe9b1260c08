import Foundation
import ShimCore
import Testing

/// Per-tool authorization at the gateway: the rules (`ToolPolicy`), the
/// JSON-RPC reading they rely on (`MCPRequestInspection`), the `tools/list`
/// filter in JSON and SSE (`ToolListFilter`, `SSEEventSplitter`), bounded
/// metric labels, and `resources[i].tools` in configuration.
@Suite("Per-tool policy")
struct ToolPolicyTests {
    static let policy = ToolPolicy(rules: [
        ToolRule(tools: ["delete_*"], allow: false, clients: ["untrusted-client"]),
        ToolRule(tools: ["search_*", "get_document"]),
        ToolRule(tools: ["delete_*"], roles: ["Mcp.Admin"]),
        ToolRule(tools: ["write_*"], scopes: ["mcp.write"]),
        ToolRule(tools: ["*"], groups: ["0b6e1f0c-group-admins"]),
        ToolRule(methods: ["resources/*"], scopes: ["mcp.read"]),
    ])

    static let reader = ToolCaller(clientID: "client-1", scopes: ["mcp.read"])
    static let writer = ToolCaller(clientID: "client-1", scopes: ["mcp.read", "mcp.write"])
    static let admin = ToolCaller(clientID: "client-1", scopes: ["mcp.read"], roles: ["Mcp.Admin"])
    static let untrustedAdmin = ToolCaller(clientID: "untrusted-client", scopes: ["mcp.read"], roles: ["Mcp.Admin"])
    static let groupMember = ToolCaller(clientID: "client-1", scopes: [], groups: ["0b6e1f0c-group-admins"])

    @Test(
        "decisions: first matching rule wins, conditions are part of the match, deny when none matches",
        arguments: [
            ("tools/call", "search_web", reader, ToolDecision.allow),
            ("tools/call", "get_document", reader, .allow),
            ("tools/call", "get_documents", reader, .deny(rule: nil)),  // exact name: no prefix match
            ("tools/call", "delete_file", reader, .deny(rule: nil)),  // no role: no rule matches
            ("tools/call", "delete_file", admin, .allow),
            ("tools/call", "delete_file", untrustedAdmin, .deny(rule: 0)),  // the deny rule comes first
            ("tools/call", "write_note", reader, .deny(rule: nil)),
            ("tools/call", "write_note", writer, .allow),
            ("tools/call", "anything", groupMember, .allow),
            ("tools/call", "Search_web", reader, .deny(rule: nil)),  // names are case-sensitive
            ("resources/read", nil, reader, .allow),
            ("resources/read", nil, groupMember, .deny(rule: nil)),  // `*` in tools does not cover other methods
            ("prompts/get", "p", writer, .deny(rule: nil)),
            ("completion/complete", nil, writer, .deny(rule: nil)),
            // The protocol's own messages always pass.
            ("initialize", nil, groupMember, .allow), ("server/discover", nil, groupMember, .allow), ("ping", nil, groupMember, .allow),
            ("notifications/initialized", nil, groupMember, .allow), ("tools/list", nil, groupMember, .allow),
            ("tools/call", nil, admin, .deny(rule: nil)),  // a call without a tool name
        ] as [(String, String?, ToolCaller, ToolDecision)])
    func decisions(_ method: String, _ name: String?, _ caller: ToolCaller, _ expected: ToolDecision) {
        #expect(Self.policy.decide(method: method, name: name, caller: caller) == expected)
    }

    @Test("no rule: everything passes (the MCP server decides)")
    func noRules() {
        let empty = ToolPolicy(rules: [])
        #expect(empty.decide(method: "tools/call", name: "delete_everything", caller: Self.reader) == .allow)
        #expect(empty.decide(method: "resources/read", name: nil, caller: Self.reader) == .allow)
    }

    @Test(
        "patterns: * matches any run, everything else literal, compared on bytes",
        arguments: [
            ("*", "", true), ("*", "x", true), ("search_*", "search_", true), ("search_*", "search_web", true),
            ("search_*", "search", false), ("*_admin", "db_admin", true), ("*_admin", "db_admin2", false),
            ("a*b*c", "aXbYc", true), ("a*b*c", "aXbY", false), ("a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false),
            ("get_document", "get_document", true), ("get_document", "get_documen", false), ("get.x", "getXx", false),
            // Canonically equivalent texts are different names to the MCP server.
            ("caf\u{E9}", "cafe\u{301}", false),
        ] as [(String, String, Bool)])
    func patterns(_ pattern: String, _ name: String, _ expected: Bool) {
        #expect(ToolPattern.matches(pattern, name) == expected)
    }

    @Test("the caller from the issued token: client, scopes, and the copied groups and roles claims")
    func caller() {
        let claims = AccessTokenClaims(
            issuer: "https://auth.example.com", subject: "u", audience: ["r"], expiresAt: 2, issuedAt: 1, tokenID: "j", clientID: "c",
            scope: "mcp.read mcp.write", grantID: "g",
            extra: ["groups": .array([.string("g1"), .int(7), .string("g2")]), "roles": .string("Mcp.Admin")])
        let caller = ToolCaller(claims: claims)
        #expect(caller == ToolCaller(clientID: "c", scopes: ["mcp.read", "mcp.write"], groups: ["g1", "g2"], roles: ["Mcp.Admin"]))
        // Entra's group overage replaces `groups` with a pointer: no groups, so group rules do not match.
        var overage = claims
        overage.extra = ["_claim_names": .object(["groups": .string("src1")])]
        #expect(ToolCaller(claims: overage).groups.isEmpty)
    }

    @Test(
        "JSON-RPC bodies read as one message",
        arguments: [
            (
                #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_web","arguments":{"q":"x"}}}"#,
                Result<MCPRequestInspection.Message, MCPRequestInspection.Problem>.success(
                    .request(method: "tools/call", id: .int(1), name: "search_web"))
            ),
            (#"{"jsonrpc":"2.0","id":"a","method":"tools/list"}"#, .success(.request(method: "tools/list", id: .string("a"), name: nil))),
            (#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, .success(.request(method: "notifications/initialized", id: nil, name: nil))),
            (
                #"{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"file:///a"}}"#,
                .success(.request(method: "resources/read", id: .int(2), name: "file:///a"))
            ),
            (#"{"jsonrpc":"2.0","id":3,"method":"prompts/get","params":{}}"#, .success(.request(method: "prompts/get", id: .int(3), name: nil))),
            (#"{"jsonrpc":"2.0","id":0,"result":{}}"#, .success(.response(id: .int(0)))),
            // Escapes are decoded as the MCP server decodes them.
            (
                #"{"jsonrpc":"2.0","id":1,"method":"tools\/call","params":{"name":"delete\u005fall"}}"#,
                .success(.request(method: "tools/call", id: .int(1), name: "delete_all"))
            ),
            // Refused: a batch, not JSON, a member named twice (two parsers, two readings), no method, odd shapes.
            (#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}]"#, .failure(.batch)),
            ("  [", .failure(.batch)),
            ("", .failure(.empty)), ("  \n", .failure(.empty)),
            ("not json", .failure(.notJSON)),
            (#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_web","name":"delete_all"}}"#, .failure(.notJSON)),
            (#"{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"ping"}"#, .failure(.notJSON)),
            (#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}} trailing"#, .failure(.notJSON)),
            (#"{"jsonrpc":"2.0","id":1}"#, .failure(.malformed)),
            (#"{"jsonrpc":"2.0","id":1,"method":7}"#, .failure(.malformed)),
            (#"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#, .failure(.malformed)),
            (#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5}}"#, .failure(.malformed)),
            (#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["x"]}"#, .failure(.malformed)),
        ] as [(String, Result<MCPRequestInspection.Message, MCPRequestInspection.Problem>)])
    func messages(_ body: String, _ expected: Result<MCPRequestInspection.Message, MCPRequestInspection.Problem>) {
        #expect(MCPRequestInspection.message(Array(body.utf8)) == expected)
    }

    @Test("a deeply nested body is refused, not a stack overflow")
    func deepBody() {
        let deep = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":"# + String(repeating: "[", count: 100_000)
        #expect(MCPRequestInspection.message(Array(deep.utf8)) == .failure(.notJSON))
    }

    @Test(
        "Mcp-Method and Mcp-Name must agree with the body (MCP 2026-07-28 Server Validation)",
        arguments: [
            (nil, nil, MCPRequestInspection.Message.request(method: "tools/call", id: .int(1), name: "search_web"), true),
            ("tools/call", "search_web", .request(method: "tools/call", id: .int(1), name: "search_web"), true),
            ("tools/call", nil, .request(method: "tools/call", id: .int(1), name: "search_web"), true),
            ("tools/call", "delete_all", .request(method: "tools/call", id: .int(1), name: "search_web"), false),
            ("tools/list", nil, .request(method: "tools/call", id: .int(1), name: "search_web"), false),
            ("Tools/Call", nil, .request(method: "tools/call", id: .int(1), name: "x"), false),  // values are case-sensitive
            ("tools/call", "=?base64?c2VhcmNoX3dlYg==?=", .request(method: "tools/call", id: .int(1), name: "search_web"), true),
            ("tools/call", "=?base64?ZGVsZXRlX2FsbA==?=", .request(method: "tools/call", id: .int(1), name: "search_web"), false),
            ("tools/call", "=?base64?not base64!?=", .request(method: "tools/call", id: .int(1), name: "x"), false),
            (nil, "x", .request(method: "tools/list", id: .int(1), name: nil), false),  // a name the body does not have
            ("tools/call", nil, .response(id: .int(1)), false),
        ] as [(String?, String?, MCPRequestInspection.Message, Bool)])
    func headers(_ method: String?, _ name: String?, _ message: MCPRequestInspection.Message, _ agree: Bool) {
        #expect(MCPRequestInspection.headersAgree(method: method, name: name, with: message) == agree)
    }

    @Test("JSON-RPC error bodies carry the request's id, and none for a notification")
    func errorBodies() {
        #expect(
            String(decoding: MCPRequestInspection.errorBody(code: -32602, message: "Tool not available: x", id: .int(4)), as: UTF8.self)
                == #"{"error":{"code":-32602,"message":"Tool not available: x"},"id":4,"jsonrpc":"2.0"}"#)
        #expect(
            String(decoding: MCPRequestInspection.errorBody(code: -32600, message: "m", id: nil), as: UTF8.self)
                == #"{"error":{"code":-32600,"message":"m"},"jsonrpc":"2.0"}"#)
    }

    static func names(_ json: [UInt8]?) -> [String] { json.map(ToolListFilter.names) ?? [] }

    @Test("tools/list answers filtered to what the caller may call; other documents untouched")
    func listFilter() {
        let answer =
            #"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"search_web","inputSchema":{}},{"name":"delete_file"},{"name":"get_document","description":"d"},{"title":"no name"}],"nextCursor":"c","cacheScope":"public","ttlMs":60000}}"#
        let keep = { (name: String) in Self.policy.mayCall(name, caller: Self.reader) }
        let filtered = ToolListFilter.filter(Array(answer.utf8), keep: keep)
        #expect(Self.names(filtered) == ["search_web", "get_document"])
        // Everything else in the answer is kept.
        let object = filtered.flatMap { try? JSONDecoder().decode([String: JSONValue].self, from: Data($0)) }
        guard case .object(let result)? = object?["result"] else {
            Issue.record("no result")
            return
        }
        #expect(result["nextCursor"] == .string("c") && result["ttlMs"] == .int(60000) && object?["id"] == .int(1))
        #expect(result["cacheScope"] == .string("private"))  // cut for this caller: never shared
        for other in [#"{"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"m"}}"#, #"{"jsonrpc":"2.0","id":1,"result":{"content":[]}}"#, "x"] {
            #expect(ToolListFilter.filter(Array(other.utf8), keep: keep) == nil)
        }
    }

    @Test(
        "SSE: events split on LF, CRLF and CR blank lines, across any chunking",
        arguments: [1, 2, 3, 7, 1000])
    func sseSplitting(_ chunk: Int) throws {
        let stream = Array("id: 1\nevent: message\ndata: a\n\n: comment\r\n\r\ndata: b\rdata: c\r\r\ndata: d\n\ndata: partial".utf8)
        var splitter = SSEEventSplitter(maxEventBytes: 1 << 20)
        var events: [String] = []
        var i = 0
        while i < stream.count {
            events += try splitter.append(stream[i..<min(i + chunk, stream.count)]).map { String(decoding: $0, as: UTF8.self) }
            i += chunk
        }
        #expect(events == ["id: 1\nevent: message\ndata: a\n\n", ": comment\r\n\r\n", "data: b\rdata: c\r\r\n", "data: d\n\n"])
        #expect(String(decoding: splitter.unfinished, as: UTF8.self) == "data: partial")
    }

    @Test("SSE: an event larger than the cap stops the stream (never passed on unfiltered)")
    func sseCap() {
        var splitter = SSEEventSplitter(maxEventBytes: 16)
        #expect(throws: SSEEventSplitter.TooLarge.self) { _ = try splitter.append(Array("data: 0123456789abcdef".utf8)) }
    }

    @Test("SSE: a tools/list answer in an event is filtered; its id and event fields kept; other events byte for byte")
    func sseFilter() {
        let keep = { (name: String) in Self.policy.mayCall(name, caller: Self.reader) }
        // The answer split over two data lines (joined with a line feed, which JSON reads as white space).
        let event = Array(
            "id: 7\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\ndata: \"result\":{\"tools\":[{\"name\":\"delete_file\"},{\"name\":\"search_web\"}]}}\n\n"
                .utf8)
        let out = String(decoding: ToolListFilter.filterEvent(event, keep: keep), as: UTF8.self)
        #expect(out.hasPrefix("id: 7\nevent: message\ndata: {") && out.hasSuffix("}\n\n"))
        #expect(out.contains("search_web") && !out.contains("delete_file"))
        #expect(out.components(separatedBy: "data:").count == 2)  // one data line
        for other in ["data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n", ": keep-alive\n\n", "data: not json\r\n\r\n"] {
            #expect(ToolListFilter.filterEvent(Array(other.utf8), keep: keep) == Array(other.utf8))
        }
    }

    @Test(
        "metric labels are bounded: known methods, MCP-shaped tool names",
        arguments: [
            ("tools/call", false, "tools/call"), ("resources/read", false, "resources/read"), ("x/\u{1F600}", false, "other"),
            ("tools/call", true, "response"),
        ] as [(String, Bool, String)])
    func methodLabels(_ method: String, _ isResponse: Bool, _ label: String) {
        #expect(ToolCallLabels.method(method, isResponse: isResponse) == label)
        #expect(ToolCallLabels.method(nil) == "none")
        #expect(ToolCallLabels.isLabelSafe("search_web.v2-b") && !ToolCallLabels.isLabelSafe("a b") && !ToolCallLabels.isLabelSafe(""))
        #expect(!ToolCallLabels.isLabelSafe(String(repeating: "a", count: 129)))
    }

    // MARK: configuration

    static func tree(tools: ConfigValue, claims: [String] = ["groups", "roles"], upstream: Bool = true) -> ConfigValue {
        var gateway: [String: ConfigValue] = ["tools": tools]
        if upstream { gateway["upstream"] = .string("http://127.0.0.1:3000/mcp") }
        guard case .map(var root) = TokenConfigurationTests.tree(gateway: gateway) else { return .null }
        root["tokens"] = .map(["access": .string("issued"), "claims": .list(claims.map(ConfigValue.string))])
        return .map(root)
    }

    @Test("resources[i].tools is read into rules, in order, with allow defaulting to true")
    func configurationRead() throws {
        let tools: ConfigValue = .list([
            .map(["tools": strings("delete_*"), "allow": .string("false"), "clients": strings("untrusted-client")]),
            .map(["tools": strings("search_*", "get_document"), "scopes": strings("mcp.read")]),
            .map(["tools": strings("*"), "groups": strings("g1"), "roles": strings("Mcp.Admin")]),
            .map(["methods": strings("resources/*", "prompts/get")]),
        ])
        let config = try ConfigurationTests.load(Self.tree(tools: tools)).get()
        #expect(
            config.toolPolicies[TokenConfigurationTests.resource]
                == ToolPolicy(rules: [
                    ToolRule(tools: ["delete_*"], allow: false, clients: ["untrusted-client"]),
                    ToolRule(tools: ["search_*", "get_document"], scopes: ["mcp.read"]),
                    ToolRule(tools: ["*"], groups: ["g1"], roles: ["Mcp.Admin"]),
                    ToolRule(methods: ["resources/*", "prompts/get"]),
                ]))
    }

    @Test(
        "resources[i].tools refused, naming the key",
        arguments: [
            (ConfigValue.list([.map(["allow": .string("true")])]), "resources[0].tools[0]: name the tools"),
            (.list([.map(["tools": strings("x"), "role": strings("Admin")])]), "resources[0].tools[0].role: unknown key"),
            (.list([.map(["tools": strings("x"), "allow": .string("maybe")])]), "resources[0].tools[0].allow"),
            (.list([.map(["tools": strings("")])]), "resources[0].tools[0].tools[0]"),
            (.list([.map(["tools": strings("x\ny")])]), "resources[0].tools[0].tools[0]"),
            (.list([.map(["methods": strings("tools/call")])]), "resources[0].tools[0].methods[0]: tools/call"),
            (.list([.map(["methods": strings("initialize")])]), "resources[0].tools[0].methods[0]"),
            (.list([.map(["tools": strings("x"), "scopes": strings("admin")])]), "resources[0].tools[0].scopes"),
            (.string("x"), "resources[0].tools: must be a list"),
            (.list([.map(["tools": .string("x")])]), "resources[0].tools[0].tools: must be a list"),
        ])
    func configurationRefused(_ tools: ConfigValue, _ key: String) {
        let problems = ConfigurationTests.problems(Self.tree(tools: tools))
        #expect(problems.contains { $0.hasPrefix(key) }, "\(problems)")
    }

    @Test("group and role rules need the claims copied into issued tokens; tool rules need gateway mode")
    func configurationNeedsClaimsAndGateway() {
        let groups: ConfigValue = .list([.map(["tools": strings("*"), "groups": strings("g1")])])
        #expect(ConfigurationTests.problems(Self.tree(tools: groups, claims: ["roles"])).contains { $0.hasPrefix("resources[0].tools[0].groups") })
        let roles: ConfigValue = .list([.map(["tools": strings("*"), "roles": strings("Admin")])])
        #expect(ConfigurationTests.problems(Self.tree(tools: roles, claims: [])).contains { $0.hasPrefix("resources[0].tools[0].roles") })
        let plain: ConfigValue = .list([.map(["tools": strings("*")])])
        #expect(
            ConfigurationTests.problems(Self.tree(tools: plain, upstream: false)).contains {
                $0.hasPrefix("resources[0].tools: tool rules apply only")
            })
    }
}

/// A YAML list of strings.
private func strings(_ values: String...) -> ConfigValue { .list(values.map(ConfigValue.string)) }
