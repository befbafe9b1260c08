import Foundation
import ShimCore
import Testing

/// The secrets the shim mints (rules 5–7: 256-bit, stored by hash), the
/// sealing of upstream tokens at rest (rule 9), and the MACs of cookies and
/// CSRF tokens (rule 4).
@Suite("Secrets, sealing and signing")
struct CryptoTests {
    static let base64url = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    @Test("tokens: 43 base64url characters of 256 random bits, distinct across 1000 draws")
    func tokens() {
        var seen: Set<String> = []
        for _ in 0..<1000 {
            let token = SecretToken.generate()
            #expect(token.count == 43 && token.allSatisfy(Self.base64url.contains))
            #expect(Base64URL.decode(token)?.count == 32)
            seen.insert(token)
        }
        #expect(seen.count == 1000)
        #expect(SecretToken.generate(bytes: 64).count == 86)
        #expect(SecretToken.randomBytes(32).count == 32 && SecretToken.randomBytes(32) != SecretToken.randomBytes(32))
    }

    @Test(
        "storage keys are lowercase hex SHA-256 (FIPS 180-4 test vectors); log tags are its first 8 digits",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ])
    func hash(_ secret: String, _ hex: String) {
        #expect(SecretToken.hash(secret) == hex)
        #expect(SecretToken.logTag(secret) == String(hex.prefix(8)))
    }

    @Test(
        "constant-time equality is plain equality over bytes",
        arguments: [
            ("abc", "abc", true), ("", "", true), ("abc", "abd", false), ("abc", "abcd", false), ("abcd", "abc", false),
            ("", "a", false), ("a", "", false), ("abc", "ABC", false), ("abc\u{0}", "abc", false), ("K", "\u{212A}", false),
            ("é", "e\u{301}", false),
        ])
    func constantTimeEqual(_ a: String, _ b: String, _ equal: Bool) {
        #expect(SecretToken.constantTimeEqual(a, b) == equal)
    }

    @Test("AES-256-GCM: round trip; fresh nonce per seal; the plaintext never shows")
    func sealRoundTrip() throws {
        let sealer = try Sealer(keyBytes: SecretToken.randomBytes(32))
        for plain in ["upstream-refresh-token", "", "é🚀", String(repeating: "x", count: 10_000)] {
            let sealed = try sealer.seal(plain, context: "rt:grant1")
            #expect(try sealer.open(sealed, context: "rt:grant1") == plain)
            #expect(plain.count < 4 || !sealed.contains(plain))
        }
        #expect(try sealer.seal("same", context: "c") != sealer.seal("same", context: "c"))
    }

    @Test("AES-256-GCM: another context, another key, or any tampering fails to open")
    func sealTamper() throws {
        let sealer = try Sealer(keyBytes: SecretToken.randomBytes(32))
        let sealed = try sealer.seal("upstream-refresh-token", context: "rt:grant1")
        for context in ["rt:grant2", "", "rt:grant1 ", "RT:grant1", "rt:grant"] {
            #expect(throws: (any Error).self, "\(context)") { try sealer.open(sealed, context: context) }
        }
        #expect(throws: (any Error).self) { try Sealer(keyBytes: SecretToken.randomBytes(32)).open(sealed, context: "rt:grant1") }
        let bytes = Array(Base64URL.decode(sealed)!)
        // nonce (first 12), ciphertext, tag (last 16): flip a bit in each
        for index in [0, 11, 12, bytes.count / 2, bytes.count - 17, bytes.count - 16, bytes.count - 1] {
            var tampered = bytes
            tampered[index] ^= 0x01
            #expect(throws: (any Error).self, "byte \(index)") { try sealer.open(Base64URL.encode(tampered), context: "rt:grant1") }
        }
        for broken in [
            "", "A", "not base64!", sealed + "A", String(sealed.dropLast()), Base64URL.encode(bytes.prefix(27)),
            Base64URL.encode(bytes.prefix(12)), sealed.replacingOccurrences(of: "-", with: "+"),
        ] where broken != sealed {
            #expect(throws: (any Error).self, "\(broken.prefix(20))") { try sealer.open(broken, context: "rt:grant1") }
        }
    }

    @Test("Sealer keys are exactly 32 bytes", arguments: [0, 16, 24, 31, 33, 64])
    func sealerKeySize(_ size: Int) {
        #expect(throws: SealerError.self) { try Sealer(keyBytes: Data(count: size)) }
    }

    @Test("MACs: bound to key, domain and each part; no concatenation ambiguity; 43 characters")
    func signing() throws {
        let signer = try MessageSigner(keyBytes: SecretToken.randomBytes(32))
        let mac = signer.sign(["a", "bc"], domain: "csrf")
        #expect(mac.count == 43 && signer.verify(mac, ["a", "bc"], domain: "csrf"))
        #expect(signer.sign(["a", "bc"], domain: "csrf") == mac)
        for (parts, domain) in [
            (["ab", "c"], "csrf"), (["a", "bc"], "browser"), (["abc"], "csrf"), (["a", "bc", ""], "csrf"),
            (["a|bc"], "csrf"), (["1:a|2:bc"], "csrf"), (["bc", "a"], "csrf"), ([], "csrf|1:a|2:bc"),
            (["csrf", "a", "bc"], ""), (["a", "bc"], "CSRF"),
        ] as [([String], String)] {
            #expect(!signer.verify(mac, parts, domain: domain), "\(parts) \(domain)")
        }
        #expect(signer.sign([""], domain: "d") != signer.sign([], domain: "d"))
        let other = try MessageSigner(keyBytes: SecretToken.randomBytes(32))
        #expect(!other.verify(mac, ["a", "bc"], domain: "csrf"))
        for forged in ["", String(mac.dropLast()), mac + "A", mac.uppercased(), String(repeating: "A", count: 43)] where forged != mac {
            #expect(!signer.verify(forged, ["a", "bc"], domain: "csrf"))
        }
        #expect(throws: SealerError.self) { try MessageSigner(keyBytes: Data(count: 31)) }
        _ = try MessageSigner(keyBytes: Data(count: 64))
    }

    @Test(
        "base64url (RFC 4648 §5): no padding, no +/ or other characters; round trips",
        arguments: [
            "AAA=", "A+A", "A/A", "A", "AAAAA", "AA AA", "AA\nA", "é", "AA==",
        ])
    func base64urlRefuses(_ text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    @Test("base64url round trips every length 0...64")
    func base64urlRoundTrip() {
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8" && Base64URL.decode("-_8") == Data([0xFB, 0xFF]))
        for length in 0...64 {
            let bytes = SecretToken.randomBytes(length)
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("=") && text.allSatisfy(Self.base64url.contains))
            #expect(Base64URL.decode(text) == bytes)
        }
    }

    @Test("ID token claims are read (sub, nonce, iss); anything not a three-part JWT with a JSON payload is nil")
    func idToken() {
        let payload = Base64URL.encode(Data(#"{"sub":"u1","nonce":"n1","iss":"https://idp"}"#.utf8))
        let claims = IDTokenClaims(jwt: "e30.\(payload).sig")
        #expect(claims?.subject == "u1" && claims?.nonce == "n1" && claims?.issuer == "https://idp")
        for bad in ["not-a-jwt", "a.b", "e30.\(payload)", "e30.\(payload).sig.x", "e30.!!!.sig", "e30.\(Base64URL.encode(Data("[1]".utf8))).s"] {
            #expect(IDTokenClaims(jwt: bad) == nil, "\(bad)")
        }
    }
}

@Suite("Key rotation: the newest key is used, older keys are accepted")
struct KeyRotationTests {
    @Test("a value sealed under the old key opens after rotation; new values use the new key")
    func sealerRotation() throws {
        let old = SecretToken.randomBytes(32)
        let new = SecretToken.randomBytes(32)
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
        let old = SecretToken.randomBytes(32)
        let new = SecretToken.randomBytes(32)
        let mac = try MessageSigner(keys: [old]).sign(["id"], domain: "browser")
        let rotated = try MessageSigner(keys: [new, old])
        #expect(rotated.verify(mac, ["id"], domain: "browser"))
        #expect(try MessageSigner(keys: [new]).sign(["id"], domain: "browser") == rotated.sign(["id"], domain: "browser"))
        #expect(!(try MessageSigner(keys: [new]).verify(mac, ["id"], domain: "browser")))
    }

    @Test("a key list must be non-empty and every key the right size")
    func badKeyLists() {
        let good = SecretToken.randomBytes(32)
        for keys in [[], [good, Data(count: 16)], [Data(count: 33), good]] as [[Data]] {
            #expect(throws: SealerError.self) { try Sealer(keys: keys) }
        }
        for keys in [[], [good, Data(count: 31)]] as [[Data]] {
            #expect(throws: SealerError.self) { try MessageSigner(keys: keys) }
        }
    }
}
