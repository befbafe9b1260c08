public import Foundation

/// Who opened an MCP session through the gateway: the grant's user and
/// client, and the resource the session belongs to.
public struct GatewaySessionOwner: Sendable, Equatable, Codable {
    /// The token's `sub`.
    public var subject: String
    /// The token's `client_id`.
    public var clientID: String
    /// The gateway resource (`resources[i].resource`) that answered.
    public var resource: String

    public init(subject: String, clientID: String, resource: String) {
        self.subject = subject
        self.clientID = clientID
        self.resource = resource
    }
}

/// MCP sessions bound to the principal that opened them
/// (docs/security-rules.md, rule 15).
///
/// MCP security best practices, "Session Hijacking": "MCP servers SHOULD
/// bind session IDs to user specific information." The MCP server behind
/// the gateway has no users, so the gateway binds them: the session id the
/// server's answer carries is recorded for the token's (subject, client,
/// resource), and only that principal may name it again.
///
/// MCP Streamable HTTP, "Session Management": a server that does not know a
/// session "MUST respond to requests containing that session ID with HTTP
/// 404 Not Found", and the client then "MUST start a new session". So a
/// session id recorded for another principal, and one the gateway never
/// recorded (or forgot after `gateway.session_idle_timeout`), are answered
/// 404 by the gateway without reaching the MCP server: an unrecorded id is
/// refused rather than forwarded, because an MCP server that keeps idle
/// sessions longer than the gateway (many keep them until restart) would
/// otherwise hand a forgotten session to whoever names it first.
public enum SessionBinding {
    /// What to do with a request naming a session.
    public enum Decision: Sendable, Equatable {
        /// No `Mcp-Session-Id`: nothing to check (initialization, or a stateless server).
        case noSession
        /// The requester opened it.
        case owned
        /// Recorded for another principal, or not recorded: 404.
        case notFound
        /// More than one `Mcp-Session-Id`, or one with characters outside
        /// visible ASCII ("The session ID MUST only contain visible ASCII
        /// characters (ranging from 0x21 to 0x7E)"): 400.
        case malformed
    }

    /// The decision for the request's `Mcp-Session-Id` values, given the
    /// live record of the (single) id and the requester.
    public static func decide(sessionIDs: [String], recorded: GatewaySessionOwner?, requester: GatewaySessionOwner) -> Decision {
        guard let id = sessionIDs.first else { return .noSession }
        guard sessionIDs.count == 1, isWellFormed(id) else { return .malformed }
        return recorded == requester ? .owned : .notFound
    }

    /// A session id as the transport allows it: 1 to 512 visible ASCII characters.
    public static func isWellFormed(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 512 && id.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }

    /// Whether a record in use should have its lapse moved: once a tenth of
    /// the idle timeout has passed since it was last set, so a busy session
    /// costs a store write per `idle / 10`, not one per request.
    public static func needsTouch(expiresAt: Date, now: Date, idleTimeout: TimeInterval) -> Bool {
        expiresAt.timeIntervalSince(now) < idleTimeout * 0.9
    }
}

/// When a streamed answer must end (docs/security-rules.md, rule 15: a
/// stream never outlives the token's expiry, nor the grant's revocation
/// by more than `gateway.stream_recheck_interval`).
public enum StreamLifetime {
    /// The earlier of the token's `exp` and `openedAt + maxLifetime`
    /// (`gateway.max_stream_lifetime`). RFC 9068 §4: the resource server
    /// "MUST" reject an expired token; a stream opened with it carries its
    /// authority no further.
    public static func end(tokenExpiresAt: Int, openedAt: Date, maxLifetimeSeconds: Int) -> Date {
        min(Date(timeIntervalSince1970: TimeInterval(tokenExpiresAt)), openedAt.addingTimeInterval(TimeInterval(maxLifetimeSeconds)))
    }
}
