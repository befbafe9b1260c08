/// `storage.sqlite_synchronous`: when a write counts as done.
public enum SQLiteSynchronous: String, Sendable, Equatable, CaseIterable {
    /// A response is sent only after its write reached the disk (default):
    /// nothing acknowledged is lost, even on power loss.
    case full
    /// WAL without an fsync per commit: survives a process crash, may lose
    /// the last writes on power loss; several times faster.
    case normal
}
