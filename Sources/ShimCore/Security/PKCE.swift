import Crypto
import Foundation

/// Proof Key for Code Exchange (RFC 7636), S256 only (security rule 3).
public enum PKCE {
    /// RFC 7636 §4.1: `code-verifier = 43*128unreserved`, unreserved =
    /// ALPHA / DIGIT / "-" / "." / "_" / "~".
    public static func isValidVerifier(_ verifier: String) -> Bool {
        (43...128).contains(verifier.utf8.count) && verifier.utf8.allSatisfy(isUnreserved)
    }

    /// The S256 challenge is BASE64URL(SHA256(verifier)): 43 base64url characters.
    public static func isValidS256Challenge(_ challenge: String) -> Bool {
        challenge.utf8.count == 43 && Base64URL.decode(challenge)?.count == 32
    }

    /// Rule 3 at /authorize. OAuth 2.1 §4.1.1 and the MCP authorization spec
    /// require PKCE; RFC 7636 §4.3 makes `plain` the default when the method
    /// is absent, so an absent method is refused as `plain` is.
    public static func checkChallenge(_ challenge: String?, method: String?) throws(OAuthError) {
        guard let challenge, !challenge.isEmpty else {
            throw .invalidRequest("code_challenge is required (PKCE S256)")
        }
        guard method == "S256" else {
            throw .invalidRequest("code_challenge_method must be S256")
        }
        guard isValidS256Challenge(challenge) else {
            throw .invalidRequest("code_challenge is not a valid S256 challenge")
        }
    }

    /// RFC 7636 §4.6: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) == code_challenge,
    /// compared in constant time.
    public static func verify(verifier: String, challenge: String) -> Bool {
        guard isValidVerifier(verifier) else { return false }
        return SecretToken.constantTimeEqual(s256(verifier), challenge)
    }

    public static func s256(_ verifier: String) -> String {
        Base64URL.encode(Data(SHA256.hash(data: Data(verifier.utf8))))
    }

    /// The shim's own pair toward the IdP: 64 random bytes → 86-character verifier.
    public static func makePair() -> (verifier: String, challenge: String) {
        let verifier = SecretToken.generate(bytes: 64)
        return (verifier, s256(verifier))
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
