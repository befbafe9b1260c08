import Foundation

/// The `tools/list` answer cut down to the tools the caller may call
/// (`ToolPolicy.mayCall`), in a JSON answer and in each SSE event.
///
/// A JSON-RPC response whose `result` has a `tools` array is the only
/// shape rewritten (MCP `ListToolsResult`); the rest of the document is
/// decoded and encoded again with its members kept, except a
/// `cacheScope` of `public`, which becomes `private`. A tool entry that is
/// not an object with a string `name` is dropped (it could not be called).
public enum ToolListFilter {
    /// The rewritten document; nil when `json` is not such an answer (it then
    /// passes unchanged: an error, a notification, another result).
    public static func filter(_ json: [UInt8], keep: (String) -> Bool) -> [UInt8]? {
        guard var object = try? JSONDecoder().decode([String: JSONValue].self, from: Data(json)),
            case .object(var result) = object["result"], case .array(let tools) = result["tools"]
        else { return nil }
        let kept = tools.filter { tool in
            guard case .object(let members) = tool, case .string(let name) = members["name"] else { return false }
            return keep(name)
        }
        result["tools"] = .array(kept)
        // MCP 2026-07-28 `CacheableResult`: a list cut for one caller must not
        // be served to another by a shared intermediary.
        if result["cacheScope"] != nil { result["cacheScope"] = .string("private") }
        object["result"] = .object(result)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return (try? encoder.encode(object)).map(Array.init)
    }

    /// The names in a `tools/list` answer (for bounded metric labels); empty otherwise.
    public static func names(_ json: [UInt8]) -> [String] {
        guard let object = try? JSONDecoder().decode([String: JSONValue].self, from: Data(json)),
            case .object(let result) = object["result"], case .array(let tools) = result["tools"]
        else { return [] }
        return tools.compactMap { tool in
            guard case .object(let members) = tool else { return nil }
            return members["name"]?.stringValue
        }
    }

    /// One SSE event (its bytes up to and including the blank line that
    /// ends it), rewritten when its data is a `tools/list` answer: the
    /// `data` lines become one line of the filtered JSON, every other field
    /// (`id`, `event`, `retry`, comments) is kept in place. An event that is
    /// not such an answer comes back unchanged.
    public static func filterEvent(_ event: [UInt8], keep: (String) -> Bool) -> [UInt8] {
        let lines = SSEEventSplitter.lines(event)
        var data: [UInt8] = []
        var dataLines = 0
        for line in lines where SSEEventSplitter.field(line) == "data" {
            if dataLines > 0 { data.append(0x0A) }
            data += SSEEventSplitter.value(line)
            dataLines += 1
        }
        guard dataLines > 0, let filtered = filter(data, keep: keep) else { return event }
        var out: [UInt8] = []
        var wroteData = false
        for line in lines {
            if SSEEventSplitter.field(line) == "data" {
                if !wroteData { out += Array("data: ".utf8) + filtered + [0x0A] }
                wroteData = true
            } else {
                out += line + [0x0A]
            }
        }
        out.append(0x0A)
        return out
    }
}

/// Cuts an SSE byte stream into events (WHATWG HTML "Server-sent events",
/// §9.2.6 parsing: lines end in CRLF, LF or CR; a blank line ends an event).
/// Bytes are appended as they arrive; complete events come out; what is
/// left is the event still arriving.
public struct SSEEventSplitter: Sendable {
    private var pending: [UInt8] = []
    /// Where the scan resumes in `pending`, and whether a line ended just before it.
    private var scanned = 0
    private var atLineStart = true
    /// Bytes one event may hold; past it `append` throws (`TooLarge`).
    public let maxEventBytes: Int

    public struct TooLarge: Error, Sendable {}

    public init(maxEventBytes: Int) { self.maxEventBytes = maxEventBytes }

    /// The events completed by `bytes`, each with its terminating blank line.
    public mutating func append(_ bytes: some Sequence<UInt8>) throws(TooLarge) -> [[UInt8]] {
        pending.append(contentsOf: bytes)
        var events: [[UInt8]] = []
        var start = 0
        var i = scanned
        while i < pending.count {
            let byte = pending[i]
            guard byte == 0x0A || byte == 0x0D else {
                atLineStart = false
                i += 1
                continue
            }
            // A CR as the last byte may be the first half of a CRLF: wait for more.
            if byte == 0x0D, i + 1 == pending.count { break }
            let length = byte == 0x0D && pending[i + 1] == 0x0A ? 2 : 1
            if atLineStart {
                // A line end right after a line end: the blank line that ends the event.
                events.append(Array(pending[start..<(i + length)]))
                start = i + length
            }
            atLineStart = true
            i += length
        }
        pending.removeFirst(start)
        scanned = i - start
        if pending.count > maxEventBytes { throw TooLarge() }
        return events
    }

    /// What is left when the stream ends: an event that never ended (a
    /// client discards it, HTML §9.2.6 "If the file ends in the middle of
    /// an event...").
    public var unfinished: [UInt8] { pending }

    /// The line end at `i` (CRLF, LF or CR) and where the next line starts.
    static func lineEnd(_ bytes: [UInt8], at i: Int) -> (end: Int, length: Int)? {
        guard i < bytes.count else { return nil }
        switch bytes[i] {
        case 0x0A: return (i + 1, 1)
        case 0x0D: return i + 1 < bytes.count && bytes[i + 1] == 0x0A ? (i + 2, 2) : (i + 1, 1)
        default: return nil
        }
    }

    /// An event's lines, without their line ends (the blank last line left out).
    static func lines(_ event: [UInt8]) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        var i = 0
        while i < event.count {
            if let end = lineEnd(event, at: i) {
                lines.append(current)
                current = []
                i = end.end
            } else {
                current.append(event[i])
                i += 1
            }
        }
        if !current.isEmpty { lines.append(current) }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }

    /// The field name of a line (`data` in `data: x`); "" for a comment.
    static func field(_ line: [UInt8]) -> String {
        if line.first == UInt8(ascii: ":") { return "" }
        let name = line.firstIndex(of: UInt8(ascii: ":")).map { line[..<$0] } ?? line[...]
        return String(decoding: name, as: UTF8.self)
    }

    /// The value after `field:` and one optional space.
    static func value(_ line: [UInt8]) -> [UInt8] {
        guard var i = line.firstIndex(of: UInt8(ascii: ":")) else { return [] }
        i += 1
        if i < line.count, line[i] == 0x20 { i += 1 }
        return Array(line[i...])
    }
}
