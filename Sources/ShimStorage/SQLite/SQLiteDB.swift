import VaporCSQLite

/// A value bound to or read from SQLite (the storage classes the shim uses).
enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case double(Double)
    case text(String)

    var text: String? { if case .text(let value) = self { value } else { nil } }
    var double: Double? {
        switch self {
        case .double(let value): value
        case .integer(let value): Double(value)
        default: nil
        }
    }
    var integer: Int? {
        switch self {
        case .integer(let value): Int(value)
        case .double(let value): Int(exactly: value)
        default: nil
        }
    }
}

/// One result row; columns are looked up by name.
struct SQLiteRow: Sendable {
    let names: [String]
    let values: [SQLiteValue]

    subscript(_ name: String) -> SQLiteValue? {
        names.firstIndex(of: name).map { values[$0] }
    }
}

/// An error from libsqlite3, with its extended result code and message.
public struct SQLiteFailure: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String
    public var description: String { "SQLite error \(code): \(message)" }
}

/// One SQLite connection and its prepared statements, on the vendored
/// libsqlite3 that sqlite-nio builds (C module `VaporCSQLite`).
///
/// Why not SQLiteNIO's own connection: it prepares every statement again
/// and hops to a thread pool and back for each one; the group commit of
/// `SQLiteWriter` runs a whole batch of writes in one hop instead, with
/// statements prepared once (the write path scaled for load).
///
/// Not thread-safe by design: each instance is confined to one thread at a
/// time (the writer's thread, or a reader's), so it is opened `NOMUTEX`.
final class SQLiteDB: @unchecked Sendable {
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    /// libsqlite3's global initialisation, once per process (sqlite-nio
    /// guards it the same way: the library's config globals are not
    /// protected against concurrent first use).
    private static let initialized: Bool = sqlite_nio_sqlite3_initialize() == SQLITE_OK

    init(path: String) throws {
        _ = Self.initialized
        let flags = SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let status = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK else {
            let failure = SQLiteFailure(code: status, message: handle.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "cannot open \(path)")
            sqlite_nio_sqlite3_close_v2(handle)
            throw failure
        }
        // Another process (an admin command) may hold the write lock briefly.
        sqlite_nio_sqlite3_busy_timeout(handle, 5000)
    }

    deinit { close() }

    func close() {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        statements = [:]
        if let handle { sqlite_nio_sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Runs SQL without parameters or results (schema, PRAGMA, BEGIN, COMMIT).
    func execute(_ sql: String) throws {
        let status = sqlite_nio_sqlite3_exec(handle, sql, nil, nil, nil)
        guard status == SQLITE_OK else { throw failure(status) }
    }

    /// Runs one statement and returns its rows (also for `RETURNING`).
    @discardableResult
    func query(_ sql: String, _ binds: [SQLiteValue] = []) throws -> [SQLiteRow] {
        let statement = try prepared(sql)
        defer {
            sqlite_nio_sqlite3_reset(statement)
            sqlite_nio_sqlite3_clear_bindings(statement)
        }
        for (index, value) in binds.enumerated() {
            let status = bind(value, at: Int32(index + 1), to: statement)
            guard status == SQLITE_OK else { throw failure(status) }
        }
        let count = sqlite_nio_sqlite3_column_count(statement)
        let names = (0..<count).map { String(cString: sqlite_nio_sqlite3_column_name(statement, $0)) }
        var rows: [SQLiteRow] = []
        while true {
            let status = sqlite_nio_sqlite3_step(statement)
            if status == SQLITE_DONE { return rows }
            guard status == SQLITE_ROW else { throw failure(status) }
            rows.append(SQLiteRow(names: names, values: (0..<count).map { column(statement, $0) }))
        }
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite_nio_sqlite3_changes(handle)) }

    /// Whether a transaction is open (false after SQLite rolled one back on
    /// its own, e.g. on a full disk).
    var inTransaction: Bool { sqlite_nio_sqlite3_get_autocommit(handle) == 0 }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        let status = sqlite_nio_sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard status == SQLITE_OK, let statement else { throw failure(status) }
        statements[sql] = statement
        return statement
    }

    private func bind(_ value: SQLiteValue, at index: Int32, to statement: OpaquePointer) -> Int32 {
        switch value {
        case .null: sqlite_nio_sqlite3_bind_null(statement, index)
        case .integer(let number): sqlite_nio_sqlite3_bind_int64(statement, index, number)
        case .double(let number): sqlite_nio_sqlite3_bind_double(statement, index, number)
        case .text(let text):
            // SQLITE_TRANSIENT: SQLite copies the bytes before this returns.
            sqlite_nio_sqlite3_bind_text64(
                statement, index, text, UInt64(text.utf8.count),
                unsafeBitCast(-1, to: sqlite3_destructor_type.self), UInt8(SQLITE_UTF8))
        }
    }

    private func column(_ statement: OpaquePointer, _ index: Int32) -> SQLiteValue {
        switch sqlite_nio_sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite_nio_sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT: return .double(sqlite_nio_sqlite3_column_double(statement, index))
        case SQLITE_NULL: return .null
        default:
            guard let text = sqlite_nio_sqlite3_column_text(statement, index) else { return .null }
            let length = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: length), as: UTF8.self))
        }
    }

    private func failure(_ status: Int32) -> SQLiteFailure {
        SQLiteFailure(code: status, message: handle.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "closed")
    }
}
