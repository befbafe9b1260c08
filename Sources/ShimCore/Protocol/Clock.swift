public import Foundation

/// The source of "now" for every expiry decision, injected so tests never
/// depend on the wall clock.
public protocol ShimClock: Sendable {
    func now() -> Date
}

/// The wall clock.
public struct SystemClock: ShimClock {
    public init() {}
    public func now() -> Date { Date() }
}
