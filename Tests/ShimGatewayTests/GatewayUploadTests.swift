import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import ShimCore
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
    static func flood(port: Int, path: String, token: String, bodyBytes: Int) async throws -> Outcome {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(5), read: .seconds(20)))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let tally = Tally()
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<connections {
                group.addTask {
                    for index in 0..<requestsPerConnection {
                        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer " + token)
                        request.headers.add(name: "Content-Type", value: "application/json")
                        if (worker + index) % 2 == 0 {
                            request.body = .bytes(ByteBuffer(repeating: 0x61, count: bodyBytes))
                        } else {
                            let chunks = stride(from: 0, to: bodyBytes, by: 4096).map { ByteBuffer(repeating: 0x62, count: min(4096, bodyBytes - $0)) }
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

    @Test("an MCP server that resets the connection mid-upload: 502 for each, the shim stays up")
    func resetMidUpload() async throws {
        let server = try await ResettingServer.start()
        let harness = try await GatewayHarness()
        do {
            try await harness.run(upstreamURL: "http://127.0.0.1:\(server.port)/mcp") { _, port in
                let token = try await harness.token()
                let outcome = try await Self.flood(port: port, path: "/mcp", token: token, bodyBytes: 60 * 1024)
                #expect(outcome.errors.isEmpty, "\(outcome.errors.count) requests got no answer: \(outcome.errors.prefix(3))")
                #expect(outcome.statuses == [502: Self.connections * Self.requestsPerConnection])
                #expect(server.connectionsReset > 0)
            }
        } catch {
            try? await server.stop()
            throw error
        }
        try await server.stop()
        // The same gateway code in front of a server that answers: still up.
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

    @Test("a chunked POST answered with an SSE stream: both events arrive, then the next request on the connection is served")
    func chunkedPostStreamedAnswer() async throws {
        let harness = try await GatewayHarness()
        try await harness.run { _, port in
            let token = try await harness.token()
            harness.mcp.seen.withLock { $0.clientSawFirst = true }   // the stand-in need not wait for the client
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
