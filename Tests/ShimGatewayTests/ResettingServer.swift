import NIOCore
import NIOPosix
import Synchronization

/// A TCP server that reads the start of a request and then resets the
/// connection (`SO_LINGER` 0, so the close sends RST), as a crashing or
/// overloaded MCP server does in the middle of an upload.
final class ResettingServer: Sendable {
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    let channel: any Channel
    private let counter: Counter

    var port: Int { channel.localAddress?.port ?? 0 }
    var connectionsReset: Int { counter.value.load(ordering: .relaxed) }

    private init(channel: any Channel, counter: Counter) {
        self.channel = channel
        self.counter = counter
    }

    static func start() async throws -> ResettingServer {
        let counter = Counter()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ResetOnFirstRead(counter: counter)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return ResettingServer(channel: channel, counter: counter)
    }

    func stop() async throws { try await channel.close() }
}

/// Resets its connection on the first bytes received.
private final class ResetOnFirstRead: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let counter: ResettingServer.Counter

    init(counter: ResettingServer.Counter) { self.counter = counter }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        counter.value.add(1, ordering: .relaxed)
        let channel = context.channel
        guard let provider = channel as? any SocketOptionProvider else { return channel.close(promise: nil) }
        provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
    }
}
