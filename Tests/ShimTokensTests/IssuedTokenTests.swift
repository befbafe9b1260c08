import Crypto
import Foundation
import ShimCore
import ShimStorage
import ShimTokens
import Testing

/// Signing and validating issued tokens with jwt-kit (RFC 9068, RFC 7515,
/// RFC 7517/7638), including the forgeries RFC 8725 §2 lists.
@Suite("Issued tokens: signing, JWKS, validation")
struct IssuedTokenTests {
    static let issuer = "https://auth.example.com"
    static let resource = "https://mcp.example.com/mcp"
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func claims(grant: String = "grant-1", client: String = "client-1", exp: Int = 1_800_000_300) -> AccessTokenClaims {
        AccessTokenClaims(
            issuer: issuer, subject: "user-1", audience: [resource], expiresAt: exp, issuedAt: 1_800_000_000,
            tokenID: "jti-" + UUID().uuidString, clientID: client, scope: "mcp", grantID: grant,
            extra: ["roles": .array([.string("reader")])])
    }

    /// A store with one live grant of `client-1`.
    static func store(grant: String = "grant-1") async throws -> MemoryStore {
        let store = MemoryStore()
        let upstream = SealedUpstreamTokens(accessToken: "sealed", accessTokenExpiresAt: nil, refreshToken: nil, tokenType: "Bearer", scope: nil)
        let created = try await store.createGrant(
            Grant(
                id: grant, clientID: "client-1", subject: "user-1", resource: resource, scope: ScopeSet("mcp"), upstreamScope: ScopeSet("mcp"),
                upstream: upstream, createdAt: now, expiresAt: now.addingTimeInterval(86400)),
            refreshTokenHash: "h-" + grant, refreshToken: RefreshTokenRecord(grantID: grant, clientID: "client-1", issuedAt: now))
        #expect(created)
        return store
    }

    static func forge(header: String, claims: AccessTokenClaims, signature: (Data) -> Data) throws -> String {
        let payload = try JSONEncoder().encode(claims)
        let input = Base64URL.encode(Data(header.utf8)) + "." + Base64URL.encode(payload)
        return input + "." + Base64URL.encode(signature(Data(input.utf8)))
    }

    @Test("a signed token validates: ES256, typ at+jwt, kid = the key's thumbprint, claims as issued")
    func roundTrip() async throws {
        let keys = try await SigningKeys.make(current: P256.Signing.PrivateKey())
        let token = try await keys.sign(Self.claims(), type: "at+jwt")
        let jws = try CompactJWS.parse(token)
        #expect(jws.header == JOSEHeader(alg: "ES256", typ: "at+jwt", kid: keys.currentKeyID))
        let validator = IssuedTokenValidator(keys: keys, issuer: Self.issuer, store: try await Self.store())
        let claims = try await validator.validate(token, resource: Self.resource, now: Self.now)
        #expect(claims.subject == "user-1" && claims.grantID == "grant-1" && claims.extra["roles"] == .array([.string("reader")]))
    }

    @Test("rotation: a token signed with the previous key still validates; /jwks.json lists both, the current first")
    func rotation() async throws {
        let old = P256.Signing.PrivateKey()
        let new = P256.Signing.PrivateKey()
        let before = try await SigningKeys.make(current: old)
        let token = try await before.sign(Self.claims(), type: "at+jwt")
        let after = try await SigningKeys.make(current: new, previous: [old.publicKey])
        #expect(after.jwks.keys.map(\.kid) == [after.currentKeyID, before.currentKeyID])
        let store = try await Self.store()
        _ = try await IssuedTokenValidator(keys: after, issuer: Self.issuer, store: store).validate(token, resource: Self.resource, now: Self.now)
        // Once the old key is dropped from configuration, its tokens are refused.
        let dropped = try await SigningKeys.make(current: new)
        await #expect(throws: TokenProblem.unknownKey) {
            try await IssuedTokenValidator(keys: dropped, issuer: Self.issuer, store: store).validate(token, resource: Self.resource, now: Self.now)
        }
    }

    @Test("RFC 7638 thumbprints and RFC 7518 §6.2 coordinates: stable, base64url, 32 bytes each")
    func jwks() async throws {
        let key = P256.Signing.PrivateKey()
        let a = try await SigningKeys.make(current: key)
        let b = try await SigningKeys.make(current: key)
        #expect(a.currentKeyID == b.currentKeyID && a.currentKeyID.count == 43)
        #expect(try await SigningKeys.make(current: P256.Signing.PrivateKey()).currentKeyID != a.currentKeyID)
        let jwk = try #require(a.jwks.keys.first)
        #expect(jwk.kty == "EC" && jwk.crv == "P-256" && jwk.alg == "ES256" && jwk.use == "sig")
        let x = try #require(Base64URL.decode(jwk.x))
        let y = try #require(Base64URL.decode(jwk.y))
        #expect(x.count == 32 && y.count == 32 && !jwk.x.contains("+") && !jwk.x.contains("/") && !jwk.x.contains("="))
        #expect(try P256.Signing.PublicKey(x963Representation: Data([4]) + x + y).rawRepresentation == key.publicKey.rawRepresentation)
        // RFC 7638 §3.1, recomputed independently.
        let canonical = #"{"crv":"P-256","kty":"EC","x":"\#(jwk.x)","y":"\#(jwk.y)"}"#
        #expect(a.currentKeyID == Base64URL.encode(Data(SHA256.hash(data: Data(canonical.utf8)))))
    }

    @Test("forgeries are refused: alg none, HMAC keyed with the public key, another key under our kid, a tampered payload, typ JWT")
    func forgeries() async throws {
        let key = P256.Signing.PrivateKey()
        let keys = try await SigningKeys.make(current: key)
        let validator = IssuedTokenValidator(keys: keys, issuer: Self.issuer, store: try await Self.store())
        let kid = keys.currentKeyID
        func expect(_ token: String, _ problem: TokenProblem, _ comment: Comment) async {
            await #expect(throws: problem, comment) { try await validator.validate(token, resource: Self.resource, now: Self.now) }
        }
        let none = try Self.forge(header: #"{"alg":"none","typ":"at+jwt","kid":"\#(kid)"}"#, claims: Self.claims()) { _ in Data() }
        await expect(none, .wrongAlgorithm, "alg none")
        let publicBytes = key.publicKey.x963Representation
        let hmac = try Self.forge(header: #"{"alg":"HS256","typ":"at+jwt","kid":"\#(kid)"}"#, claims: Self.claims()) { input in
            Data(HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: publicBytes)))
        }
        await expect(hmac, .wrongAlgorithm, "HS256 with the public key as secret")
        let other = P256.Signing.PrivateKey()
        let wrongKey = try Self.forge(header: #"{"alg":"ES256","typ":"at+jwt","kid":"\#(kid)"}"#, claims: Self.claims()) { input in
            (try? other.signature(for: input).rawRepresentation) ?? Data()
        }
        await expect(wrongKey, .badSignature, "another key, our kid")
        let good = try await keys.sign(Self.claims(), type: "at+jwt")
        let parts = good.split(separator: ".").map(String.init)
        var tampered = Self.claims()
        tampered.audience = ["https://mcp.example.com/other"]
        await expect(parts[0] + "." + Base64URL.encode(try JSONEncoder().encode(tampered)) + "." + parts[2], .badSignature, "tampered payload")
        await expect(try await keys.sign(Self.claims(), type: "JWT"), .wrongType(expected: "at+jwt"), "typ JWT")
        await expect(try await keys.sign(Self.claims(), type: "oauth-id-jag+jwt"), .wrongType(expected: "at+jwt"), "an ID-JAG")
        await expect(good + "x", .malformed("a part is not base64url"), "a character appended to the signature")
        var flipped = Array(parts[2])
        flipped[10] = flipped[10] == "A" ? "B" : "A"
        await expect(parts[0] + "." + parts[1] + "." + String(flipped), .badSignature, "one signature character changed")
    }

    @Test("claims and grant: another audience, expired, revoked, missing, no sid, or another client's grant")
    func claimsAndGrant() async throws {
        let keys = try await SigningKeys.make(current: P256.Signing.PrivateKey())
        let store = try await Self.store()
        let validator = IssuedTokenValidator(keys: keys, issuer: Self.issuer, store: store)
        let token = try await keys.sign(Self.claims(), type: "at+jwt")
        await #expect(throws: TokenProblem.wrongAudience) { try await validator.validate(token, resource: "https://other/mcp", now: Self.now) }
        await #expect(throws: TokenProblem.expired) {
            try await validator.validate(token, resource: Self.resource, now: Self.now.addingTimeInterval(300))
        }
        let otherIssuer = IssuedTokenValidator(keys: keys, issuer: "https://other.example.com", store: store)
        await #expect(throws: TokenProblem.wrongIssuer) { try await otherIssuer.validate(token, resource: Self.resource, now: Self.now) }
        let unknownGrant = try await keys.sign(Self.claims(grant: "grant-unknown"), type: "at+jwt")
        await #expect(throws: TokenProblem.revoked) { try await validator.validate(unknownGrant, resource: Self.resource, now: Self.now) }
        let otherClient = try await keys.sign(Self.claims(client: "client-2"), type: "at+jwt")
        await #expect(throws: TokenProblem.revoked) { try await validator.validate(otherClient, resource: Self.resource, now: Self.now) }
        // No `sid`: no grant to find live, so nothing could ever revoke it; refused (it used to pass).
        let grantless: AccessTokenClaims = {
            var claims = Self.claims()
            claims.grantID = nil
            return claims
        }()
        let noGrant = try await keys.sign(grantless, type: "at+jwt")
        await #expect(throws: TokenProblem.revoked) { try await validator.validate(noGrant, resource: Self.resource, now: Self.now) }
        await #expect(throws: TokenProblem.revoked) { try await validator.checkGrant(grantless) }
        await store.revokeGrant(id: "grant-1", at: Self.now)
        await #expect(throws: TokenProblem.revoked) { try await validator.validate(token, resource: Self.resource, now: Self.now) }
        // Signature and claims alone (RFC 7009 revocation uses this) still pass.
        _ = try await validator.verify(token, resource: nil, now: Self.now)
    }

    @Test("keys: generated once into data_dir (0600) and read back; configured PEM used as is; memory storage writes nothing")
    func loading() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dcr-shim-keys-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try await SigningKeys.load(SigningKeyConfiguration(), dataDir: dir, ephemeral: false)
        let second = try await SigningKeys.load(SigningKeyConfiguration(), dataDir: dir, ephemeral: false)
        #expect(first.currentKeyID == second.currentKeyID)
        let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/signing-key.pem")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let key = P256.Signing.PrivateKey()
        var configured = SigningKeyConfiguration()
        configured.signingKey = key.pemRepresentation
        configured.previousSigningKeys = [P256.Signing.PrivateKey().pemRepresentation, P256.Signing.PrivateKey().publicKey.pemRepresentation]
        let loaded = try await SigningKeys.load(configured, dataDir: dir, ephemeral: false)
        #expect(loaded.currentKeyID == JSONWebKey.thumbprint(key.publicKey) && loaded.keyIDs.count == 3)
        let memoryDir = dir + "-memory"
        _ = try await SigningKeys.load(SigningKeyConfiguration(), dataDir: memoryDir, ephemeral: true)
        #expect(!FileManager.default.fileExists(atPath: memoryDir))
    }

    @Test("keys: a signing-key.pem open to others, or not a P-256 key, stops the start and is never replaced")
    func untrustedKeyFile() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dcr-shim-keys-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try await SigningKeys.load(SigningKeyConfiguration(), dataDir: dir, ephemeral: false)
        let path = SigningKeys.filePath(dataDir: dir)
        let pem = try String(contentsOfFile: path, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        await #expect(throws: KeyFileError.readableByOthers(path: path, mode: 0o644)) {
            try await SigningKeys.load(SigningKeyConfiguration(), dataDir: dir, ephemeral: false)
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == pem)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(try await SigningKeys.load(SigningKeyConfiguration(), dataDir: dir, ephemeral: false).currentKeyID == first.currentKeyID)
        let broken = Data(pem.utf8.dropLast(40))
        try broken.write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        await #expect(throws: KeyFileError.invalid(path: path)) {
            try await SigningKeys.load(SigningKeyConfiguration(), dataDir: dir, ephemeral: false)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == broken)
    }
}
