import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import ShimCore
import ShimServer
import ShimTesting
import Testing

/// No log injection: control characters in logged values are escaped, in
/// the text and the JSON format, so a client cannot forge log lines.
@Suite("Log injection: every logged value escaped")
struct LogInjectionTests {
    static let hostile = "x\r\n2026-01-01T00:00:00Z info dcr-shim : audit=consent_given [ShimServer] forged\u{1B}[2J\u{202E}\u{85}\u{2028}end\\"

    static func lines(_ format: ShimLogHandler.Format, _ body: (Logger) -> Void) -> [String] {
        let out = Locked<[String]>([])
        let logger = Logger(label: "dcr-shim") { label in
            ShimLogHandler(label: label, format: format, write: { line in out.withLock { $0.append(line) } })
        }
        body(logger)
        return out.withLock { $0 }
    }

    @Test("a hostile value, key and message stay on one line in both formats", arguments: [ShimLogHandler.Format.text, .json])
    func oneLine(_ format: ShimLogHandler.Format) throws {
        let written = Self.lines(format) { logger in
            logger.notice("error page \(Self.hostile)", metadata: ["detail": "\(Self.hostile)", "k\r\ney": "v", "list": .array(["\(Self.hostile)"])])
        }
        #expect(written.count == 1)
        let line = try #require(written.first)
        #expect(line.hasSuffix("\n"))
        let body = line.dropLast()
        #expect(!body.contains("\n") && !body.contains("\r"))
        #expect(!body.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0.value == 0x202E || $0.value == 0x2028 })
        if format == .json {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            let detail = try #require(object["detail"] as? String)
            #expect(detail == LogSafe.text(Self.hostile))
            #expect(detail.hasPrefix("x\\r\\n2026") && detail.contains("\\u{1B}[2J\\u{202E}\\u{85}\\u{2028}end\\\\"))
            #expect(object["k\\r\\ney"] as? String == "v")
        } else {
            #expect(body.contains("detail=x\\r\\n2026-01-01T00:00:00Z info dcr-shim : audit=consent_given"))
            #expect(body.contains(" k\\r\\ney=v "))
        }
    }

    @Test("LogSafe.text: printable text unchanged; backslashes doubled; a limit cuts with an ellipsis")
    func logSafe() {
        #expect(LogSafe.text("Claude Code – 日本語 🚀") == "Claude Code – 日本語 🚀")
        #expect(LogSafe.text(#"a\b"#) == #"a\\b"#)
        #expect(LogSafe.text("a\tb\u{7F}") == #"a\tb\u{7F}"#)
        #expect(LogSafe.text(String(repeating: "a", count: 50), limit: 40) == String(repeating: "a", count: 40) + "…")
        #expect(LogSafe.text("é\n" + String(repeating: "b", count: 50), limit: 3) == #"é\nb…"#)
    }

    /// Through the router: a repeated parameter whose name carries CR LF reaches
    /// the error page's log line and its description escaped.
    @Test("a parameter name with CR LF is escaped in the error description that the log carries")
    func parameterNameEscaped() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let response = try await client.get("/authorize?a%0D%0Ab=1&a%0D%0Ab=2", headers: [.accept: "application/json"])
            #expect(response.status == .badRequest)
            let description = try #require(response.json["error_description"] as? String)
            #expect(description == #"parameter a\r\nb is repeated"#)
            #expect(harness.logLines.withLock { $0 }.contains { $0.contains(#"a\r\nb"#) })
        }
    }
}
