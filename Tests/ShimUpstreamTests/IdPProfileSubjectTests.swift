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

    @Test("other presets: sub", arguments: [UpstreamPreset.okta, .google, .auth0, .keycloak, .oidc])
    func others(_ preset: UpstreamPreset) {
        #expect(IdPProfile.of(preset).subject(from: ["sub": .string("user-1"), "oid": .string(Self.oid), "tid": .string(Self.tid)]) == "user-1")
        #expect(IdPProfile.of(preset).subject(from: ["sub": .string("")]) == nil)
    }
}
