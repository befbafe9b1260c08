import Foundation
import NIOConcurrencyHelpers

/// One fetch's race between its work and its deadline: who answers the
/// caller (once), and who gives the slot back (once).
final class Attempt: Sendable {
    struct State {
        var waiting: CheckedContinuation<FetchCache.Outcome, Never>?
        var lookupDone = false
        var timedOut = false
        var released = false
    }

    let state = NIOLockedValueBox(State())

    /// The continuation, for whoever answers first.
    func takeWaiting() -> CheckedContinuation<FetchCache.Outcome, Never>? {
        state.withLockedValue { $0.waiting.take() }
    }

    /// Marks the lookup returned; true when the deadline had already passed.
    func lookupReturned() -> Bool {
        state.withLockedValue { state in
            state.lookupDone = true
            return state.timedOut
        }
    }

    /// Marks the deadline passed; true when the lookup had already returned.
    func deadlinePassed() -> Bool {
        state.withLockedValue { state in
            state.timedOut = true
            return state.lookupDone
        }
    }

    /// True exactly once: the caller gives the slot back.
    func takeRelease() -> Bool {
        state.withLockedValue { state in
            defer { state.released = true }
            return !state.released
        }
    }
}

extension Result where Success == GuardedFetcher.Document, Failure == GuardedFetcher.FetchError {
    var metricOutcome: String {
        switch self {
        case .success: "ok"
        case .failure(let error):
            switch error {
            case .invalidURL: "invalid_url"
            case .resolution: "resolution"
            case .forbiddenAddress: "forbidden_address"
            case .connection: "connection"
            case .redirectRefused: "redirect"
            case .status: "status"
            case .tooLarge: "too_large"
            case .timeout: "timeout"
            case .contentType: "content_type"
            case .busy: "busy"
            case .clientBusy: "client_busy"
            case .resolverBusy: "resolver_busy"
            }
        }
    }
}
