public import Foundation
public import ShimCore
import Synchronization

/// The injected clock of tests: time moves only when a test says so, so
/// expiry (codes 5 min, transactions 10 min, the refresh grace window,
/// cached documents, token lifetimes) is tested without sleeping.
public final class TestClock: ShimClock, Sendable {
    private let date: Mutex<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        date = Mutex(start)
    }

    public func now() -> Date { date.withLock { $0 } }

    public func advance(by seconds: TimeInterval) {
        date.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}
