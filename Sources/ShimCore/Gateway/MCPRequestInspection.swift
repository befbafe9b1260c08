import Foundation

/// What the gateway reads out of an MCP request body before forwarding it
/// (the per-tool policy and the per-call audit): one JSON-RPC message,
/// its method, its id, and the name it acts on.
public enum MCPRequestInspection {
    /// One JSON-RPC message from the client.
    public enum Message: Sendable, Equatable {
        /// A request (`id` present) or a notification (`id` nil). `name`:
        /// `params.name` (`tools/call`, `prompts/get`) or `params.uri`
        /// (`resources/read`), as the 2026-07-28 `Mcp-Name` header names it.
        case request(method: String, id: JSONValue?, name: String?)
        /// The client's answer to a request of the server (`result` or `error`, no `method`).
        case response(id: JSONValue?)
    }

    /// Why a body could not be read as one message.
    public enum Problem: Error, Sendable, Equatable {
        /// No body at all.
        case empty
        /// A JSON array: a JSON-RPC batch (MCP removed batching in 2025-06-18).
        case batch
        /// Not one well-formed JSON object (RFC 8259), or one naming a member twice.
        case notJSON
        /// JSON, but not a JSON-RPC message MCP defines (no method and no
        /// result, a method that is not a string, a `tools/call` without a
        /// string `params.name`).
        case malformed
    }

    /// The scan's limits: deep enough for any tool's arguments, bounded so
    /// a hostile body cannot exhaust the stack.
    static let limits = StrictJSON.Limits(maxDepth: 64, maxItems: Int.max)

    /// Reads `body` as one JSON-RPC message. The document is first checked
    /// by `StrictJSON`: a member named twice (`"name":"allowed","name":"denied"`)
    /// is refused, because the gateway and the MCP server might each read
    /// another of the two (RFC 8259 §4, a parser differential: rule 10).
    public static func message(_ body: [UInt8]) -> Result<Message, Problem> {
        guard let first = body.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return .failure(.empty) }
        if first == UInt8(ascii: "[") { return .failure(.batch) }
        do {
            try StrictJSON.checkObject(body, limits: limits)
        } catch {
            return .failure(.notJSON)
        }
        guard let object = try? JSONDecoder().decode([String: JSONValue].self, from: Data(body)) else { return .failure(.notJSON) }
        let id = object["id"]
        guard let methodValue = object["method"] else {
            return object["result"] != nil || object["error"] != nil ? .success(.response(id: id)) : .failure(.malformed)
        }
        guard case .string(let method) = methodValue else { return .failure(.malformed) }
        var params: [String: JSONValue] = [:]
        switch object["params"] {
        case .none, .null: break
        case .object(let members): params = members
        default: return .failure(.malformed)
        }
        let nameKey = method == "resources/read" ? "uri" : "name"
        var name: String?
        if ["tools/call", "prompts/get", "resources/read"].contains(method) {
            switch params[nameKey] {
            case .string(let text): name = text
            case .none where method != "tools/call": name = nil
            default: return .failure(.malformed)
            }
        }
        return .success(.request(method: method, id: id, name: name))
    }

    /// MCP Streamable HTTP 2026-07-28, "Server Validation": "Servers that
    /// process the request body MUST reject requests where the values
    /// specified in the headers do not match the corresponding values in the
    /// request body" (`Mcp-Method` = `method`; `Mcp-Name` = `params.name` or
    /// `params.uri`, Base64 sentinel `=?base64?…?=` decoded first). Only
    /// headers present are compared (clients of earlier versions send none).
    /// Values compare byte for byte (header values are case-sensitive).
    public static func headersAgree(method methodHeader: String?, name nameHeader: String?, with message: Message) -> Bool {
        let method: String?
        let name: String?
        switch message {
        case .request(let m, _, let n):
            method = m
            name = n
        case .response:
            method = nil
            name = nil
        }
        if let methodHeader, !(method.map { ToolPattern.sameBytes($0, methodHeader) } ?? false) { return false }
        if let nameHeader {
            guard let decoded = decodedHeaderValue(nameHeader), let name, ToolPattern.sameBytes(name, decoded) else { return false }
        }
        return true
    }

    /// MCP 2026-07-28 "Value Encoding": `=?base64?{Base64}?=` carries the
    /// UTF-8 of a value that is not plain ASCII; other values are as written.
    /// Nil for a sentinel whose content is not Base64 of UTF-8.
    public static func decodedHeaderValue(_ value: String) -> String? {
        let prefix = "=?base64?"
        let suffix = "?="
        guard value.hasPrefix(prefix), value.hasSuffix(suffix), value.utf8.count >= prefix.utf8.count + suffix.utf8.count else { return value }
        let encoded = String(value.dropFirst(prefix.count).dropLast(suffix.count))
        guard let data = Data(base64Encoded: encoded) else { return nil }
        return String(bytes: data, encoding: .utf8)
    }

    /// A JSON-RPC 2.0 error response (§5, §5.1), with the request's `id`
    /// when it has one (omitted for a notification or an unreadable body).
    public static func errorBody(code: Int, message: String, id: JSONValue?) -> [UInt8] {
        struct ErrorObject: Encodable {
            let code: Int
            let message: String
        }
        struct Envelope: Encodable {
            let jsonrpc = "2.0"
            let id: JSONValue?
            let error: ErrorObject
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(Envelope(id: id, error: ErrorObject(code: code, message: message)))) ?? Data()
        return Array(data)
    }

    /// JSON-RPC 2.0 and MCP error codes the gateway answers with.
    public enum ErrorCode {
        /// JSON-RPC 2.0 §5.1 "Parse error: Invalid JSON was received by the server".
        public static let parseError = -32700
        /// JSON-RPC 2.0 §5.1 "Invalid Request: The JSON sent is not a valid Request object" (a batch, a malformed message).
        public static let invalidRequest = -32600
        /// JSON-RPC 2.0 §5.1 "Method not found: The method does not exist / is not available".
        public static let methodNotFound = -32601
        /// MCP tools, "Error Handling": a protocol error for an unknown tool
        /// is `-32602`; a tool the caller may not call is, to that caller,
        /// one that does not exist (it is absent from its `tools/list`).
        public static let invalidParams = -32602
        /// JSON-RPC 2.0 §5.1 "Internal error" (an MCP server's answer the gateway cannot read).
        public static let internalError = -32603
        /// MCP Streamable HTTP 2026-07-28 "Server Validation": `HeaderMismatch`, with 400.
        public static let headerMismatch = -32020
    }
}
