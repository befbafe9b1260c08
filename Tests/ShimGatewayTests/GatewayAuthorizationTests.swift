import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ShimCore
import ShimStorage
import ShimTesting
import ShimTokens
import Testing

/// The gateway's front door: RFC 9728 metadata, the 401 challenge (RFC 6750
/// §3, RFC 9728 §5.1), 403 `insufficient_scope` (SEP-835), the Origin check
/// (MCP Streamable HTTP), and local validation of the shim's tokens.
@Suite("Gateway: metadata, challenges, token checks")
struct GatewayAuthorizationTests {
    static let metadataURL = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"

    static func expectChallenge(_ response: TestResponse, error: String?, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == .unauthorized, sourceLocation: sourceLocation)
        #expect(response.headers[.cacheControl] == "no-store", sourceLocation: sourceLocation)
        let challenge = response.headers[.wwwAuthenticate] ?? ""
        #expect(
            challenge.hasPrefix("Bearer resource_metadata=\"\(metadataURL)\", scope=\"mcp.read mcp.write\""), "\(challenge)",
            sourceLocation: sourceLocation)
        if let error {
            #expect(challenge.contains("error=\"\(error)\""), "\(challenge)", sourceLocation: sourceLocation)
        } else {
            #expect(!challenge.contains("error="), "a request without a token gets no error code (RFC 6750 §3.1)", sourceLocation: sourceLocation)
        }
    }

    @Test("RFC 9728 metadata names the shim as authorization server")
    func metadata() async throws {
        try await GatewayHarness().run { client, _ in
            let response = try await client.execute(uri: "/.well-known/oauth-protected-resource/mcp", method: .get)
            #expect(response.status == .ok)
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
            #expect(doc["resource"] as? String == GatewayHarness.resource && doc["authorization_servers"] as? [String] == [GatewayHarness.issuer])
            #expect(doc["scopes_supported"] as? [String] == ["mcp.read", "mcp.write"] && doc["bearer_methods_supported"] as? [String] == ["header"])
        }
    }

    @Test("no token: 401 with resource_metadata and scope, no error; the MCP server is not called")
    func noToken() async throws {
        let harness = try await GatewayHarness()
        try await harness.run { client, _ in
            Self.expectChallenge(try await client.execute(uri: "/mcp", method: .post, body: ByteBuffer(string: "{}")), error: nil)
            Self.expectChallenge(try await client.execute(uri: "/mcp", method: .get, headers: [.authorization: "Basic dTpw"]), error: nil)
            // The challenge's URL comes from configuration, never from the request's Host.
            let spoofed = try await client.execute(uri: "/mcp", method: .post, headers: [HTTPField.Name("X-Forwarded-Host")!: "evil.example"])
            Self.expectChallenge(spoofed, error: nil)
            #expect(harness.mcp.requests.isEmpty)
        }
    }

    @Test(
        "bad tokens: 401 invalid_token with the challenge, the MCP server never called",
        arguments: [
            "malformed", "garbage", "another resource", "expired", "revoked grant", "foreign key", "not at+jwt", "another issuer",
        ])
    func badTokens(_ kind: String) async throws {
        let harness = try await GatewayHarness()
        try await harness.run { client, _ in
            let header: String
            switch kind {
            case "malformed": header = "Bearer a b"
            case "garbage": header = "Bearer abc.def.ghi"
            case "another resource": header = "Bearer " + (try await harness.token { $0.audience = ["https://mcp.example.com/other"] })
            case "expired":
                let token = try await harness.token()
                harness.clock.advance(by: 300)
                header = "Bearer " + token
            case "revoked grant":
                header = "Bearer " + (try await harness.token())
                await harness.store.revokeGrant(id: GatewayHarness.grantID, at: harness.clock.now())
            case "foreign key":
                let other = try await SigningKeysForTests.other()
                header =
                    "Bearer "
                    + (try await other.sign(
                        AccessTokenClaims(
                            issuer: GatewayHarness.issuer, subject: "u", audience: [GatewayHarness.resource], expiresAt: 1_800_000_300,
                            issuedAt: 1_800_000_000, tokenID: "j", clientID: GatewayHarness.clientID, scope: "mcp.read",
                            grantID: GatewayHarness.grantID),
                        type: "at+jwt"))
            case "not at+jwt":
                header =
                    "Bearer "
                    + (try await harness.keys.sign(
                        AccessTokenClaims(
                            issuer: GatewayHarness.issuer, subject: "u", audience: [GatewayHarness.resource], expiresAt: 1_800_000_300,
                            issuedAt: 1_800_000_000, tokenID: "j", clientID: GatewayHarness.clientID, scope: "mcp.read",
                            grantID: GatewayHarness.grantID),
                        type: "JWT"))
            default: header = "Bearer " + (try await harness.token { $0.issuer = "https://other-shim.example.com" })
            }
            let response = try await client.execute(uri: "/mcp", method: .post, headers: [.authorization: header], body: ByteBuffer(string: "{}"))
            Self.expectChallenge(response, error: "invalid_token")
            #expect(harness.mcp.requests.isEmpty)
        }
    }

    @Test("step-up: a token without a required scope gets 403 insufficient_scope naming every required scope (SEP-835)")
    func insufficientScope() async throws {
        let harness = try await GatewayHarness()
        try await harness.run(gateway: ["required_scopes": .list([.string("mcp.read"), .string("mcp.write")])]) { client, _ in
            let response = try await client.execute(uri: "/mcp", method: .post, headers: .bearer(try await harness.token()))
            #expect(response.status == .forbidden && response.headers[.cacheControl] == "no-store")
            let challenge = response.headers[.wwwAuthenticate] ?? ""
            #expect(challenge.contains("error=\"insufficient_scope\"") && challenge.contains("scope=\"mcp.read mcp.write\""))
            #expect(challenge.contains("resource_metadata=\"\(Self.metadataURL)\""))
            let enough = try await client.execute(
                uri: "/mcp", method: .post, headers: .bearer(try await harness.token { $0.scope = "mcp.read mcp.write" }))
            #expect(enough.status == .ok)
            #expect(harness.mcp.requests.count == 1)
        }
    }

    @Test("Origin: a foreign browser origin gets 403 before any token check; the resource's own, configured ones and none pass")
    func origin() async throws {
        let harness = try await GatewayHarness()
        try await harness.run { client, _ in
            let token = try await harness.token()
            let evil = try await client.execute(
                uri: "/mcp", method: .post, headers: [.origin: "https://evil.example", .authorization: "Bearer " + token])
            #expect(evil.status == .forbidden && String(buffer: evil.body).contains("\"jsonrpc\":\"2.0\""))
            #expect(!String(buffer: evil.body).contains("\"id\""))
            let noToken = try await client.execute(uri: "/mcp", method: .post, headers: [.origin: "http://localhost:6274"])
            #expect(noToken.status == .forbidden)
            for origin in ["https://mcp.example.com", "https://auth.example.com"] {
                #expect(
                    try await client.execute(uri: "/mcp", method: .post, headers: [.origin: origin, .authorization: "Bearer " + token]).status == .ok)
            }
            #expect(try await client.execute(uri: "/mcp", method: .post, headers: .bearer(token)).status == .ok)
        }
        try await harness.run(gateway: ["allowed_origins": .list([.string("http://localhost:6274")])]) { client, _ in
            let token = try await harness.token()
            #expect(
                try await client.execute(uri: "/mcp", method: .post, headers: [.origin: "http://localhost:6274", .authorization: "Bearer " + token])
                    .status == .ok)
            #expect(
                try await client.execute(
                    uri: "/mcp", method: .post, headers: [.origin: "https://mcp.example.com", .authorization: "Bearer " + token]
                ).status == .forbidden)
        }
    }
}
