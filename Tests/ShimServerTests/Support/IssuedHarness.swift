import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimCore
import ShimServer
import ShimStorage
import ShimTesting
import ShimTokens
import Testing

/// A shim in `tokens.access: issued` mode with one introspection client
/// (`rs`) and its own signing key.
enum IssuedHarness {
    static let introspectionID = "mcp-resource-server"
    static let introspectionSecret = "introspection-secret-4f1a9c"

    static func make(
        ttl: String = "5m", claims: [String] = ["email", "tid"], overrides: [String: ConfigValue] = [:],
        key: P256.Signing.PrivateKey = P256.Signing.PrivateKey(), previous: [P256.Signing.PublicKey] = [],
        store: any ShimStore = MemoryStore()
    ) async throws -> ShimHarness {
        let keys = try await SigningKeys.make(current: key, previous: previous)
        var settings: [String: ConfigValue] = [
            "tokens": .map([
                "access": .string("issued"), "access_ttl": .string(ttl), "refresh_ttl": .string("30d"),
                "claims": .list(claims.map { .string($0) }),
            ]),
            "introspection": .map(["clients": .list([.map(["id": .string(introspectionID), "secret": .string(introspectionSecret)])])]),
        ]
        settings.merge(overrides) { $1 }
        let harness = try ShimHarness(overrides: settings, store: store, signingKeys: keys)
        harness.upstream.state.withLock {
            $0.idTokenExtra = ["email": "alice@example.com", "tid": "tenant-7", "oid": "object-9"]
            $0.idTokenFlags = ["email_verified": true]
        }
        return harness
    }

    /// The claims of a JWT, decoded without checks (the test checks them).
    static func claims(_ jwt: String) throws -> [String: Any] {
        let parts = jwt.split(separator: ".")
        let payload = try #require(parts.count == 3 ? Base64URL.decode(String(parts[1])) : nil)
        return try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
    }

    static func header(_ jwt: String) throws -> [String: Any] {
        let header = try #require(Base64URL.decode(String(jwt.split(separator: ".")[0])))
        return try #require(try JSONSerialization.jsonObject(with: header) as? [String: Any])
    }
}

extension ShimClient {
    /// POST /introspect as the configured resource server (HTTP Basic).
    func introspect(
        _ token: String, id: String = IssuedHarness.introspectionID,
        secret: String = IssuedHarness.introspectionSecret
    ) async throws -> TestResponse {
        let basic = Data("\(id):\(secret)".utf8).base64EncodedString()
        return try await post("/introspect", form: [("token", token)], headers: [.authorization: "Basic " + basic])
    }

    /// Whether /introspect calls the token active (and the answer is well formed).
    func isActive(_ token: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Bool {
        let response = try await introspect(token)
        #expect(response.status == .ok, "\(response.text)", sourceLocation: sourceLocation)
        #expect(response.headers[.cacheControl] == "no-store", sourceLocation: sourceLocation)
        let active = response.json["active"] as? Bool ?? false
        if !active { #expect(response.json.count == 1, "an inactive answer says nothing else: \(response.text)", sourceLocation: sourceLocation) }
        return active
    }

    /// GET /jwks.json, and an ES256 signature check of `jwt` against it, done
    /// here with swift-crypto alone (not through the shim's own code).
    func verifiesAgainstJWKS(_ jwt: String) async throws -> Bool {
        let jwks = try await get("/jwks.json")
        let keys = try #require(jwks.json["keys"] as? [[String: Any]])
        let kid = try IssuedHarness.header(jwt)["kid"] as? String
        guard let jwk = keys.first(where: { $0["kid"] as? String == kid }),
            let x = (jwk["x"] as? String).flatMap(Base64URL.decode), let y = (jwk["y"] as? String).flatMap(Base64URL.decode)
        else { return false }
        let key = try P256.Signing.PublicKey(x963Representation: Data([4]) + x + y)
        let parts = jwt.split(separator: ".")
        guard let signature = Base64URL.decode(String(parts[2])) else { return false }
        return key.isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: signature), for: Data((parts[0] + "." + parts[1]).utf8))
    }
}
