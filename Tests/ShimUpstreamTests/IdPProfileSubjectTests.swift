import Logging
import ShimCore
import ShimUpstream
import Testing

/// One user, one subject: Entra's `sub` is pairwise per application, so the
/// subject is `<tid>/<oid>`, the same in the shim's sign-in and at ID-JAG leg 1.
@Suite("The user's subject per preset")
struct IdPProfileSubjectTests {
    static let tid = "9188040d-6c67-4c5b-b112-36a304b66dad"
    static let oid = "00000000-0000-0000-66F3-3332ECA7EA81"

    @Test("Entra: the same user's ID tokens for two applications (different sub) give one subject, <tid>/<oid>")
    func entra() {
        let entra = IdPProfile.of(.entra)
        let signIn: [String: JSONValue] = [
            "sub": .string("AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"), "oid": .string(Self.oid), "tid": .string(Self.tid),
        ]
        let legOne: [String: JSONValue] = [
            "sub": .string("BBBBBBBBBBBBBBBBBBBBBIkzqFVrSaSaFHy782bbtaQ"), "oid": .string(Self.oid), "tid": .string(Self.tid),
        ]
        #expect(entra.subject(from: signIn) == "\(Self.tid)/\(Self.oid.lowercased())")
        #expect(entra.subject(from: signIn) == entra.subject(from: legOne))
        // Without oid (no `profile` scope) or tid, or with values that are not GUIDs: no subject, never sub instead.
        #expect(entra.subject(from: ["sub": .string("x"), "tid": .string(Self.tid)]) == nil)
        #expect(entra.subject(from: ["sub": .string("x"), "oid": .string(Self.oid)]) == nil)
        #expect(entra.subject(from: ["oid": .string("../admin"), "tid": .string(Self.tid)]) == nil)
    }

    @Test("Entra without oid (no profile scope): the per-application sub, which never looks like <tid>/<oid>")
    func entraFallback() {
        let entra = IdPProfile.of(.entra)
        let logger = Logger(label: "test")
        let bare: [String: JSONValue] = ["sub": .string("AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"), "tid": .string(Self.tid)]
        #expect(entra.userSubject(from: bare, logger: logger) == "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ")
        #expect(entra.userSubject(from: bare.merging(["oid": .string(Self.oid)]) { $1 }, logger: logger) == "\(Self.tid)/\(Self.oid.lowercased())")
        #expect(entra.userSubject(from: ["tid": .string(Self.tid)], logger: logger) == nil)
    }

    @Test("Entra: profile is asked for next to openid, so that ID tokens carry oid; other presets ask for what is configured")
    func profileScope() {
        let entra = IdPProfile.of(.entra)
        #expect(entra.authorizeScope(ScopeSet("openid offline_access api://a/mcp.access")).values.contains("profile"))
        #expect(entra.authorizeScope(ScopeSet("openid profile")) == ScopeSet("openid profile"))
        #expect(entra.authorizeScope(ScopeSet("api://a/mcp.access")) == ScopeSet("api://a/mcp.access"))
        #expect(IdPProfile.of(.okta).authorizeScope(ScopeSet("openid")) == ScopeSet("openid"))
    }

    @Test("other presets: sub", arguments: [UpstreamPreset.okta, .google, .auth0, .keycloak, .oidc])
    func others(_ preset: UpstreamPreset) {
        #expect(IdPProfile.of(preset).subject(from: ["sub": .string("user-1"), "oid": .string(Self.oid), "tid": .string(Self.tid)]) == "user-1")
        #expect(IdPProfile.of(preset).subject(from: ["sub": .string("")]) == nil)
    }
}
