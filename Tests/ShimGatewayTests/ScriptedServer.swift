import NIOCore
import NIOPosix
import Synchronization

/// A TCP server that misbehaves as a broken MCP server does: on the first
/// bytes of a request it writes `reply` (raw HTTP, possibly wrong) without
/// reading the rest, then closes the connection, with a reset (`SO_LINGER`
/// 0, so the close sends RST) when `reset` is set.
final class ScriptedServer: Sendable {
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    let channel: any Channel
    private let counter: Counter

    var port: Int { channel.localAddress?.port ?? 0 }
    /// Connections answered (or reset) so far.
    var connections: Int { counter.value.load(ordering: .relaxed) }

    private init(channel: any Channel, counter: Counter) {
        self.channel = channel
        self.counter = counter
    }

    static func start(reply: String?, reset: Bool) async throws -> ScriptedServer {
        let counter = Counter()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AnswerOnFirstRead(counter: counter, reply: reply, reset: reset))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return ScriptedServer(channel: channel, counter: counter)
    }

    func stop() async throws { try await channel.close() }
}

/// Writes its reply on the first bytes received, then closes.
private final class AnswerOnFirstRead: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let counter: ScriptedServer.Counter
    let reply: String?
    let reset: Bool
    private let answered = Atomic<Bool>(false)

    init(counter: ScriptedServer.Counter, reply: String?, reset: Bool) {
        self.counter = counter
        self.reply = reply
        self.reset = reset
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered.exchange(true, ordering: .relaxed) else { return }
        counter.value.add(1, ordering: .relaxed)
        let channel = context.channel
        if let reply { context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: reply)), promise: nil) }
        guard reset, let provider = channel as? any SocketOptionProvider else { return channel.close(promise: nil) }
        provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
    }
}
