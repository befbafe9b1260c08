import ShimCore
import Testing

@Suite("Rule 3: PKCE S256 only (RFC 7636)")
struct PKCETests {
    /// RFC 7636 Appendix B.
    static let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    static let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

    @Test("the RFC 7636 Appendix B vector verifies")
    func appendixB() throws {
        #expect(PKCE.s256(Self.verifier) == Self.challenge)
        #expect(PKCE.verify(verifier: Self.verifier, challenge: Self.challenge))
        try PKCE.checkChallenge(Self.challenge, method: "S256")
    }

    @Test("missing, plain, absent-method and malformed challenges are refused", arguments: [
        (nil, "S256"), ("", "S256"), (challenge, nil), (challenge, "plain"), (challenge, "s256"), (challenge, "S512"),
        ("short", "S256"), (String(challenge.dropLast()) + "=", "S256"), (challenge + "A", "S256"), (Self.verifier, "plain"),
    ] as [(String?, String?)])
    func refused(_ challenge: String?, _ method: String?) {
        let error = #expect(throws: OAuthError.self) { try PKCE.checkChallenge(challenge, method: method) }
        #expect(error?.code == .invalidRequest)
    }

    @Test("verifier: 43–128 characters of the unreserved set (RFC 7636 §4.1)", arguments: [
        (String(repeating: "a", count: 42), false), (String(repeating: "a", count: 43), true),
        (String(repeating: "a", count: 128), true), (String(repeating: "a", count: 129), false),
        (String(repeating: "a", count: 42) + "~", true), (String(repeating: "a", count: 42) + "+", false),
        (String(repeating: "a", count: 42) + "/", false), (String(repeating: "a", count: 42) + "=", false),
        (String(repeating: "a", count: 42) + " ", false), (String(repeating: "a", count: 42) + "é", false),
    ])
    func verifierShape(_ verifier: String, _ valid: Bool) {
        #expect(PKCE.isValidVerifier(verifier) == valid)
    }

    @Test("a wrong or malformed verifier never verifies", arguments: [
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl", "", String(repeating: "x", count: 43), challenge,
        verifier + "a",
    ])
    func wrongVerifier(_ candidate: String) {
        #expect(!PKCE.verify(verifier: candidate, challenge: Self.challenge))
    }

    @Test("the shim's own pair is S256 and fresh each time")
    func ownPair() {
        let a = PKCE.makePair(), b = PKCE.makePair()
        #expect(PKCE.isValidVerifier(a.verifier) && PKCE.verify(verifier: a.verifier, challenge: a.challenge))
        #expect(a.verifier != b.verifier)
    }
}
