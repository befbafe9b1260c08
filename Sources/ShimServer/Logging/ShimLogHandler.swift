import Foundation
public import Logging
import ShimCore
import Synchronization

// `timespec` resolves to CoreFoundation's declaration once jwt-kit is in the
// module graph (member import visibility).
#if canImport(CoreFoundation)
import CoreFoundation
#endif

/// The shim's log lines, one per event on stderr: `log.format: text` (the
/// layout of swift-log's stream handler) or `json` (one object per line,
/// with `hb.request.id` and every metadata key as a field).
///
/// Every value is passed through `LogSafe.text` first (no log injection):
/// a CR or LF that a client put into a parameter name, a client name or
/// a header can never start a forged line, and other control characters
/// (terminal escapes, bidirectional overrides) are shown as escapes. The
/// values are what the code logs: never a secret, code or token.
public struct ShimLogHandler: LogHandler {
    public enum Format: String, Sendable {
        case text, json
    }

    let label: String
    let format: Format
    let write: @Sendable (String) -> Void
    /// `log.level`: one level for the whole process (`RuntimeLogLevel`), so
    /// a reload changes it for loggers already handed out, too.
    public var logLevel: Logger.Level {
        get { RuntimeLogLevel.current }
        set { RuntimeLogLevel.current = newValue }
    }
    public var metadata: Logger.Metadata = [:]

    /// - Parameter write: where each finished line goes (stderr by default;
    ///   tests capture it).
    public init(label: String, format: Format, write: @escaping @Sendable (String) -> Void = ShimLogHandler.standardError) {
        self.label = label
        self.format = format
        self.write = write
    }

    public static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data(line.utf8))
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.sorted { $0.key < $1.key }.map { (LogSafe.text($0.key), LogSafe.text(Self.render($0.value))) }
        let message = LogSafe.text(event.message.description)
        switch format {
        case .text:
            let pairs = fields.map { " \($0)=\($1)" }.joined()
            write("\(Self.timestamp()) \(event.level) \(LogSafe.text(label)) :\(pairs) [\(LogSafe.text(event.source))] \(message)\n")
        case .json:
            var line = "{"
            JSONText.member("ts", Self.timestamp(fractional: true), into: &line, first: true)
            JSONText.member("level", event.level.rawValue, into: &line)
            JSONText.member("label", LogSafe.text(label), into: &line)
            JSONText.member("message", message, into: &line)
            JSONText.member("source", LogSafe.text(event.source), into: &line)
            for (key, value) in fields where !["ts", "level", "label", "message", "source"].contains(key) {
                JSONText.member(key, value, into: &line)
            }
            write(line + "}\n")
        }
    }

    /// Metadata values as text (nested lists and maps as swift-log prints them).
    static func render(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): text
        case .stringConvertible(let item): item.description
        case .array(let items): "[" + items.map(render).joined(separator: ", ") + "]"
        case .dictionary(let map): "[" + map.sorted { $0.key < $1.key }.map { "\($0.key): \(render($0.value))" }.joined(separator: ", ") + "]"
        }
    }

    /// UTC, ISO 8601 (`2026-11-30T14:05:09Z`, or `…09.123Z`), formatted by
    /// hand: Foundation's format styles cost more than the rest of a line.
    static func timestamp(fractional: Bool = false) -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        var text =
            "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
        if fractional {
            let millis = Int(now.tv_nsec / 1_000_000)
            text += "." + (millis < 10 ? "00" : millis < 100 ? "0" : "") + "\(millis)"
        }
        return text + "Z"
    }
}

/// JSON string literals for log lines (RFC 8259 §7): quotes, backslashes
/// and every control character escaped.
enum JSONText {
    static func member(_ key: String, _ value: String, into line: inout String, first: Bool = false) {
        if !first { line += "," }
        string(key, into: &line)
        line += ":"
        string(value, into: &line)
    }

    static func string(_ text: String, into line: inout String) {
        line += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": line += "\\\""
            case "\\": line += "\\\\"
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            case "\t": line += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    let hex = String(scalar.value, radix: 16)
                    line += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    line.unicodeScalars.append(scalar)
                }
            }
        }
        line += "\""
    }
}

/// The process's log level, read by every `ShimLogHandler` on each log call:
/// set at start from `log.level` and again by a reload.
public enum RuntimeLogLevel {
    private static let index = Atomic<Int>(Logger.Level.allCases.firstIndex(of: .info)!)

    public static var current: Logger.Level {
        get { Logger.Level.allCases[index.load(ordering: .relaxed)] }
        set { index.store(Logger.Level.allCases.firstIndex(of: newValue)!, ordering: .relaxed) }
    }
}
