import Foundation
import ShimCore

/// The injected clock: time moves only when a test says so, so expiry
/// (codes 5 min, transactions 10 min, the refresh grace window) is tested
/// without sleeping.
final class TestClock: ShimClock, Sendable {
    private let date: Locked<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        date = Locked(start)
    }

    func now() -> Date { date.current }

    func advance(by seconds: TimeInterval) {
        date.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}
