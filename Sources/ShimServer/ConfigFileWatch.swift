import ShimCore

/// `reload.watch_interval`: looks at the configuration file every interval
/// and calls `changed` when its fingerprint (modification time, size,
/// content hash) differs from the last one seen. A file that cannot be read
/// is not a change: the watch waits for it to come back, and compares then.
/// The caller reloads as on SIGHUP; `changed` is awaited, so a change
/// noticed while a reload runs is seen at the next look after it.
public struct ConfigFileWatch: Sendable {
    public let path: String
    public let interval: Duration
    let sleep: @Sendable (Duration) async throws -> Void

    /// - Parameter sleep: waits one interval (tests shorten it); throws
    ///   when the task is cancelled, which ends the watch.
    public init(
        path: String, interval: Duration, sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.path = path
        self.interval = interval
        self.sleep = sleep
    }

    /// Watches until the task is cancelled.
    public func run(changed: @Sendable () async -> Void) async {
        var last = ConfigFileFingerprint.read(path)
        while !Task.isCancelled {
            do { try await sleep(interval) } catch { return }
            guard let now = ConfigFileFingerprint.read(path) else { continue }
            if now != last {
                last = now
                await changed()
            }
        }
    }
}
