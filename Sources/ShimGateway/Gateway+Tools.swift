import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ShimCore

extension Gateway {
    /// The outcome of the per-tool check of one request.
    enum ToolCheck: Sendable {
        /// Forward; with a plan when the answer is a `tools/list` answer to filter.
        case forward(ToolListPlan?)
        /// Answered by the gateway; never forwarded.
        case refuse(Response)
    }

    /// How to filter a `tools/list` answer for one caller.
    struct ToolListPlan: Sendable {
        let policy: ToolPolicy
        let caller: ToolCaller
        let id: JSONValue?
        /// A POST's answer must be JSON or SSE; a GET stream (which may
        /// replay answers after a reconnection) is filtered when it is SSE.
        let isRequestAnswer: Bool
    }

    static let mcpMethodHeader = HTTPField.Name("Mcp-Method")!
    static let mcpNameHeader = HTTPField.Name("Mcp-Name")!

    /// Per-tool policy (`ToolPolicy`) and the MCP headers' agreement with
    /// the body, before forwarding. With rules for the resource, a body the
    /// policy cannot read whole (not JSON, a batch, a member named twice,
    /// no body on a POST) is refused, never forwarded unchecked; without
    /// rules it is forwarded as before (the MCP server answers it).
    func checkTools(_ request: Request, body: ByteBuffer?, claims: AccessTokenClaims, route: GatewayRoute, logger: Logger) -> ToolCheck {
        let record = GatewayCallRecord.current.get()
        record?.update {
            $0.subject = claims.subject
            $0.clientID = claims.clientID
        }
        let gate = toolGates[route.resource]
        let policy = gate?.policy
        let caller = ToolCaller(claims: claims)
        guard let body, body.readableBytes > 0 else {
            if request.method == .post, policy != nil {
                record?.update { $0.decision = "refuse" }
                return .refuse(
                    Self.jsonRPC(.badRequest, MCPRequestInspection.ErrorCode.invalidRequest, "An MCP request needs a JSON-RPC message", id: nil))
            }
            record?.update { $0.decision = "allow" }
            // A GET stream can carry a tools/list answer again (resumption).
            return .forward(policy.map { ToolListPlan(policy: $0, caller: caller, id: nil, isRequestAnswer: false) })
        }
        let message: MCPRequestInspection.Message
        switch MCPRequestInspection.message(Array(body.readableBytesView)) {
        case .success(let read):
            message = read
        case .failure(let problem):
            guard policy != nil else {
                record?.update { $0.decision = "allow" }
                return .forward(nil)
            }
            record?.update { $0.decision = "refuse" }
            logger.notice("gateway: MCP request refused: the tool policy cannot read it", metadata: ["problem": "\(problem)"])
            let (code, text): (Int, String) =
                switch problem {
                case .notJSON: (MCPRequestInspection.ErrorCode.parseError, "Not one JSON object (or a member named twice)")
                case .batch: (MCPRequestInspection.ErrorCode.invalidRequest, "JSON-RPC batches are not accepted")
                case .empty, .malformed: (MCPRequestInspection.ErrorCode.invalidRequest, "Not a JSON-RPC message MCP defines")
                }
            return .refuse(Self.jsonRPC(.badRequest, code, text, id: nil))
        }
        let id: JSONValue?
        switch message {
        case .request(let method, let requestID, let name):
            id = requestID
            record?.update {
                $0.method = method
                $0.tool = method == "tools/call" ? name : nil
            }
        case .response(let responseID):
            id = responseID
            record?.update { $0.isResponse = true }
        }
        let methodHeader = request.headers[Self.mcpMethodHeader]
        let nameHeader = request.headers[Self.mcpNameHeader]
        guard MCPRequestInspection.headersAgree(method: methodHeader, name: nameHeader, with: message) else {
            record?.update { $0.decision = "refuse" }
            return .refuse(
                Self.jsonRPC(
                    .badRequest, MCPRequestInspection.ErrorCode.headerMismatch, "Header mismatch: Mcp-Method or Mcp-Name does not match the body",
                    id: id))
        }
        guard case .request(let method, _, let name) = message, let policy else {
            record?.update { $0.decision = "allow" }
            return .forward(nil)
        }
        switch policy.decide(method: method, name: method == "tools/call" ? name : nil, caller: caller) {
        case .allow:
            record?.update { $0.decision = "allow" }
            return .forward(method == "tools/list" ? ToolListPlan(policy: policy, caller: caller, id: id, isRequestAnswer: true) : nil)
        case .deny(let rule):
            record?.update { $0.decision = "deny" }
            logger.notice(
                "gateway: MCP request denied by the tool policy",
                metadata: [
                    "method": "\(LogSafe.text(method, limit: 100))", "tool": "\(LogSafe.text(name ?? "", limit: 200))",
                    "rule": "\(rule.map(String.init) ?? "none matched")", "client_id": "\(LogSafe.text(claims.clientID, limit: 200))",
                ])
            return .refuse(Self.denied(method: method, name: name, id: id))
        }
    }

    /// A denied request's answer. A request (it has an `id`) gets a
    /// JSON-RPC error with that id in a 200 answer, as the MCP server would
    /// answer it: `tools/call` -32602 (MCP tools "Error Handling": an
    /// unknown tool is a protocol error -32602; the tool is absent from
    /// this caller's `tools/list`), any other method -32601 (JSON-RPC 2.0
    /// §5.1 "does not exist / is not available"). A notification (no `id`)
    /// cannot be answered in JSON-RPC: Streamable HTTP says an unaccepted
    /// one gets an HTTP error status whose body MAY be a JSON-RPC error
    /// without id, so 403.
    static func denied(method: String, name: String?, id: JSONValue?) -> Response {
        let isCall = method == "tools/call"
        let code = isCall ? MCPRequestInspection.ErrorCode.invalidParams : MCPRequestInspection.ErrorCode.methodNotFound
        let text = isCall ? "Tool not available: " + (name ?? "") : "Method not available: " + method
        return jsonRPC(id == nil ? .forbidden : .ok, code, text, id: id)
    }

    static func jsonRPC(_ status: HTTPResponse.Status, _ code: Int, _ message: String, id: JSONValue?) -> Response {
        let body = MCPRequestInspection.errorBody(code: code, message: message, id: id)
        return Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The MCP server's answer to an allowed `tools/list` (or a GET
    /// stream), its tools cut to those the caller may call
    /// (`ToolListFilteringWriter`). `Content-Length` is dropped: the
    /// filtered body is shorter.
    func filterToolList(_ response: Response, _ check: ToolCheck) -> Response {
        guard case .forward(let plan?) = check, (200..<300).contains(response.status.code) else { return response }
        let type = response.headers[.contentType]?.lowercased() ?? ""
        let isStream = type.hasPrefix("text/event-stream")
        guard isStream || type.hasPrefix("application/json") else {
            guard plan.isRequestAnswer else { return response }
            return GatewayResponses.jsonRPCError(.badGateway, "MCP server's tools/list answer is neither JSON nor SSE")
        }
        if !isStream, !plan.isRequestAnswer { return response }
        var response = response
        response.headers[.contentLength] = nil
        let body = response.body
        let keep: @Sendable (String) -> Bool = { plan.policy.mayCall($0, caller: plan.caller) }
        let id = plan.id
        response.body = ResponseBody { writer in
            try await body.write(ToolListFilteringWriter(parent: writer, isStream: isStream, keep: keep, id: id))
        }
        return response
    }

    /// One structured record per request through the gateway (subject,
    /// client, JSON-RPC method, tool, HTTP status, decision, duration; never
    /// arguments or results) and `dcr_shim_gateway_calls_total`.
    func audit(_ record: GatewayCallRecord, route: GatewayRoute, status: Int, nanoseconds: Int64, logger: Logger) {
        let fields = record.snapshot
        let method = ToolCallLabels.method(fields.method, isResponse: fields.isResponse)
        let gate = toolGates[route.resource]
        let tool = gate?.toolLabel(fields.tool, allowed: fields.decision == "allow") ?? "none"
        gate?.count(method: method, tool: tool, decision: fields.decision)
        logger.info(
            "gateway: call",
            metadata: [
                "resource": "\(route.resource)", "subject": "\(LogSafe.text(fields.subject ?? "", limit: 200))",
                "client_id": "\(LogSafe.text(fields.clientID ?? "", limit: 200))",
                "method": "\(LogSafe.text(fields.method ?? (fields.isResponse ? "(response)" : ""), limit: 100))",
                "tool": "\(LogSafe.text(fields.tool ?? "", limit: 200))", "status": "\(status)", "decision": "\(fields.decision)",
                "duration_ms": "\(nanoseconds / 1_000_000)",
            ])
    }
}
