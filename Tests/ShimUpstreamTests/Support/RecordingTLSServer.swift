import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ShimTesting

/// A real HTTPS listener for the SSRF table: it counts every TCP connection
/// it accepts (before TLS), so a test can show that a refused address never
/// received one, and answers each request as its `behaviour` says.
final class RecordingTLSServer: Sendable {
    enum Answer: Sendable {
        case respond(status: Int, headers: [(String, String)], body: [UInt8])
        /// Accept the request and never answer (the fetcher's deadline must end it).
        case stall
    }

    let host: String
    let port: Int
    private let channel: any Channel
    private let accepted = NIOLockedValueBox(0)
    private let requests = NIOLockedValueBox<[String]>([])

    /// Connections accepted so far, and the request lines (`Host path`) served.
    var connections: Int { accepted.withLockedValue { $0 } }
    var requestLog: [String] { requests.withLockedValue { $0 } }

    init(
        host: String, certificatePEM: String = TestCertificates.leafPEM, keyPEM: String = TestCertificates.leafKeyPEM,
        behaviour: @escaping @Sendable (_ path: String) -> Answer
    ) async throws {
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)))
        let context = try NIOSSLContext(configuration: tls)
        let accepted = self.accepted
        let requests = self.requests
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                accepted.withLockedValue { $0 += 1 }
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try child.pipeline.syncOperations.configureHTTPServerPipeline()
                    try child.pipeline.syncOperations.addHandler(Responder(behaviour: behaviour, requests: requests))
                }
            }
            .bind(host: host, port: 0).get()
        self.host = host
        port = channel.localAddress?.port ?? 0
    }

    /// `https://<name>:<port><path>`.
    func url(_ path: String, name: String? = nil) -> String {
        let authority = name ?? (host.contains(":") ? "[\(host)]" : host)
        return "https://\(authority):\(port)\(path)"
    }

    func close() async {
        try? await channel.close()
    }

    private final class Responder: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let behaviour: @Sendable (String) -> Answer
        let requests: NIOLockedValueBox<[String]>

        init(behaviour: @escaping @Sendable (String) -> Answer, requests: NIOLockedValueBox<[String]>) {
            self.behaviour = behaviour
            self.requests = requests
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .head(let head) = unwrapInboundIn(data) else { return }
            requests.withLockedValue { $0.append("\(head.headers.first(name: "Host") ?? "-") \(head.uri)") }
            switch behaviour(head.uri) {
            case .stall:
                return
            case .respond(let status, let headers, let body):
                var fields = HTTPHeaders(headers)
                if !fields.contains(name: "Content-Length"), !fields.contains(name: "Transfer-Encoding") {
                    fields.add(name: "Content-Length", value: "\(body.count)")
                }
                fields.add(name: "Connection", value: "close")
                let response = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: fields)
                context.write(wrapOutboundOut(.head(response)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }
}
