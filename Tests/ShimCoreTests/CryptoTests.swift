import Foundation
import ShimCore
import Testing

@Suite("Secrets, sealing and signing")
struct CryptoTests {
    @Test("tokens are 256-bit base64url and distinct; storage keys are SHA-256 hex")
    func tokens() {
        let a = SecretToken.generate(), b = SecretToken.generate()
        #expect(a.count == 43 && a != b && Base64URL.decode(a)?.count == 32)
        #expect(SecretToken.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SecretToken.logTag("abc") == "ba7816bf")
        #expect(SecretToken.constantTimeEqual("abc", "abc"))
        #expect(!SecretToken.constantTimeEqual("abc", "abd") && !SecretToken.constantTimeEqual("abc", "abcd") && !SecretToken.constantTimeEqual("", "a"))
    }

    @Test("AES-GCM sealing round-trips; wrong context, key or tampering fail")
    func sealing() throws {
        let sealer = try Sealer(keyBytes: SecretToken.randomBytes(32))
        let sealed = try sealer.seal("upstream-refresh-token", context: "rt:grant1")
        #expect(!sealed.contains("upstream-refresh-token"))
        #expect(try sealer.open(sealed, context: "rt:grant1") == "upstream-refresh-token")
        #expect(throws: (any Error).self) { try sealer.open(sealed, context: "rt:grant2") }
        var bytes = Array(Base64URL.decode(sealed)!)
        bytes[bytes.count / 2] ^= 1
        #expect(throws: (any Error).self) { try sealer.open(Base64URL.encode(bytes), context: "rt:grant1") }
        let other = try Sealer(keyBytes: SecretToken.randomBytes(32))
        #expect(throws: (any Error).self) { try other.open(sealed, context: "rt:grant1") }
        #expect(throws: (any Error).self) { try Sealer(keyBytes: SecretToken.randomBytes(16)) }
    }

    @Test("MACs are bound to their purpose and parts (no concatenation ambiguity)")
    func signing() throws {
        let signer = try MessageSigner(keyBytes: SecretToken.randomBytes(32))
        let mac = signer.sign(["a", "bc"], domain: "csrf")
        #expect(signer.verify(mac, ["a", "bc"], domain: "csrf"))
        #expect(!signer.verify(mac, ["ab", "c"], domain: "csrf"))
        #expect(!signer.verify(mac, ["a", "bc"], domain: "browser"))
    }

    @Test("base64url rejects padding and foreign characters")
    func base64url() {
        #expect(Base64URL.decode("AAA=") == nil && Base64URL.decode("A+A") == nil && Base64URL.decode("A") == nil)
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
    }

    @Test("ID token claims are read (sub, nonce); a non-JWT is nil")
    func idToken() {
        let payload = Base64URL.encode(Data(#"{"sub":"u1","nonce":"n1","iss":"https://idp"}"#.utf8))
        let claims = IDTokenClaims(jwt: "e30.\(payload).sig")
        #expect(claims?.subject == "u1" && claims?.nonce == "n1")
        #expect(IDTokenClaims(jwt: "not-a-jwt") == nil)
    }
}

@Suite("Key rotation: the newest key is used, older keys are accepted")
struct KeyRotationTests {
    @Test("a value sealed under the old key opens after rotation; new values use the new key")
    func sealerRotation() throws {
        let old = SecretToken.randomBytes(32), new = SecretToken.randomBytes(32)
        let before = try Sealer(keys: [old])
        let sealedOld = try before.seal("t", context: "c")
        let after = try Sealer(keys: [new, old])
        #expect(try after.open(sealedOld, context: "c") == "t")
        let sealedNew = try after.seal("u", context: "c")
        #expect(throws: (any Error).self) { try before.open(sealedNew, context: "c") }
        #expect(throws: (any Error).self) { try Sealer(keys: [new]).open(sealedOld, context: "c") }
    }

    @Test("a cookie signed with the old key verifies after rotation; new MACs use the new key")
    func signerRotation() throws {
        let old = SecretToken.randomBytes(32), new = SecretToken.randomBytes(32)
        let mac = try MessageSigner(keys: [old]).sign(["id"], domain: "browser")
        let rotated = try MessageSigner(keys: [new, old])
        #expect(rotated.verify(mac, ["id"], domain: "browser"))
        #expect(try MessageSigner(keys: [new]).sign(["id"], domain: "browser") == rotated.sign(["id"], domain: "browser"))
        #expect(!(try MessageSigner(keys: [new]).verify(mac, ["id"], domain: "browser")))
    }
}
