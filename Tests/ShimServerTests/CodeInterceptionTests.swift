import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// A code in the wrong hands: whoever intercepts an authorization code but
/// lacks its client's PKCE verifier (or is another client) must neither
/// redeem it nor burn it. RFC 6749 §4.1.3 checks the client and
/// redirect_uri, RFC 7636 §4.6 the verifier; only a request that passes them
/// uses the code up (rule 6). A replay revokes the grant (RFC 6749 §4.1.2)
/// only when it comes from the code's own client with its verifier: anyone
/// else learns nothing and changes nothing.
@Suite("Token endpoint: an intercepted code can be neither redeemed nor burned")
struct CodeInterceptionTests {
    enum Attempt: String, CaseIterable, Sendable {
        case wrongVerifier = "a wrong code_verifier"
        case anotherClient = "another client"
        case anotherRedirect = "another redirect_uri"
        case anotherResource = "another resource"
    }

    /// The attempt, as the interceptor would make it.
    static func attempt(_ attempt: Attempt, code: String, app: TestApp, client: ShimClient) async throws -> TestResponse {
        switch attempt {
        case .wrongVerifier:
            return try await client.exchange(code: code, app: app, verifier: String(repeating: "b", count: 43))
        case .anotherClient:
            let intruder = try await client.register(redirectURIs: [ShimHarness.loopbackRedirect], authMethod: "none")
            return try await client.exchange(code: code, app: intruder, redirectURI: ShimHarness.loopbackRedirect)
        case .anotherRedirect:
            return try await client.exchange(code: code, app: app, redirectURI: "http://127.0.0.1:40000/elsewhere")
        case .anotherResource:
            return try await client.exchange(code: code, app: app, resource: "https://other.example.com/mcp")
        }
    }

    @Test("a refused attempt leaves the code to its own client, which then redeems it", arguments: Attempt.allCases)
    func notBurned(_ kind: Attempt) async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let (app, code) = try await CodeTests.freshCode(client)
            let refused = try await Self.attempt(kind, code: code, app: app, client: client)
            #expect(refused.status == .badRequest && refused.json["access_token"] == nil, "\(kind.rawValue): \(refused.text)")
            let rightful = try await client.exchange(code: code, app: app)
            #expect(rightful.status == .ok, "after \(kind.rawValue): \(rightful.text)")
        }
    }

    @Test("after the code was redeemed, an attempt by anyone else revokes nothing", arguments: Attempt.allCases)
    func replayByOthersRevokesNothing(_ kind: Attempt) async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let refused = try await Self.attempt(kind, code: signedIn.code, app: signedIn.app, client: client)
            #expect(refused.status == .badRequest && refused.json["access_token"] == nil, "\(kind.rawValue): \(refused.text)")
            let refresh = try await client.refresh(try #require(signedIn.refreshToken), app: signedIn.app)
            #expect(refresh.status == .ok, "the grant survived \(kind.rawValue): \(refresh.text)")
        }
    }
}
