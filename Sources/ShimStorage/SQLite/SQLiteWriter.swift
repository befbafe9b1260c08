import NIOPosix
import Synchronization

/// Group commit for SQLite: the write path scaled for load.
///
/// Every write of the process goes through one connection on one thread.
/// Writes that arrive while a commit is in progress queue up; the next
/// batch runs all of them in ONE transaction and ONE commit, so with
/// `synchronous=FULL` a burst of N concurrent writes costs one fsync of the
/// WAL instead of N. Durability is unchanged: a caller is resumed only after
/// the commit that holds its write has returned, that is, after the fsync;
/// an acknowledged write survives `kill -9` and power loss.
///
/// Each write runs inside its own SAVEPOINT, so a write that fails (a
/// constraint, a bug) is rolled back alone and the rest of the batch
/// commits. If the commit itself fails, or SQLite rolls the whole
/// transaction back (a full disk, an I/O error), every write of the batch
/// fails with that error: none was acknowledged.
///
/// Writes of one batch run one after the other on one connection, so each
/// write's statements see the effects of the writes before it and are
/// atomic with respect to every other write (what `BEGIN IMMEDIATE … COMMIT`
/// per write gave before, without its fsync each).
final class SQLiteWriter: Sendable {
    /// A write waiting for the next batch.
    struct Job: Sendable {
        /// Runs the write on the writer's thread; false when it threw.
        let run: @Sendable (SQLiteDB) -> Bool
        /// Delivers the result once the batch's fate is known (nil: committed).
        let finish: @Sendable ((any Error)?) -> Void
    }

    private struct Queue {
        var jobs: [Job] = []
        var draining = false
        var statistics = SQLiteStore.WriteStatistics()
    }

    private let db: SQLiteDB
    private let thread: NIOThreadPool
    private let queue = Mutex(Queue())
    /// The most writes one commit carries, so one batch's latency stays bounded.
    let maxBatch: Int

    init(db: SQLiteDB, maxBatch: Int = 512) {
        self.db = db
        self.maxBatch = maxBatch
        thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
    }

    /// Runs `body` in the next batch; returns once its batch has committed.
    func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteDB) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let outcome = Outcome<T>()
            let job = Job(
                run: { db in
                    do {
                        outcome.result = .success(try body(db))
                        return true
                    } catch {
                        outcome.result = .failure(error)
                        return false
                    }
                },
                finish: { batchError in
                    if let batchError { continuation.resume(throwing: batchError) } else { continuation.resume(with: outcome.result!) }
                })
            enqueue(job)
        }
    }

    /// Runs `body` alone, outside the batches (schema migration, PRAGMA).
    func exclusive<T: Sendable>(_ body: @escaping @Sendable (SQLiteDB) throws -> T) async throws -> T {
        try await thread.runIfActive { [db] in try body(db) }
    }

    /// Writes and commits so far.
    var statistics: SQLiteStore.WriteStatistics { queue.withLock { $0.statistics } }

    /// Waits for queued writes, then stops the thread and closes the connection.
    func close() async throws {
        try await thread.runIfActive { [db] in db.close() }
        try await thread.shutdownGracefully()
    }

    private func enqueue(_ job: Job) {
        let start = queue.withLock { state in
            state.jobs.append(job)
            if state.draining { return false }
            state.draining = true
            return true
        }
        if start {
            // The pool has one thread: a drain never runs beside another
            // drain or an `exclusive` body.
            thread.submit { [self] _ in drain() }
        }
    }

    /// On the writer thread: batch after batch until the queue is empty.
    private func drain() {
        while true {
            let batch: [Job] = queue.withLock { state in
                guard !state.jobs.isEmpty else {
                    state.draining = false
                    return []
                }
                let taken = Array(state.jobs.prefix(maxBatch))
                state.jobs.removeFirst(taken.count)
                state.statistics.writes += taken.count
                state.statistics.commits += 1
                return taken
            }
            if batch.isEmpty { return }
            commit(batch)
        }
    }

    private func commit(_ batch: [Job]) {
        // Control statements are prepared once, like every other statement.
        do {
            try db.query("BEGIN IMMEDIATE")
        } catch {
            for job in batch { job.finish(error) }
            return
        }
        if batch.count == 1 {
            // Alone in its transaction, a write needs no savepoint: if it
            // fails, the transaction is rolled back and its error returned.
            let succeeded = batch[0].run(db)
            do { try db.query(succeeded ? "COMMIT" : "ROLLBACK") } catch {
                abort(batch, error)
                return
            }
            batch[0].finish(nil)
            return
        }
        for job in batch {
            do {
                try db.query("SAVEPOINT write")
                if job.run(db) {
                    try db.query("RELEASE write")
                } else {
                    try db.query("ROLLBACK TO write")
                    try db.query("RELEASE write")
                }
            } catch {
                // The transaction is gone or unusable: nothing of this batch
                // may be acknowledged.
                abort(batch, error)
                return
            }
        }
        do {
            try db.query("COMMIT")
        } catch {
            abort(batch, error)
            return
        }
        for job in batch { job.finish(nil) }
    }

    private func abort(_ batch: [Job], _ error: any Error) {
        if db.inTransaction { _ = try? db.query("ROLLBACK") }
        for job in batch { job.finish(error) }
    }
}

/// A write's result, set and read only on the writer thread.
private final class Outcome<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
