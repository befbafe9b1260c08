import Hummingbird
import HummingbirdTesting
import NIOCore
import ShimServer
import Testing

/// A reload swaps the router the server answers with (`ReloadableResponder`):
/// the requests that start afterwards get the new one, while a response
/// already being written (an open SSE stream) finishes on the one it started with.
@Suite("ReloadableResponder: a reload swaps the router without cutting a request in progress")
struct ReloadableResponderTests {
    /// The running router: `/answer` says "old"; `/stream` writes its first
    /// part, says it has begun, and writes the last part only when released.
    static func oldRouter(begun: AsyncStream<Void>.Continuation, release: AsyncStream<Void>) -> Router<ShimRequestContext> {
        let router = Router(context: ShimRequestContext.self)
        router.get("/answer") { _, _ in "old" }
        router.get("/stream") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/event-stream"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "data: first\n\n"))
                    begun.yield()
                    for await _ in release { break }
                    try await writer.write(ByteBuffer(string: "data: last\n\n"))
                    try await writer.finish(nil)
                })
        }
        return router
    }

    static func newRouter() -> Router<ShimRequestContext> {
        let router = Router(context: ShimRequestContext.self)
        router.get("/answer") { _, _ in "new" }
        router.get("/stream") { _, _ in "new stream" }
        return router
    }

    @Test("after replace(with:) new requests get the new router; a stream begun on the old one completes", .timeLimit(.minutes(1)))
    func swapWhileStreaming() async throws {
        let (begun, begunContinuation) = AsyncStream.makeStream(of: Void.self)
        let (release, releaseContinuation) = AsyncStream.makeStream(of: Void.self)
        let reloadable = ReloadableResponder(Self.oldRouter(begun: begunContinuation, release: release).buildResponder())
        let app = Application(responder: reloadable)
        try await app.test(.router) { client in
            let before = try await client.execute(uri: "/answer", method: .get)
            #expect(String(buffer: before.body) == "old")

            async let streamed = client.execute(uri: "/stream", method: .get)
            for await _ in begun { break }
            reloadable.replace(with: Self.newRouter().buildResponder())

            let after = try await client.execute(uri: "/answer", method: .get)
            #expect(after.status == .ok && String(buffer: after.body) == "new")
            let newStream = try await client.execute(uri: "/stream", method: .get)
            #expect(String(buffer: newStream.body) == "new stream")

            releaseContinuation.yield()
            let old = try await streamed
            #expect(old.status == .ok && old.headers[.contentType] == "text/event-stream")
            #expect(String(buffer: old.body) == "data: first\n\ndata: last\n\n")
        }
    }

    @Test("replacing twice: the last router answers")
    func replaceTwice() async throws {
        let (_, begun) = AsyncStream.makeStream(of: Void.self)
        let (release, _) = AsyncStream.makeStream(of: Void.self)
        let reloadable = ReloadableResponder(Self.oldRouter(begun: begun, release: release).buildResponder())
        let third = Router(context: ShimRequestContext.self)
        third.get("/answer") { _, _ in "third" }
        reloadable.replace(with: Self.newRouter().buildResponder())
        reloadable.replace(with: third.buildResponder())
        try await Application(responder: reloadable).test(.router) { client in
            let answer = try await client.execute(uri: "/answer", method: .get)
            #expect(String(buffer: answer.body) == "third")
            // A route only the replaced routers had is gone.
            let stream = try await client.execute(uri: "/stream", method: .get)
            #expect(stream.status == .notFound)
        }
    }
}
