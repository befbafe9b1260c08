import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import ShimCore
import ShimTesting
import Synchronization
import Testing

/// What an MCP server can do to a request body on its way through the
/// gateway: answer before reading it, reset the connection mid-upload, or
/// be sent more than `gateway.max_request_bytes`. Keep-alive clients post
/// bodies that span several reads, many times over, so that the next request
/// on a connection is read while the previous exchange is being wound up.
/// Whatever the MCP server does, every request is answered and the shim
/// stays up (nothing that outlives a request reads that request's body).
@Suite("Gateway: request bodies against MCP servers that answer early or reset")
struct GatewayUploadTests {
    static let connections = 16
    static let requestsPerConnection = 20

    /// The statuses the clients got, or the errors in place of an answer.
    struct Outcome: Sendable {
        var statuses: [Int: Int] = [:]
        var errors: [String] = []
    }

    final class Tally: Sendable {
        let outcome = Mutex(Outcome())
    }

    /// `connections` keep-alive clients, each posting `requestsPerConnection`
    /// bodies one after the other; odd requests stream their body in 4 KB
    /// chunks without a Content-Length (chunked), even ones send it whole.
    static func flood(
        port: Int, path: String, token: String, bodyBytes: Int, connections: Int = Self.connections,
        requests: Int = Self.requestsPerConnection
    ) async throws -> Outcome {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(5), read: .seconds(20)))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let tally = Tally()
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<connections {
                group.addTask {
                    for index in 0..<requests {
                        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer " + token)
                        request.headers.add(name: "Content-Type", value: "application/json")
                        if (worker + index) % 2 == 0 {
                            request.body = .bytes(ByteBuffer(repeating: 0x61, count: bodyBytes))
                        } else {
                            let chunks = stride(from: 0, to: bodyBytes, by: 4096).map {
                                ByteBuffer(repeating: 0x62, count: min(4096, bodyBytes - $0))
                            }
                            request.body = .stream(chunks.async, length: .unknown)
                        }
                        do {
                            let response = try await http.execute(request, timeout: .seconds(30))
                            _ = try await response.body.collect(upTo: 1 << 20)
                            tally.outcome.withLock { $0.statuses[Int(response.status.code), default: 0] += 1 }
                        } catch {
                            tally.outcome.withLock { $0.errors.append("\(error)") }
                        }
                    }
                }
            }
        }
        try await http.shutdown()
        return tally.outcome.withLock { $0 }
    }

    /// The gateway still answers an ordinary call: the process is up.
    static func expectAlive(port: Int, token: String) async throws {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/mcp")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer " + token)
        request.body = .bytes(ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#))
        let response = try await http.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        try await http.shutdown()
        #expect(response.status == .ok)
    }

    @Test("an MCP server that answers before reading the body: every request answered, the shim stays up")
    func earlyAnswer() async throws {
        let harness = try await GatewayHarness()
        try await harness.run { _, port in
            let token = try await harness.token()
            let total = Self.connections * Self.requestsPerConnection
            let outcome = try await Self.flood(port: port, path: "/mcp/early", token: token, bodyBytes: 60 * 1024)
            #expect(outcome.errors.isEmpty, "\(outcome.errors.count) requests got no answer: \(outcome.errors.prefix(3))")
            #expect(outcome.statuses == [200: total])
            #expect(harness.mcp.seen.withLock { $0.earlyAnswers } == total)
            try await Self.expectAlive(port: port, token: token)
        }
    }

    @Test("small bodies to an MCP server that answers at once, over reused connections (the wrk case)")
    func earlyAnswerSmallBodies() async throws {
        let harness = try await GatewayHarness()
        try await harness.run { _, port in
            let token = try await harness.token()
            let outcome = try await Self.flood(port: port, path: "/mcp/early", token: token, bodyBytes: 200)
            #expect(outcome.errors.isEmpty, "\(outcome.errors.count) requests got no answer: \(outcome.errors.prefix(3))")
            #expect(outcome.statuses == [200: Self.connections * Self.requestsPerConnection])
            try await Self.expectAlive(port: port, token: token)
        }
    }

    /// Raw answers of a broken MCP server, written on the first bytes of the
    /// request (before the body is read), then the connection is closed.
    struct BrokenServer: Sendable, CustomTestStringConvertible {
        let name: String
        let reply: String?
        let reset: Bool
        /// The statuses the client may get: which one can depend on whether
        /// the close overtakes the upload, which neither side controls.
        let statuses: Set<Int>
        /// Whether an answer may break off after its head was sent (the
        /// client then sees the stream cut, never a made-up complete answer).
        var breaksOff = false
        var testDescription: String { name }

        static let all = [
            BrokenServer(name: "resets mid-upload", reply: nil, reset: true, statuses: [502]),
            BrokenServer(name: "closes mid-upload without a word", reply: nil, reset: false, statuses: [502]),
            BrokenServer(name: "answers, then resets", reply: head(200, length: 7) + #"{"a":1}"#, reset: true, statuses: [200, 502]),
            BrokenServer(
                name: "declares more than it sends, then closes", reply: head(200, length: 100) + #"{"short":1}"#, reset: false,
                statuses: [502]),
            BrokenServer(
                name: "sends more than it declares", reply: head(200, length: 7) + #"{"a":1}TRAILING-GARBAGE"#, reset: false,
                statuses: [200, 502]),
            BrokenServer(
                name: "a body delimited by the close, mid-upload",
                reply: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\":1}", reset: false, statuses: [200, 502],
                breaksOff: true),
            BrokenServer(
                name: "a large body that breaks off", reply: head(200, length: 500_000) + String(repeating: "x", count: 1000),
                reset: false, statuses: [], breaksOff: true),
            BrokenServer(name: "not HTTP at all", reply: "SSH-2.0-OpenSSH_9.2\r\n", reset: false, statuses: [502]),
        ]

        static func head(_ status: Int, length: Int) -> String {
            "HTTP/1.1 \(status) OK\r\nContent-Type: application/json\r\nContent-Length: \(length)\r\n\r\n"
        }
    }

    @Test("an MCP server that breaks the exchange: every request answered as it can be, the shim stays up", arguments: BrokenServer.all)
    func brokenServer(_ broken: BrokenServer) async throws {
        let server = try await ScriptedServer.start(reply: broken.reply, reset: broken.reset)
        let harness = try await GatewayHarness()
        do {
            try await harness.run(upstreamURL: "http://127.0.0.1:\(server.port)/mcp") { _, port in
                let token = try await harness.token()
                let outcome = try await Self.flood(port: port, path: "/mcp", token: token, bodyBytes: 60 * 1024, connections: 4, requests: 10)
                #expect(Set(outcome.statuses.keys).isSubset(of: broken.statuses), "\(outcome.statuses)")
                if broken.statuses.isEmpty {
                    #expect(outcome.errors.count == 40, "\(outcome.statuses)")
                } else if !broken.breaksOff {
                    #expect(outcome.errors.isEmpty, "\(outcome.errors.count) requests got no answer: \(outcome.errors.prefix(3))")
                }
                #expect(server.connections > 0)
            }
        } catch {
            try? await server.stop()
            throw error
        }
        try await server.stop()
        // The same process, in front of a server that answers: still up.
        let healthy = try await GatewayHarness()
        try await healthy.run { _, port in try await Self.expectAlive(port: port, token: try await healthy.token()) }
    }

    @Test("bodies over gateway.max_request_bytes, declared or chunked, to an early-answering server: 413 for each, the shim stays up")
    func tooLarge() async throws {
        let harness = try await GatewayHarness()
        try await harness.run(settings: ["max_request_bytes": .string("16384")]) { _, port in
            let token = try await harness.token()
            let outcome = try await Self.flood(port: port, path: "/mcp/early", token: token, bodyBytes: 60 * 1024)
            #expect(outcome.errors.isEmpty, "\(outcome.errors.count) requests got no answer: \(outcome.errors.prefix(3))")
            #expect(outcome.statuses == [413: Self.connections * Self.requestsPerConnection])
            #expect(harness.mcp.seen.withLock { $0.earlyAnswers } == 0, "a body over the limit reached the MCP server")
            try await Self.expectAlive(port: port, token: token)
        }
    }

    @Test("a chunked POST answered with an SSE stream: both events arrive, the answer says Connection: close, and the next request is served")
    func chunkedPostStreamedAnswer() async throws {
        let harness = try await GatewayHarness()
        try await harness.run { _, port in
            let token = try await harness.token()
            harness.mcp.seen.withLock { $0.clientSawFirst = true }  // the stand-in need not wait for the client
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1)
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            var failure: (any Error)?
            for _ in 0..<5 {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/mcp/sse")
                request.method = .POST
                request.headers.add(name: "Authorization", value: "Bearer " + token)
                request.body = .stream([ByteBuffer(string: #"{"jsonrpc":"2.0","#), ByteBuffer(string: #""id":1}"#)].async, length: .unknown)
                do {
                    let response = try await http.execute(request, timeout: .seconds(10))
                    let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
                    #expect(response.status == .ok && text.contains("\"n\":2"), "\(response.status) \(text)")
                    // Watching the client's connection reads past this request, so the
                    // server closes it after the stream: the answer must say so.
                    #expect(response.headers.first(name: "connection")?.lowercased() == "close")
                } catch {
                    failure = error
                    break
                }
            }
            try await http.shutdown()
            #expect(failure == nil, "\(String(describing: failure))")
            try await Self.expectAlive(port: port, token: token)
        }
    }
}
