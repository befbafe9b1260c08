import Logging
import ShimServer
import ShimTesting
import Testing

/// `log.level` is one level for the whole process (`RuntimeLogLevel`), so a
/// reload (SIGHUP) changes it for the loggers already handed out, too.
@Suite("RuntimeLogLevel: log.level changes live")
struct RuntimeLogLevelTests {
    @Test("a logger handed out before the change follows it, both ways")
    func loggerFollowsTheChange() {
        let out = Locked<[String]>([])
        let logger = Logger(label: "dcr-shim") { label in
            ShimLogHandler(label: label, format: .text, write: { line in out.withLock { $0.append(line) } })
        }
        let before = RuntimeLogLevel.current
        defer { RuntimeLogLevel.current = before }
        // Only ever more verbose than the default, so tests logging at the same time lose nothing.
        RuntimeLogLevel.current = .info
        logger.debug("hidden at info")
        RuntimeLogLevel.current = .debug
        #expect(logger.logLevel == .debug)
        logger.debug("shown at debug")
        RuntimeLogLevel.current = .info
        logger.debug("hidden again")
        logger.info("shown at info")
        let lines = out.withLock { $0 }
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.contains("shown at debug") == true && lines.last?.contains("shown at info") == true)
    }
}
