import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ShimCore
import ShimStorage
import ShimTesting
import Testing

/// MCP sessions bound to the user and client that opened them
/// (docs/security-rules.md, rule 15): another principal naming a session id,
/// or anyone naming one the gateway never saw opened, gets 404 (MCP
/// Streamable HTTP's answer for a session the server does not know) and the
/// MCP server never sees the request.
@Suite("Gateway: sessions bound to their user")
struct GatewaySessionTests {
    static let session = HTTPField.Name("Mcp-Session-Id")!

    static func headers(_ token: String, session: String?) -> HTTPFields {
        var headers: HTTPFields = .bearer(token)
        headers[.contentType] = "application/json"
        if let session { headers[Self.session] = session }
        return headers
    }

    @Test("another user's token with a session id: 404 for POST, GET (its SSE stream) and DELETE, never forwarded")
    func otherUserRefused() async throws {
        let harness = try await GatewayHarness()
        try await harness.run { client, _ in
            let alice = try await harness.token()
            let bob = try await harness.token(GatewayHarness.otherUser)
            // Alice opens the session (the fake MCP server answers with Mcp-Session-Id: session-42).
            let opened = try await client.execute(
                uri: "/mcp", method: .post, headers: Self.headers(alice, session: nil), body: ByteBuffer(string: "{}"))
            #expect(opened.status == .ok && opened.headers[Self.session] == "session-42")
            let forwarded = harness.mcp.requests.count
            for (method, path) in [(HTTPRequest.Method.post, "/mcp"), (.get, "/mcp/sse"), (.delete, "/mcp")] {
                let response = try await client.execute(
                    uri: path, method: method, headers: Self.headers(bob, session: "session-42"),
                    body: method == .post ? ByteBuffer(string: #"{"jsonrpc":"2.0","id":7,"result":{}}"#) : nil)
                #expect(response.status == .notFound, "\(method) \(path)")
                let body = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
                #expect((body["error"] as? [String: Any])?["code"] as? Int == -32000)
            }
            #expect(harness.mcp.requests.count == forwarded, "a request naming another user's session reached the MCP server")
            // Alice's session still works for Alice.
            let again = try await client.execute(
                uri: "/mcp", method: .post, headers: Self.headers(alice, session: "session-42"), body: ByteBuffer(string: "{}"))
            #expect(again.status == .ok && harness.mcp.requests.count == forwarded + 1)
        }
    }

    @Test("the same user through another client is another principal")
    func otherClientRefused() async throws {
        let harness = try await GatewayHarness()
        try await harness.run { client, _ in
            let alice = try await harness.token()
            _ = try await client.execute(uri: "/mcp", method: .post, headers: Self.headers(alice, session: nil))
            // A session Alice opened through another client (client-9).
            let key = SecretToken.hash("session-43")
            let owner = GatewaySessionOwner(subject: "user-1", clientID: "client-9", resource: GatewayHarness.resource)
            _ = await harness.store.recordGatewaySession(
                key: key, owner: owner, expiresAt: harness.clock.now().addingTimeInterval(3600), now: harness.clock.now())
            let response = try await client.execute(uri: "/mcp", method: .post, headers: Self.headers(alice, session: "session-43"))
            #expect(response.status == .notFound)
        }
    }

    @Test("a session id the gateway never saw opened, or forgot after gateway.session_idle_timeout: 404, never forwarded")
    func unknownAndLapsed() async throws {
        let harness = try await GatewayHarness()
        try await harness.run(settings: ["session_idle_timeout": .string("10m")]) { client, _ in
            let alice = try await harness.token()
            let unknown = try await client.execute(uri: "/mcp", method: .post, headers: Self.headers(alice, session: "never-opened"))
            #expect(unknown.status == .notFound && harness.mcp.requests.isEmpty)
            _ = try await client.execute(uri: "/mcp", method: .post, headers: Self.headers(alice, session: nil))
            // Used within the idle timeout, the record slides; unused past it, it lapses.
            harness.clock.advance(by: 500)
            let fresh = try await harness.token()
            #expect(try await client.execute(uri: "/mcp", method: .post, headers: Self.headers(fresh, session: "session-42")).status == .ok)
            harness.clock.advance(by: 500)
            let later = try await harness.token()
            #expect(try await client.execute(uri: "/mcp", method: .post, headers: Self.headers(later, session: "session-42")).status == .ok)
            harness.clock.advance(by: 601)
            let last = try await harness.token()
            let forwarded = harness.mcp.requests.count
            #expect(try await client.execute(uri: "/mcp", method: .post, headers: Self.headers(last, session: "session-42")).status == .notFound)
            #expect(harness.mcp.requests.count == forwarded)
        }
    }

    @Test("the owner's DELETE forgets the session; two Mcp-Session-Id headers are 400")
    func deleteAndMalformed() async throws {
        let harness = try await GatewayHarness()
        try await harness.run { client, _ in
            let alice = try await harness.token()
            _ = try await client.execute(uri: "/mcp", method: .post, headers: Self.headers(alice, session: nil))
            var twice = Self.headers(alice, session: "session-42")
            twice.append(HTTPField(name: Self.session, value: "session-43"))
            #expect(try await client.execute(uri: "/mcp", method: .post, headers: twice).status == .badRequest)
            #expect(try await client.execute(uri: "/mcp", method: .delete, headers: Self.headers(alice, session: "session-42")).status == .ok)
            #expect(await harness.store.gatewaySession(key: SecretToken.hash("session-42"), now: harness.clock.now()) == nil)
            #expect(try await client.execute(uri: "/mcp", method: .post, headers: Self.headers(alice, session: "session-42")).status == .notFound)
        }
    }
}
