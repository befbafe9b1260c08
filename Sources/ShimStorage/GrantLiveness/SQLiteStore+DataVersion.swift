extension SQLiteStore {
    /// `PRAGMA data_version` of the writer's connection: "The integer values
    /// returned by two invocations of "PRAGMA data_version" from the same
    /// connection will be different if changes were committed to the
    /// database by any other connection in the interim" (sqlite.org,
    /// pragma.html#pragma_data_version). The writer makes every commit of
    /// this process, so the value moves only when ANOTHER process committed
    /// to the file (the admin commands: `grants revoke`, `clients revoke`):
    /// the cheapest correct signal for `GrantLiveness`, with no schema
    /// change and no write on the revoking side. Runs between the writer's
    /// batches (one statement, no transaction).
    public func dataVersion() async throws -> Int64 {
        try await writer.exclusive { db in
            guard let value = try db.query("PRAGMA data_version").first?["data_version"]?.integer else {
                throw DataVersionUnavailable()
            }
            return Int64(value)
        }
    }
}

/// `PRAGMA data_version` answered nothing (never expected; the caller reads the store instead).
struct DataVersionUnavailable: Error {}
