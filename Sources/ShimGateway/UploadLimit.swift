import NIOCore
import Synchronization

/// What happened to one request body on its way to the MCP server.
final class UploadState: Sendable {
    private struct Counts { var bytes = 0; var finished = false; var tooLarge = false }
    private let counts = Mutex(Counts())

    /// The body has been read to its end (or to its declared length): the
    /// client's connection may now be watched for a close without racing
    /// the upload for the same inbound stream.
    var finished: Bool { counts.withLock { $0.finished } }
    var tooLarge: Bool { counts.withLock { $0.tooLarge } }

    func markFinished() { counts.withLock { $0.finished = true } }

    /// Adds `count` bytes; false when the total passes `limit`.
    func add(_ count: Int, limit: Int, declared: Int?) -> Bool {
        counts.withLock { state in
            state.bytes += count
            if state.bytes > limit { state.tooLarge = true; return false }
            if let declared, state.bytes >= declared { state.finished = true }
            return true
        }
    }
}

struct RequestBodyTooLarge: Error {}

/// The client's request body, streamed to the MCP server (back-pressured by
/// AsyncHTTPClient's reads), cut off past `gateway.max_request_bytes`. Once
/// the end is reached the wrapped body is never read again.
struct LimitedUpload<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let limit: Int
    let declared: Int?
    let state: UploadState

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let limit: Int
        let declared: Int?
        let state: UploadState

        mutating func next() async throws -> ByteBuffer? {
            if state.finished { return nil }
            guard let chunk = try await base.next() else {
                state.markFinished()
                return nil
            }
            guard state.add(chunk.readableBytes, limit: limit, declared: declared) else { throw RequestBodyTooLarge() }
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), limit: limit, declared: declared, state: state)
    }
}
