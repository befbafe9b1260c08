import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import ShimCore
import Synchronization

/// Per-tool authorization and per-call audit of one gateway resource
/// (docs/tokens-and-gateway.md, "Per-tool policy"; the rules are
/// `ToolPolicy`, the body is read by `MCPRequestInspection`).
final class GatewayToolGate: Sendable {
    let resource: String
    /// nil: no `resources[i].tools` rule; everything passes (and is audited).
    let policy: ToolPolicy?
    /// Tool names used as metric labels: those the rules name, then the
    /// first `maxLearnedTools` allowed ones seen; any other is `other`.
    private let labelled: Mutex<Set<String>>
    private let counters = Mutex<[String: Counter]>([:])

    static let maxLearnedTools = 64
    /// A `tools/list` answer in JSON is read whole to be filtered; past this
    /// it is refused rather than passed unfiltered.
    static let maxFilteredBytes = 16 * 1024 * 1024

    init(resource: String, policy: ToolPolicy?) {
        self.resource = resource
        self.policy = policy
        labelled = Mutex(policy?.namedTools.filter(ToolCallLabels.isLabelSafe) ?? [])
    }

    /// One gate per gateway resource, from configuration.
    static func gates(for config: ShimConfiguration) -> [String: GatewayToolGate] {
        var gates: [String: GatewayToolGate] = [:]
        for gateway in config.gatewayResources {
            let policy = config.toolPolicies[gateway.resource].flatMap { $0.rules.isEmpty ? nil : $0 }
            gates[gateway.resource] = GatewayToolGate(resource: gateway.resource, policy: policy)
        }
        return gates
    }

    /// The tool's metric label (see `labelled`); only an allowed call can
    /// add a name, so a caller probing names it may not call adds none.
    func toolLabel(_ name: String?, allowed: Bool) -> String {
        guard let name else { return "none" }
        return labelled.withLock { names in
            if names.contains(name) { return name }
            guard allowed, names.count < Self.maxLearnedTools + (policy?.namedTools.count ?? 0), ToolCallLabels.isLabelSafe(name) else {
                return "other"
            }
            names.insert(name)
            return name
        }
    }

    /// `dcr_shim_gateway_calls_total{resource,method,tool,decision}`.
    func count(method: String, tool: String, decision: String) {
        let key = method + "\u{0}" + tool + "\u{0}" + decision
        let counter = counters.withLock { cache in
            if let counter = cache[key] { return counter }
            let counter = Counter(
                label: "dcr_shim_gateway_calls_total",
                dimensions: [("resource", resource), ("method", method), ("tool", tool), ("decision", decision)])
            cache[key] = counter
            return counter
        }
        counter.increment()
    }
}

/// What one request through the gateway did, filled in by the checks as
/// they pass (the task-local `current`), written once by `Gateway.audit`.
final class GatewayCallRecord: Sendable {
    struct Fields: Sendable {
        var subject: String?
        var clientID: String?
        /// `ToolCallLabels.method`'s input: the JSON-RPC method, nil without one.
        var method: String?
        var isResponse = false
        var tool: String?
        /// `allow`, `deny` (a rule), `refuse` (a body or headers the policy
        /// cannot check), `unchecked` (refused before: host, origin, token,
        /// scope, body size).
        var decision = "unchecked"
    }

    let fields = Mutex(Fields())

    /// The record of the request the current task serves.
    static let current = TaskLocal<GatewayCallRecord?>(wrappedValue: nil)

    func update(_ change: (inout Fields) -> Void) {
        fields.withLock { change(&$0) }
    }

    var snapshot: Fields { fields.withLock { $0 } }
}

/// Rewrites the body of a `tools/list` answer as it is written to the
/// client: each SSE event, or a JSON answer read whole (up to
/// `GatewayToolGate.maxFilteredBytes`). A JSON answer that cannot be read
/// becomes a JSON-RPC error: never a list passed on unfiltered.
struct ToolListFilteringWriter: ResponseBodyWriter {
    var parent: any ResponseBodyWriter
    let isStream: Bool
    let keep: @Sendable (String) -> Bool
    let id: JSONValue?
    var splitter = SSEEventSplitter(maxEventBytes: GatewayToolGate.maxFilteredBytes)
    var collected: [UInt8] = []

    struct TooLarge: Error {}

    mutating func write(_ buffer: ByteBuffer) async throws {
        if isStream {
            var out: [UInt8] = []
            for event in try splitter.append(buffer.readableBytesView) { out += ToolListFilter.filterEvent(event, keep: keep) }
            if !out.isEmpty { try await parent.write(ByteBuffer(bytes: out)) }
        } else {
            guard collected.count + buffer.readableBytes <= GatewayToolGate.maxFilteredBytes else { throw TooLarge() }
            collected += buffer.readableBytesView
        }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        if !isStream {
            let out: [UInt8]
            if let filtered = ToolListFilter.filter(collected, keep: keep) {
                out = filtered
            } else if (try? JSONDecoder().decode([String: JSONValue].self, from: Data(collected))) != nil {
                out = collected  // an error or another answer: nothing to filter
            } else {
                out = MCPRequestInspection.errorBody(
                    code: MCPRequestInspection.ErrorCode.internalError, message: "The MCP server's tools/list answer could not be read", id: id)
            }
            try await parent.write(ByteBuffer(bytes: out))
        }
        // An SSE event still unfinished at the end is dropped, as a client would drop it.
        try await parent.finish(trailingHeaders)
    }
}
