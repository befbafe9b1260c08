import Foundation
import FuzzSupport
import ShimCore

@_cdecl("FuzzMCPRequest_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

/// The gateway's per-tool policy reading untrusted bytes: a client's
/// JSON-RPC body (`MCPRequestInspection`), an `Mcp-Name` header value, and
/// the MCP server's SSE stream and `tools/list` answer (`SSEEventSplitter`,
/// `ToolListFilter`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = bytes(start, count)

    switch MCPRequestInspection.message(input) {
    case .success(.request(let method, _, let name)):
        check(method != "tools/call" || name != nil, "a tools/call read has its tool name")
        // The document was one strict object: the same bytes as a batch are a batch.
        check(MCPRequestInspection.message(Array("[".utf8) + input + Array("]".utf8)) == .failure(.batch), "a batch is a batch")
    case .success(.response), .failure: break
    }

    // Header values: decoding never traps; a plain value is itself.
    let header = String(decoding: input.prefix(256), as: UTF8.self)
    if !header.hasPrefix("=?base64?") { check(MCPRequestInspection.decodedHeaderValue(header) == header, "a plain header value is itself") }

    // SSE: the events do not depend on how the stream is cut into chunks.
    var whole = SSEEventSplitter(maxEventBytes: 1 << 20)
    let all = (try? whole.append(input)) ?? []
    var bytewise = SSEEventSplitter(maxEventBytes: 1 << 20)
    var pieces: [[UInt8]] = []
    for byte in input { pieces += (try? bytewise.append([byte])) ?? [] }
    check(all == pieces, "SSE events independent of chunking")
    check(all.joined().count + whole.unfinished.count == input.count, "SSE splitting loses no byte")

    // Filtering keeps only names the caller may keep, and never adds one.
    let keep: (String) -> Bool = { $0.hasPrefix("a") }
    if let filtered = ToolListFilter.filter(input, keep: keep) {
        let kept = ToolListFilter.names(filtered)
        check(kept.allSatisfy(keep), "only kept names remain")
        check(Set(kept).isSubset(of: Set(ToolListFilter.names(input))), "no name added")
    }
    for event in all { _ = ToolListFilter.filterEvent(event, keep: keep) }
    return 0
}
