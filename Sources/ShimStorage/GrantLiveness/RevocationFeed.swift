import Synchronization

/// Revocations this process has committed to its store, told at once to
/// whoever keeps grant statuses in memory (`GrantLiveness`). Every store
/// announces here after `revokeGrant` and `revokeGrants(clientID:)` commit;
/// the revoke endpoint, refresh-token reuse detection and the revocation of
/// a withdrawn configured client all go through those two.
public final class RevocationFeed: Sendable {
    private let observers = Mutex<[@Sendable ([String]) -> Void]>([])

    public init() {}

    /// `observer` is called with the ids of every revocation committed from
    /// now on, on the revoking task, after its commit.
    public func observe(_ observer: @escaping @Sendable ([String]) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    func announce(_ grantIDs: [String]) {
        guard !grantIDs.isEmpty else { return }
        for observer in observers.withLock({ $0 }) { observer(grantIDs) }
    }
}
