import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ShimCore
import ShimStorage
import ShimTokens

/// What the gateway holds each grant to once its token is valid: its MCP
/// sessions bound to it (`SessionBinding`), its streams bounded in number,
/// time and authority (`StreamSlots`, `StreamAuthority`), its request rate
/// (`GrantRateLimit`). docs/security-rules.md, rules 15 and 16;
/// docs/tokens-and-gateway.md, "Sessions, streams and limits".
struct GatewayGuards: Sendable {
    let sessions: any GatewaySessionStore
    let limits: GatewayGrantLimits
    let rate: GrantRateLimit
    let slots: StreamSlots
    let validator: IssuedTokenValidator
    let clock: any ShimClock

    static let sessionHeader = HTTPField.Name("Mcp-Session-Id")!
    /// Seconds a client waits before opening another stream at the cap.
    static let streamRetryAfterSeconds = 5

    init(
        limits: GatewayGrantLimits, sessions: any GatewaySessionStore, sharedRateLimit: (any SharedRateLimitStore)?,
        validator: IssuedTokenValidator, clock: any ShimClock, counters: GatewayCounters
    ) {
        self.sessions = sessions
        self.limits = limits
        rate = GrantRateLimit(limit: limits.requestsPerMinute, shared: sharedRateLimit, counters: counters)
        slots = StreamSlots(cap: limits.maxStreamsPerGrant, counters: counters)
        self.validator = validator
        self.clock = clock
    }

    static func owner(_ claims: AccessTokenClaims, _ route: GatewayRoute) -> GatewaySessionOwner {
        GatewaySessionOwner(subject: claims.subject, clientID: claims.clientID, resource: route.resource)
    }

    /// Before the MCP server is called: the grant's request rate, the
    /// session the request names, the grant's stream cap for a GET (which
    /// always opens a stream). nil: forward; else the answer.
    func admit(_ request: Request, claims: AccessTokenClaims, route: GatewayRoute, logger: Logger) async -> Response? {
        let now = clock.now()
        let grantID = claims.grantID ?? ""
        if let retry = await rate.attempt(grantID, now: now, logger: logger) {
            logger.notice("gateway: grant over gateway.requests_per_minute", metadata: ["grant": "\(grantID.prefix(8))"])
            return Self.tooManyRequests("Too many requests for this sign-in; retry later", retryAfter: retry)
        }
        let ids = request.headers[values: Self.sessionHeader]
        if let id = ids.first, ids.count == 1, SessionBinding.isWellFormed(id) {
            let key = SecretToken.hash(id)
            let record: GatewaySessionRecord?
            do {
                record = try await sessions.gatewaySession(key: key, now: now)
            } catch {
                logger.error("gateway: session store unavailable", metadata: ["error": "\(error)"])
                return GatewayResponses.jsonRPCError(.serviceUnavailable, "Session status unavailable; retry")
            }
            let requester = Self.owner(claims, route)
            if SessionBinding.decide(sessionIDs: ids, recorded: record?.owner, requester: requester) != .owned {
                logger.notice(
                    "gateway: session not found for this user", metadata: ["session": "\(SecretToken.logTag(id))", "recorded": "\(record != nil)"])
                return GatewayResponses.jsonRPCError(.notFound, "Session not found")
            }
            let idle = TimeInterval(limits.sessionIdleTimeoutSeconds)
            if let record, SessionBinding.needsTouch(expiresAt: record.expiresAt, now: now, idleTimeout: idle) {
                do { try await sessions.touchGatewaySession(key: key, expiresAt: now.addingTimeInterval(idle)) } catch {
                    logger.warning("gateway: session lapse not moved", metadata: ["error": "\(error)"])
                }
            }
        } else if !ids.isEmpty {
            return GatewayResponses.jsonRPCError(.badRequest, "Malformed Mcp-Session-Id")
        }
        if request.method == .get, slots.isFull(grantID) {
            logger.notice("gateway: grant at gateway.max_streams_per_grant", metadata: ["grant": "\(grantID.prefix(8))"])
            return Self.tooManyRequests("Too many open streams for this sign-in", retryAfter: Self.streamRetryAfterSeconds)
        }
        return nil
    }

    /// What `answered` decided.
    enum Answer: Sendable {
        /// Pass the MCP server's answer on, within the stream watch when it is a stream.
        case pass(StreamWatch?)
        /// Answer this instead (the MCP server's answer is dropped, its call cancelled).
        case refuse(Response)
    }

    /// After the MCP server answered: a session id it returned is recorded
    /// for the requester (one it returns for the id the request named was
    /// checked by `admit` already); a session it deleted is forgotten; a
    /// stream takes a slot of the grant and gets its authority.
    func answered(_ upstream: HTTPClientResponse, request: Request, claims: AccessTokenClaims, route: GatewayRoute, logger: Logger) async -> Answer {
        let now = clock.now()
        let success = (200..<300).contains(Int(upstream.status.code))
        let sent = request.headers[Self.sessionHeader]
        if success, let returned = upstream.headers.first(name: "mcp-session-id"), returned != sent {
            let owner = Self.owner(claims, route)
            do {
                let record = try await sessions.recordGatewaySession(
                    key: SecretToken.hash(returned), owner: owner,
                    expiresAt: now.addingTimeInterval(TimeInterval(limits.sessionIdleTimeoutSeconds)), now: now)
                guard record.owner == owner else {
                    // Only an MCP server that reuses session ids across users gets here.
                    logger.error(
                        "gateway: the MCP server returned a session id another user holds", metadata: ["session": "\(SecretToken.logTag(returned))"])
                    return .refuse(GatewayResponses.jsonRPCError(.badGateway, "MCP server returned a session in use"))
                }
            } catch {
                // Unrecorded, the session would be refused on its next use: say so now.
                logger.error("gateway: session store unavailable", metadata: ["error": "\(error)"])
                return .refuse(GatewayResponses.jsonRPCError(.serviceUnavailable, "Session store unavailable; retry"))
            }
        }
        if success, request.method == .delete, let sent {
            do { try await sessions.forgetGatewaySession(key: SecretToken.hash(sent)) } catch {
                logger.warning("gateway: deleted session not forgotten (it lapses)", metadata: ["error": "\(error)"])
            }
        }
        guard upstream.headers.first(name: "content-type")?.lowercased().hasPrefix("text/event-stream") == true else { return .pass(nil) }
        let grantID = claims.grantID ?? ""
        guard let slot = slots.acquire(grantID) else {
            logger.notice("gateway: grant at gateway.max_streams_per_grant", metadata: ["grant": "\(grantID.prefix(8))"])
            return .refuse(Self.tooManyRequests("Too many open streams for this sign-in", retryAfter: Self.streamRetryAfterSeconds))
        }
        let validator = validator
        let authority = StreamAuthority(
            deadline: StreamLifetime.end(tokenExpiresAt: claims.expiresAt, openedAt: now, maxLifetimeSeconds: limits.maxStreamLifetimeSeconds),
            recheck: .seconds(limits.streamRecheckIntervalSeconds), clock: clock,
            checkGrant: { try await validator.checkGrant(claims) })
        return .pass(StreamWatch(slot: slot, authority: authority))
    }

    /// RFC 6585 §4: 429 with `Retry-After`, its body the JSON-RPC error
    /// shape the gateway's other refusals have.
    static func tooManyRequests(_ message: String, retryAfter: Int) -> Response {
        var response = GatewayResponses.jsonRPCError(.tooManyRequests, message)
        response.headers[.retryAfter] = String(retryAfter)
        return response
    }
}
