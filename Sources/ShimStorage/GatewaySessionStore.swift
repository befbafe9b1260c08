public import Foundation
public import ShimCore

/// A recorded MCP session: its owner and when the record lapses.
public struct GatewaySessionRecord: Sendable, Equatable {
    public var owner: GatewaySessionOwner
    public var expiresAt: Date

    public init(owner: GatewaySessionOwner, expiresAt: Date) {
        self.owner = owner
        self.expiresAt = expiresAt
    }
}

/// MCP sessions (`Mcp-Session-Id`) the gateway saw an MCP server create,
/// keyed by `SecretToken.hash` of the session id (a dump of the store
/// yields no usable id), so that every replica sharing the store refuses a
/// session to anyone but the user and client that opened it
/// (docs/security-rules.md, rule 15).
public protocol GatewaySessionStore: Sendable {
    /// Records `owner` for `key` until `expiresAt` when there is no live
    /// record of it; a live record of the same owner gets `expiresAt`; a
    /// live record of another owner is left unchanged (the first owner
    /// keeps the session). Returns the record as stored after the call;
    /// one step, so of two callers racing on a new key exactly one owns it.
    func recordGatewaySession(key: String, owner: GatewaySessionOwner, expiresAt: Date, now: Date) async throws -> GatewaySessionRecord
    /// The live record of `key`; nil when there is none or it has lapsed.
    func gatewaySession(key: String, now: Date) async throws -> GatewaySessionRecord?
    /// Moves a record's lapse to `expiresAt` (a session in use stays recorded).
    func touchGatewaySession(key: String, expiresAt: Date) async throws
    /// Forgets a record (the session was deleted).
    func forgetGatewaySession(key: String) async throws
    /// Deletes lapsed records (housekeeping); returns how many.
    @discardableResult
    func purgeExpiredGatewaySessions(now: Date) async throws -> Int
}
