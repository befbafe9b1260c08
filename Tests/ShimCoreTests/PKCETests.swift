import Foundation
import ShimCore
import Testing

/// Rule 3 (docs/security-rules.md): PKCE S256 required from clients (OAuth 2.1 §4.1.1,
/// RFC 7636), `plain` and missing challenges refused, verifier 43–128
/// unreserved characters, constant-time compare; the shim's own pair upstream.
@Suite("Rule 3: PKCE S256 only (RFC 7636)")
struct PKCETests {
    /// RFC 7636 Appendix B: the 32 octets, the verifier that encodes them, and its S256 challenge.
    static let appendixOctets: [UInt8] = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186,
        22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ]
    static let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    static let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    static let unreserved = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    @Test("the RFC 7636 Appendix B vector: octets → verifier → challenge, which verifies")
    func appendixB() throws {
        #expect(Base64URL.encode(Self.appendixOctets) == Self.verifier)
        #expect(PKCE.s256(Self.verifier) == Self.challenge)
        #expect(PKCE.verify(verifier: Self.verifier, challenge: Self.challenge))
        try PKCE.checkChallenge(Self.challenge, method: "S256")
    }

    /// §4.3: absent method means `plain`; OAuth 2.1 and the MCP spec require S256.
    @Test(
        "§4.3/§4.4.1: missing, plain, absent-method and malformed challenges are invalid_request",
        arguments: [
            (nil, "S256"), ("", "S256"), (nil, nil), (challenge, nil), (challenge, ""), (challenge, "plain"), (challenge, "PLAIN"),
            (challenge, "s256"), (challenge, "S256 "), (challenge, " S256"), (challenge, "S512"), (challenge, "SHA256"),
            (challenge, "S256,plain"), (verifier, "plain"), ("short", "S256"), (String(challenge.dropLast()), "S256"),
            (challenge + "A", "S256"), (challenge + "=", "S256"), (String(challenge.dropLast()) + "=", "S256"),
            (challenge.replacingOccurrences(of: "-", with: "+"), "S256"), (challenge.replacingOccurrences(of: "-", with: "/"), "S256"),
            (" " + String(challenge.dropFirst()), "S256"), (String(challenge.dropLast()) + "é", "S256"),
            (String(challenge.dropLast()) + "\u{0}", "S256"), (String(repeating: "A", count: 128), "S256"),
            (Self.verifier + Self.verifier, "S256"), (String(challenge.dropLast()) + ".", "S256"),
        ] as [(String?, String?)])
    func refused(_ challenge: String?, _ method: String?) {
        let error = #expect(throws: OAuthError.self) { try PKCE.checkChallenge(challenge, method: method) }
        #expect(error?.code == .invalidRequest)
    }

    @Test(
        "any 43-character base64url encoding of 32 octets is a well-formed S256 challenge",
        arguments: [
            challenge, String(repeating: "A", count: 43), "_" + String(repeating: "-", count: 41) + "A",
        ])
    func wellFormed(_ challenge: String) throws {
        try PKCE.checkChallenge(challenge, method: "S256")
    }

    @Test(
        "§4.1: the verifier is 43–128 characters of ALPHA / DIGIT / - . _ ~",
        arguments: [
            (String(repeating: "a", count: 42), false), (String(repeating: "a", count: 43), true),
            (String(repeating: "a", count: 128), true), (String(repeating: "a", count: 129), false), ("", false),
            (String(repeating: "a", count: 42) + "~", true), (String(repeating: "a", count: 42) + ".", true),
            (String(repeating: "a", count: 42) + "-", true), (String(repeating: "a", count: 42) + "_", true),
            (String(repeating: "Z9", count: 64), true),
            (String(repeating: "a", count: 42) + "+", false), (String(repeating: "a", count: 42) + "/", false),
            (String(repeating: "a", count: 42) + "=", false), (String(repeating: "a", count: 42) + " ", false),
            (String(repeating: "a", count: 42) + "%", false), (String(repeating: "a", count: 42) + "\u{0}", false),
            (String(repeating: "a", count: 42) + "é", false), (String(repeating: "a", count: 41) + "é", false),
            (String(repeating: "a", count: 42) + "\u{ff41}", false), (String(repeating: "a", count: 42) + "\n", false),
            (String(repeating: "a", count: 42) + "*", false), (String(repeating: "a", count: 42) + "!", false),
        ])
    func verifierShape(_ verifier: String, _ valid: Bool) {
        #expect(PKCE.isValidVerifier(verifier) == valid, "\(verifier.count) \(verifier.suffix(1).debugDescription)")
    }

    @Test(
        "§4.6: a wrong verifier never verifies",
        arguments: [
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl", "DBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "",
            String(repeating: "x", count: 43), challenge, verifier + "a", String(verifier.dropLast()), " " + verifier, verifier + " ",
        ])
    func wrongVerifier(_ candidate: String) {
        #expect(!PKCE.verify(verifier: candidate, challenge: Self.challenge))
    }

    @Test(
        "§4.6: a verifier of the wrong shape does not verify even against its own S256 hash",
        arguments: [
            String(repeating: "a", count: 42), String(repeating: "a", count: 129), String(repeating: "a", count: 42) + "+",
            String(repeating: "a", count: 42) + "é", String(repeating: "a", count: 50) + " ",
        ])
    func malformedVerifierAgainstItsOwnHash(_ verifier: String) {
        #expect(!PKCE.verify(verifier: verifier, challenge: PKCE.s256(verifier)))
    }

    @Test("§4.6: the challenge is compared exactly: another case, padding or a prefix fails")
    func challengeComparedExactly() {
        for variant in [
            Self.challenge.lowercased(), Self.challenge.uppercased(), Self.challenge + "=", String(Self.challenge.dropLast()),
            Self.challenge + "A", "", " " + Self.challenge,
        ] {
            #expect(!PKCE.verify(verifier: Self.verifier, challenge: variant), "\(variant)")
        }
    }

    @Test("every verifier length 43...128 from the unreserved set verifies against its own S256 challenge")
    func everyLength() {
        for length in 43...128 {
            let verifier = String((0..<length).map { Self.unreserved[($0 * 7 + length) % Self.unreserved.count] })
            #expect(PKCE.isValidVerifier(verifier))
            let challenge = PKCE.s256(verifier)
            #expect(challenge.count == 43 && PKCE.isValidS256Challenge(challenge))
            #expect(PKCE.verify(verifier: verifier, challenge: challenge), "length \(length)")
            #expect(!PKCE.verify(verifier: verifier, challenge: Self.challenge))
        }
    }

    @Test("the shim's own pair: 86-character verifier, S256 challenge accepted by checkChallenge, fresh each time")
    func ownPair() throws {
        var verifiers: Set<String> = []
        for _ in 0..<100 {
            let pair = PKCE.makePair()
            #expect(pair.verifier.count == 86 && PKCE.isValidVerifier(pair.verifier))
            #expect(pair.challenge == PKCE.s256(pair.verifier))
            #expect(PKCE.verify(verifier: pair.verifier, challenge: pair.challenge))
            try PKCE.checkChallenge(pair.challenge, method: "S256")
            verifiers.insert(pair.verifier)
        }
        #expect(verifiers.count == 100)
    }
}
