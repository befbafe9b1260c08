public import Hummingbird
import Synchronization

/// The server's responder, replaceable while the server runs: a reload
/// (SIGHUP) builds a new router from the new configuration and swaps it in.
/// A request already being answered (an open SSE stream, a sign-in step)
/// finishes on the responder it started with; the next request gets the
/// new one. The state a sign-in carries between requests lives in the store
/// and the browser, so a sign-in in flight completes across a reload.
public final class ReloadableResponder: HTTPResponder, Sendable {
    public typealias Context = ShimRequestContext
    private let current: Mutex<RouterResponder<ShimRequestContext>>

    public init(_ responder: RouterResponder<ShimRequestContext>) {
        current = Mutex(responder)
    }

    public func replace(with responder: RouterResponder<ShimRequestContext>) {
        current.withLock { $0 = responder }
    }

    public func respond(to request: Request, context: ShimRequestContext) async throws -> Response {
        let responder = current.withLock { $0 }
        return try await responder.respond(to: request, context: context)
    }
}
