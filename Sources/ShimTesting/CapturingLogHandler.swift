public import Logging

/// A swift-log handler that keeps every line (level, message, metadata,
/// error) so a test can check what the server would have written.
public struct CapturingLogHandler: LogHandler {
    public let lines: Locked<[String]>
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public init(lines: Locked<[String]>) {
        self.lines = lines
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let error = event.error.map { " error=\($0)" } ?? ""
        lines.withLock { $0.append("\(event.level) \(event.message) \(fields)\(error)") }
    }
}
