import NIOPosix
import Synchronization

/// Read-only work on a few connections of their own, beside the writer.
///
/// In WAL mode readers never wait for the writer and always see the last
/// committed state: a write acknowledged by `SQLiteWriter` is visible to
/// every read that starts after it.
final class SQLiteReaders: Sendable {
    private let pool: NIOThreadPool
    private let idle: Mutex<[SQLiteDB]>

    /// One connection per thread, so a running read always finds one.
    init(path: String, count: Int) throws {
        idle = Mutex(try (0..<count).map { _ in try SQLiteDB(path: path) })
        pool = NIOThreadPool(numberOfThreads: count)
        pool.start()
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteDB) throws -> T) async throws -> T {
        try await pool.runIfActive { [self] in
            let db = idle.withLock { $0.removeLast() }
            defer { idle.withLock { $0.append(db) } }
            return try body(db)
        }
    }

    func close() async throws {
        try await pool.shutdownGracefully()
        idle.withLock { dbs in
            for db in dbs { db.close() }
        }
    }
}
