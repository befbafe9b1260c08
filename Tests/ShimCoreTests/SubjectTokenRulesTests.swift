import Foundation
import ShimCore
import Testing

/// Leg 1's subject token: only an ID token of the asking application, not
/// any JWT the IdP signed with the right iss/aud (Entra's access tokens for
/// the application's own API, app-only tokens, logout tokens).
@Suite("EMA leg 1: what a subject token must be")
struct SubjectTokenRulesTests {
    static let app = "11111111-2222-3333-4444-555555555555"
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let t = 1_800_000_000

    /// An Entra v2 ID token of the application, as Entra issues it.
    static let idToken: [String: JSONValue] = [
        "iss": .string("https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"), "aud": .string(app),
        "sub": .string("AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"), "oid": .string("00000000-0000-0000-66f3-3332eca7ea81"),
        "tid": .string("72f988bf-86f1-41af-91ab-2d7cd011db47"), "ver": .string("2.0"), "iat": .int(t - 60), "nbf": .int(t - 60),
        "exp": .int(t + 3600), "roles": .array([.string("Reader")]), "preferred_username": .string("adele@contoso.example"),
    ]

    static func check(_ change: (inout [String: JSONValue]) -> Void = { _ in }, typ: String? = "JWT") throws(TokenProblem) -> Int {
        var claims = idToken
        change(&claims)
        return try SubjectTokenRules.check(claims: claims, headerType: typ, clientID: app, now: now, leeway: 60)
    }

    @Test("an ID token of the application is accepted (a user's app roles are no marker); its exp is returned")
    func accepted() throws {
        #expect(try Self.check() == Self.t + 3600)
        #expect(try Self.check(typ: nil) == Self.t + 3600)
        #expect(try Self.check({ $0["exp"] = .double(Double(Self.t) + 99.7) }) == Self.t + 99)
        // Several audiences with azp naming the application (OIDC Core §3.1.3.7 step 5).
        #expect(
            try Self.check({
                $0["aud"] = .array([.string(Self.app), .string("other")])
                $0["azp"] = .string(Self.app)
            }) == Self.t + 3600)
        // nbf within the leeway; Keycloak's ID token typ claim "ID".
        _ = try Self.check {
            $0["nbf"] = .int(Self.t + 30)
            $0["typ"] = .string("ID")
        }
    }

    struct Attack: Sendable, CustomTestStringConvertible {
        var name: String
        var typ: String? = "JWT"
        var change: @Sendable (inout [String: JSONValue]) -> Void
        var testDescription: String { name }
    }

    static let attacks: [Attack] = [
        // Entra v2 delegated access token for the app's own API (aud = its client id): scp, azpacr.
        Attack(name: "Entra delegated access token (scp)") { $0["scp"] = .string("access_as_user") },
        Attack(name: "Entra v2 access token (azpacr)") { $0["azpacr"] = .string("1") },
        Attack(name: "Entra v1 access token (appidacr)") { $0["appidacr"] = .string("1") },
        // App-only (client credentials): roles, azpacr, idtyp app, sub == oid of the service principal.
        Attack(name: "Entra app-only token (idtyp app)") { $0["idtyp"] = .string("app") },
        Attack(name: "Entra app-only token (roles, azpacr, no user)") {
            $0["azpacr"] = .string("1")
            $0["preferred_username"] = nil
        },
        Attack(name: "back-channel logout token (events)") {
            $0["events"] = .object(["http://schemas.openid.net/event/backchannel-logout": .object([:])])
        },
        Attack(name: "Keycloak access token (typ claim Bearer)") { $0["typ"] = .string("Bearer") },
        Attack(name: "RFC 9068 access token (typ at+jwt)", typ: "at+jwt") { _ in },
        Attack(name: "RFC 9068 access token (typ application/at+jwt)", typ: "application/AT+JWT") { _ in },
        Attack(name: "ID-JAG (typ oauth-id-jag+jwt)", typ: "oauth-id-jag+jwt") { _ in },
        Attack(name: "logout token (typ logout+jwt)", typ: "logout+jwt") { _ in },
    ]

    @Test("refused: a JWT the IdP signed that is not an ID token", arguments: attacks)
    func notAnIDToken(_ attack: Attack) {
        #expect(throws: TokenProblem.self) { try Self.check(attack.change, typ: attack.typ) }
        do { _ = try Self.check(attack.change, typ: attack.typ) } catch {
            guard case .wrongType = error else {
                Issue.record("\(attack.name): \(error)")
                return
            }
        }
    }

    @Test("audiences: several without azp, azp naming another party, aud not naming the application")
    func audiences() {
        #expect(throws: TokenProblem.missingClaim("azp (it names several audiences)")) {
            try Self.check { $0["aud"] = .array([.string(Self.app), .string("api://other")]) }
        }
        #expect(throws: TokenProblem.wrongAudience) {
            try Self.check {
                $0["aud"] = .array([.string(Self.app), .string("other")])
                $0["azp"] = .string("other")
            }
        }
        #expect(throws: TokenProblem.wrongAudience) { try Self.check { $0["azp"] = .string("another-app") } }
        #expect(throws: TokenProblem.wrongAudience) { try Self.check { $0["aud"] = .string("another-app") } }
    }

    @Test("time: nbf past the leeway, nbf not a number, exp missing or past (no leeway: the ID-JAG ends with it); sub missing")
    func time() {
        #expect(throws: TokenProblem.notYetValid) { try Self.check { $0["nbf"] = .int(Self.t + 61) } }
        #expect(throws: TokenProblem.malformed("nbf is not a number")) { try Self.check { $0["nbf"] = .string("soon") } }
        #expect(throws: TokenProblem.missingClaim("exp")) { try Self.check { $0["exp"] = nil } }
        #expect(throws: TokenProblem.missingClaim("exp")) { try Self.check { $0["exp"] = .string("\(Self.t + 60)") } }
        #expect(throws: TokenProblem.expired) { try Self.check { $0["exp"] = .int(Self.t) } }
        #expect(throws: TokenProblem.missingClaim("sub")) { try Self.check { $0["sub"] = nil } }
    }

    @Test(
        "the ID-JAG never outlives its subject token",
        arguments: [
            (300, 3600, 300), (300, 120, 120), (300, 0, 0),
        ])
    func cap(lifetime: Int, subjectLeft: Int, expected: Int) {
        #expect(SubjectTokenRules.cappedExpiry(issuedAt: Self.t, lifetime: lifetime, subjectExpiry: Self.t + subjectLeft) == Self.t + expected)
        #expect(SubjectTokenRules.expiry(of: ["exp": .int(Self.t + subjectLeft)]) == Self.t + subjectLeft)
    }
}
