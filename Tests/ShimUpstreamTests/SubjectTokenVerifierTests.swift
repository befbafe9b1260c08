import Foundation
import JWTKit
import ShimCore
import ShimTesting
import Testing

@testable import ShimUpstream

/// ID-JAG leg 1 through the verifier: tokens the IdP really signed, with the
/// right iss and aud, that are not ID tokens of the asking application.
@Suite("ID-JAG leg 1: the verifier refuses JWTs that are not ID tokens")
struct SubjectTokenVerifierTests {
    static let app = "mcp-app"
    static let now = IDTokenVerifierTests.now.timeIntervalSince1970

    /// Entra-shaped claims; nil members are left out of the token.
    struct Claims: JWTPayload {
        var iss = IDTokenVerifierTests.issuer
        var sub = "user-42"
        var aud: [String] = [SubjectTokenVerifierTests.app]
        var exp = SubjectTokenVerifierTests.now + 3600
        var iat = SubjectTokenVerifierTests.now
        var nbf: Double?
        var azp: String?
        var scp: String?
        var roles: [String]?
        var azpacr: String?
        var idtyp: String?
        var tid: String?
        var oid: String?
        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    static func sign(_ change: (inout Claims) -> Void = { _ in }, typ: String = "JWT") async throws -> String {
        var claims = Claims()
        change(&claims)
        var header = JWTHeader()
        header.typ = typ
        let keys = JWTKeyCollection()
        await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: TestRSAKeys.onePrivatePEM), digestAlgorithm: .sha256, kid: "k1")
        return try await keys.sign(claims, kid: "k1", header: header)
    }

    /// What leg 1 says of `token`: its exp, or the refusal.
    static func legOne(_ verifier: IDTokenVerifier, _ token: String) async throws -> Result<Int, TokenProblem> {
        let verified = try await verifier.verify(token, nonce: nil, audience: app)
        do { return .success(try await verifier.checkSubjectToken(verified, audience: app)) } catch { return .failure(error) }
    }

    @Test("an ID token of the application passes and yields its exp; the verifier alone accepts each refused token below")
    func refusals() async throws {
        let verifier = IDTokenVerifierTests.KeyServer([IDTokenVerifierTests.rsaJWK("k1")]).verifier()
        #expect(try await Self.legOne(verifier, try await Self.sign()) == .success(Int(Self.now) + 3600))
        // An Entra access token for the application's own API: aud is its client id, scp the delegated scopes.
        let access = try await Self.sign {
            $0.scp = "access_as_user"
            $0.azpacr = "1"
        }
        // An app-only (client credentials) token: roles, azpacr, idtyp app, no scp.
        let appOnly = try await Self.sign {
            $0.roles = ["Tasks.Read.All"]
            $0.azpacr = "1"
            $0.idtyp = "app"
        }
        let refused: [(String, TokenProblem)] = [
            (access, .wrongType(expected: "an ID token (its scp claim marks another kind of token)")),
            (appOnly, .wrongType(expected: "an ID token (its azpacr claim marks another kind of token)")),
            (try await Self.sign { $0.aud = [Self.app, "api://other"] }, .missingClaim("azp (it names several audiences)")),
            (try await Self.sign { $0.nbf = Self.now + 600 }, .notYetValid),
        ]
        for (token, problem) in refused {
            #expect(try await Self.legOne(verifier, token) == .failure(problem))
        }
        // A typ the verifier itself lets through (JWT-like, unknown to it) but leg 1 knows: a logout token.
        #expect(
            try await Self.legOne(verifier, try await Self.sign(typ: "logout+jwt"))
                == .failure(.wrongType(expected: "an ID token (typ logout+jwt is another kind of JWT)")))
    }
}
