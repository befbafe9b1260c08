import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ShimCore

/// Why a streamed answer ended.
enum StreamEnd: String, Sendable, Equatable {
    /// The MCP server ended it (or it failed on its own).
    case finished
    /// The token's `exp` or `gateway.max_stream_lifetime` came.
    case expired
    /// The grant was revoked.
    case revoked
    /// The grant's status could not be read (the store failed): ended
    /// rather than carried on unchecked (the client resumes once it can
    /// sign the request again).
    case unverifiable
}

/// A streamed answer's authority (docs/security-rules.md, rule 15): it
/// flows until `deadline` (the earlier of the token's `exp` and
/// `gateway.max_stream_lifetime`, `StreamLifetime.end`) and, every
/// `recheck`, only while the grant is still live. Then the gateway ends the
/// response cleanly (the chunked body's last chunk, no error), cancelling
/// the upstream call; the MCP client reconnects with `Last-Event-ID` and
/// whatever token it now holds (MCP Streamable HTTP, "Resumability and
/// Redelivery"), and a revoked grant's client gets 401.
struct StreamAuthority: Sendable {
    let deadline: Date
    let recheck: Duration
    let clock: any ShimClock
    /// Throws `TokenProblem` when the grant is no longer live
    /// (`IssuedTokenValidator.checkGrant`), any other error when unknown.
    let checkGrant: @Sendable () async throws -> Void

    /// Runs `operation` (the copy of the stream) until it ends or the
    /// authority does, whichever is first; the other is cancelled.
    /// `operation` runs in a child task while this task waits for it, as
    /// Hummingbird's `consumeWithCancellationOnInboundClose` runs its own:
    /// nothing else touches what it captures meanwhile.
    func run(_ operation: () async throws -> Void) async throws -> StreamEnd {
        try await withoutActuallyEscaping(operation) { operation in
            let copy = UncheckedTransfer(operation)
            return try await withThrowingTaskGroup(of: StreamEnd.self) { group in
                group.addTask {
                    try await copy.value()
                    return .finished
                }
                group.addTask { try await self.watch() }
                let first = try await group.next() ?? .finished
                group.cancelAll()
                return first
            }
        }
    }

    /// Sleeps until the next check or the deadline, whichever is sooner;
    /// returns when the stream must end.
    func watch() async throws -> StreamEnd {
        while true {
            let left = deadline.timeIntervalSince(clock.now())
            if left <= 0 { return .expired }
            try await Task.sleep(for: min(recheck, .milliseconds(Int64((left * 1000).rounded(.up)))))
            if deadline <= clock.now() { return .expired }
            do {
                try await checkGrant()
            } catch is TokenProblem {
                return .revoked
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                return .unverifiable
            }
        }
    }
}

/// What a forwarded stream holds while it flows: its grant's stream slot
/// and its authority.
struct StreamWatch: Sendable {
    let slot: StreamSlot
    let authority: StreamAuthority

    /// Copies the MCP server's body to the client, within `watch`'s
    /// authority when there is one (a stream), as it comes otherwise.
    static func copy(
        _ body: HTTPClientResponse.Body, to writer: inout any ResponseBodyWriter, watch: StreamWatch?, logger: Logger
    ) async throws {
        guard let watch else {
            for try await chunk in body { try await writer.write(chunk) }
            return
        }
        // Given back before the client sees the end, so it can open the next one at once.
        defer { watch.slot.release() }
        let end = try await watch.authority.run {
            for try await chunk in body { try await writer.write(chunk) }
        }
        if end != .finished {
            logger.info("gateway: stream ended by the gateway", metadata: ["reason": "\(end.rawValue)", "grant": "\(watch.slot.grantID.prefix(8))"])
        }
    }
}

/// A value handed to a child task that the caller guarantees is used by
/// one task at a time (see `StreamAuthority.run`).
struct UncheckedTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
