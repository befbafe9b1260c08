import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ShimCore
import ShimTesting
import Testing

/// Per-tool authorization at the gateway (`resources[i].tools`) and the
/// per-call audit: what a denied call gets, that the MCP server never sees
/// it, `tools/list` filtered in JSON and SSE, bodies the policy cannot read
/// refused, and the 2026-07-28 `Mcp-Method` / `Mcp-Name` headers checked
/// against the body.
@Suite("Gateway: per-tool policy and audit")
struct GatewayToolPolicyTests {
    static func strings(_ values: String...) -> ConfigValue { .list(values.map(ConfigValue.string)) }

    static let rules: [String: ConfigValue] = [
        "tools": .list([
            .map(["tools": strings("search_*"), "scopes": strings("mcp.read")]),
            .map(["tools": strings("write_*"), "scopes": strings("mcp.write")]),
            .map(["methods": strings("prompts/*")]),
        ])
    ]

    static func call(_ name: String, id: Int? = 7, arguments: String = "{}") -> String {
        let idMember = id.map { #""id":\#($0),"# } ?? ""
        return #"{"jsonrpc":"2.0",\#(idMember)"method":"tools/call","params":{"name":"\#(name)","arguments":\#(arguments)}}"#
    }

    static func post(
        _ client: any TestClientProtocol, _ token: String, _ body: String, path: String = "/mcp", headers extra: [(String, String)] = []
    ) async throws -> TestResponse {
        var headers: HTTPFields = .bearer(token)
        headers[.contentType] = "application/json"
        headers[.accept] = "application/json, text/event-stream"
        for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    @Test("a denied tools/call gets a JSON-RPC error with its id (-32602) and the MCP server never sees it; an allowed one passes")
    func deniedCall() async throws {
        let harness = try await GatewayHarness()
        try await harness.run(gateway: Self.rules) { client, _ in
            let reader = try await harness.token()
            let denied = try await Self.post(client, reader, Self.call("delete_file"))
            #expect(denied.status == .ok)
            #expect(String(buffer: denied.body) == #"{"error":{"code":-32602,"message":"Tool not available: delete_file"},"id":7,"jsonrpc":"2.0"}"#)
            // write_* needs mcp.write, which this token lacks.
            let write = try await Self.post(client, reader, Self.call("write_note"))
            #expect(String(buffer: write.body).contains("-32602"))
            // Another method no rule allows: -32601, with its id.
            let resources = try await Self.post(
                client, reader, #"{"jsonrpc":"2.0","id":"r1","method":"resources/read","params":{"uri":"file:///etc/passwd"}}"#)
            #expect(resources.status == .ok)
            #expect(
                String(buffer: resources.body)
                    == #"{"error":{"code":-32601,"message":"Method not available: resources/read"},"id":"r1","jsonrpc":"2.0"}"#)
            // A notification cannot be answered in JSON-RPC: 403.
            let notification = try await Self.post(client, reader, Self.call("delete_file", id: nil))
            #expect(notification.status == .forbidden)
            #expect(harness.mcp.requests.isEmpty)

            let allowed = try await Self.post(client, reader, Self.call("search_web"))
            #expect(allowed.status == .ok && String(buffer: allowed.body).contains(#""bytes""#))
            let writer = try await harness.token { $0.scope = "mcp.read mcp.write" }
            let written = try await Self.post(client, writer, Self.call("write_note"))
            #expect(written.status == .ok && String(buffer: written.body).contains(#""bytes""#))
            let prompt = try await Self.post(client, reader, #"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"p"}}"#)
            #expect(String(buffer: prompt.body).contains(#""bytes""#))
            // The protocol's own messages always pass.
            let initialize = try await Self.post(client, reader, #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}"#)
            #expect(String(buffer: initialize.body).contains(#""bytes""#))
            #expect(harness.mcp.requests.count == 4)
            #expect(!harness.mcp.requests.contains { $0.body.contains("delete_file") || $0.body.contains("passwd") })
        }
    }

    static func toolNames(_ json: String) -> [String] { ToolListFilter.names(Array(json.utf8)) }

    @Test("tools/list answers are filtered to what the caller may call, in JSON and inside SSE events")
    func listFiltered() async throws {
        let harness = try await GatewayHarness()
        try await harness.run(gateway: Self.rules) { client, _ in
            let list = #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#
            let reader = try await harness.token()
            let json = try await Self.post(client, reader, list, path: "/mcp/tools")
            #expect(json.status == .ok)
            #expect(Self.toolNames(String(buffer: json.body)) == ["search_web"])
            let writer = try await harness.token { $0.scope = "mcp.read mcp.write" }
            let both = try await Self.post(client, writer, list, path: "/mcp/tools")
            #expect(Self.toolNames(String(buffer: both.body)) == ["search_web", "write_note"])

            let sse = try await Self.post(client, reader, list, path: "/mcp/tools-sse")
            #expect(sse.status == .ok && sse.headers[.contentLength] == nil)
            let text = String(buffer: sse.body)
            // The progress notification passes byte for byte; the list event keeps its id and loses delete_file and write_note.
            #expect(text.hasPrefix(FakeMCPServer.progressEvent), "\(text)")
            #expect(text.contains("id: 9\nevent: message\ndata: "))
            #expect(text.contains("search_web") && !text.contains("delete_file") && !text.contains("write_note"))
        }
    }

    @Test("without rules tools/list is passed unchanged")
    func listUnfilteredWithoutRules() async throws {
        let harness = try await GatewayHarness()
        try await harness.run { client, _ in
            let json = try await Self.post(client, try await harness.token(), #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, path: "/mcp/tools")
            #expect(String(buffer: json.body) == FakeMCPServer.toolsAnswer)
        }
    }

    @Test(
        "with rules, a body the policy cannot read whole is refused, never forwarded",
        arguments: [
            (#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_web"}}]"#, -32600),  // a batch
            ("not json", -32700),
            // A member named twice: the gateway and the MCP server could each read another tool.
            (#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_web","name":"delete_file"}}"#, -32700),
            (#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":["delete_file"]}}"#, -32600),
            (#"{"jsonrpc":"2.0","id":1}"#, -32600),
        ])
    func unreadableRefused(_ body: String, _ code: Int) async throws {
        let harness = try await GatewayHarness()
        try await harness.run(gateway: Self.rules) { client, _ in
            let response = try await Self.post(client, try await harness.token(), body)
            #expect(response.status == .badRequest)
            #expect(String(buffer: response.body).contains(#""code":\#(code)"#), "\(String(buffer: response.body))")
            #expect(harness.mcp.requests.isEmpty)
        }
    }

    @Test("with rules, a POST without a body is refused; without rules a batch still reaches the MCP server")
    func emptyAndNoRules() async throws {
        let harness = try await GatewayHarness()
        try await harness.run(gateway: Self.rules) { client, _ in
            let response = try await client.execute(uri: "/mcp", method: .post, headers: .bearer(try await harness.token()))
            #expect(response.status == .badRequest)
            #expect(harness.mcp.requests.isEmpty)
        }
        let open = try await GatewayHarness()
        try await open.run { client, _ in
            let response = try await Self.post(client, try await open.token(), #"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#)
            #expect(response.status == .ok)
            #expect(open.mcp.requests.count == 1)
        }
    }

    @Test(
        "Mcp-Method / Mcp-Name that disagree with the body: 400 HeaderMismatch (-32020) with the id, not forwarded",
        arguments: [
            [("Mcp-Method", "tools/call"), ("Mcp-Name", "delete_file")],
            [("Mcp-Method", "tools/list")],
            [("Mcp-Method", "tools/call"), ("Mcp-Name", "=?base64?ZGVsZXRlX2ZpbGU=?=")],  // delete_file, encoded
        ])
    func headerMismatch(_ headers: [(String, String)]) async throws {
        let harness = try await GatewayHarness()
        try await harness.run { client, _ in
            let response = try await Self.post(client, try await harness.token(), Self.call("search_web"), headers: headers)
            #expect(response.status == .badRequest)
            let body = String(buffer: response.body)
            #expect(body.contains(#""code":-32020"#) && body.contains(#""id":7"#), "\(body)")
            #expect(harness.mcp.requests.isEmpty)
        }
    }

    @Test("Mcp-Method / Mcp-Name that agree (plain or Base64) are forwarded")
    func headerAgreement() async throws {
        let harness = try await GatewayHarness()
        try await harness.run(gateway: Self.rules) { client, _ in
            let token = try await harness.token()
            for name in ["search_web", "=?base64?c2VhcmNoX3dlYg==?="] {
                let response = try await Self.post(
                    client, token, Self.call("search_web"), headers: [("Mcp-Method", "tools/call"), ("Mcp-Name", name)])
                #expect(response.status == .ok)
            }
            #expect(harness.mcp.requests.count == 2)
        }
    }

    @Test("one audit record per call: subject, client, method, tool, status, decision, duration; never the arguments")
    func audit() async throws {
        let harness = try await GatewayHarness()
        try await harness.run(gateway: Self.rules) { client, _ in
            let token = try await harness.token()
            _ = try await Self.post(client, token, Self.call("delete_file", arguments: #"{"path":"secret-argument-4711"}"#))
            _ = try await Self.post(client, token, Self.call("search_web", arguments: #"{"q":"secret-argument-4712"}"#))
            _ = try await client.execute(uri: "/mcp", method: .post, headers: [:], body: ByteBuffer(string: Self.call("search_web")))
        }
        let calls = harness.logLines.withLock { $0 }.filter { $0.contains("gateway: call") }
        #expect(calls.count == 3, "\(calls)")
        let denied = calls.first { $0.contains("tool=delete_file") }
        for part in ["subject=user-1", "client_id=client-1", "method=tools/call", "status=200", "decision=deny", "duration_ms="] {
            #expect(denied?.contains(part) == true, "\(part): \(denied ?? "")")
        }
        #expect(calls.contains { $0.contains("tool=search_web") && $0.contains("decision=allow") && $0.contains("status=200") })
        #expect(calls.contains { $0.contains("status=401") && $0.contains("decision=unchecked") })
        #expect(!harness.logLines.withLock { $0 }.contains { $0.contains("secret-argument") })
    }
}

extension FakeMCPServer {
    static let toolsAnswer =
        #"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"search_web","inputSchema":{"type":"object"}},"#
        + #"{"name":"delete_file","inputSchema":{"type":"object"}},{"name":"write_note","inputSchema":{"type":"object"}}]}}"#
    static let progressEvent = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}\n\n"

    /// A `tools/list` answer with three tools, as JSON or as an SSE stream
    /// (a progress notification first, then the answer in an event with an id).
    func toolList(stream: Bool) -> Response {
        guard stream else {
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: Self.toolsAnswer)))
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream"],
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: Self.progressEvent))
                try await writer.write(ByteBuffer(string: "id: 9\nevent: message\ndata: " + Self.toolsAnswer + "\n\n"))
                try await writer.finish(nil)
            })
    }
}
