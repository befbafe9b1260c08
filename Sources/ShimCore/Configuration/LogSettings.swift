/// `log.format`: one line of text per event (default), or one JSON object.
public enum LogFormat: String, Sendable, Equatable, CaseIterable {
    case text, json
}

/// `log.level`: swift-log's levels, by their names.
public enum LogLevel: String, Sendable, Equatable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}
