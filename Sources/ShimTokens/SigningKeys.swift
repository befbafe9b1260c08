public import Crypto
import Foundation
import JWTKit
public import ShimCore

/// The shim's ES256 keys: the current one signs issued access tokens (and,
/// with EMA, ID-JAGs); the current and every previous one are published at
/// /jwks.json and accepted. Replicas share keys through configuration
/// (`keys.signing_key`); a generated key lives in `data_dir/signing-key.pem`.
///
/// jwt-kit's collection has no key removal: a rotation is a restart with new
/// configuration, which builds a new `SigningKeys`.
public struct SigningKeys: Sendable {
    /// The key id of the signing key: its RFC 7638 JWK thumbprint, so every
    /// replica derives the same id from the same key.
    public let currentKeyID: String
    /// Every key id accepted (current and previous).
    public let keyIDs: Set<String>
    /// RFC 7517 §5: the public keys, current first.
    public let jwks: JSONWebKeySet
    let collection: JWTKeyCollection

    /// - Parameters: `current` signs; `previous` (private or public keys) only verify.
    public static func make(current: P256.Signing.PrivateKey, previous: [P256.Signing.PublicKey] = []) async throws -> SigningKeys {
        let collection = JWTKeyCollection()
        let currentID = JSONWebKey.thumbprint(current.publicKey)
        await collection.add(ecdsa: try ES256PrivateKey(backing: current), kid: JWKIdentifier(string: currentID))
        var keys = [JSONWebKey(current.publicKey, kid: currentID)]
        for key in previous {
            let id = JSONWebKey.thumbprint(key)
            guard id != currentID, !keys.contains(where: { $0.kid == id }) else { continue }
            await collection.add(ecdsa: try ES256PublicKey(backing: key), kid: JWKIdentifier(string: id))
            keys.append(JSONWebKey(key, kid: id))
        }
        return SigningKeys(currentKeyID: currentID, keyIDs: Set(keys.map(\.kid)), jwks: JSONWebKeySet(keys: keys), collection: collection)
    }

    /// Keys from configuration, or the signing key generated once into
    /// `data_dir/signing-key.pem` (0600) and read back on later starts. A key
    /// file that is there but open to group or others, unreadable or not a
    /// P-256 key stops the start (`KeyFile`): it is never replaced.
    /// `ephemeral` (storage `memory:`) keeps a generated key in memory only.
    /// - Parameter created: called with the path of the key file when it was generated now.
    public static func load(
        _ config: SigningKeyConfiguration, dataDir: String, ephemeral: Bool,
        created: (String) -> Void = { _ in }
    ) async throws -> SigningKeys {
        let current: P256.Signing.PrivateKey
        if let pem = config.signingKey {
            current = try P256.Signing.PrivateKey(pemRepresentation: pem)
        } else if ephemeral {
            current = P256.Signing.PrivateKey()
        } else {
            current = try loadOrGenerate(path: filePath(dataDir: dataDir), created: created)
        }
        let previous = try config.previousSigningKeys.map { pem in
            if let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) { return key.publicKey }
            return try P256.Signing.PublicKey(pemRepresentation: pem)
        }
        return try await make(current: current, previous: previous)
    }

    /// Where a generated signing key is kept.
    public static func filePath(dataDir: String) -> String {
        (dataDir as NSString).appendingPathComponent("signing-key.pem")
    }

    static func loadOrGenerate(path: String, created: (String) -> Void = { _ in }) throws -> P256.Signing.PrivateKey {
        try KeyFile.load(
            path: path,
            parse: { contents in
                guard let text = String(data: contents, encoding: .utf8) else { return nil }
                return try? P256.Signing.PrivateKey(pemRepresentation: text)
            },
            generate: {
                let key = P256.Signing.PrivateKey()
                return (key, Data(key.pemRepresentation.utf8))
            }, created: created)
    }

    /// Signs `payload` with the current key; the JOSE header carries `kid`,
    /// `alg: ES256` (set by jwt-kit from the key, never by the caller) and `typ`.
    public func sign(_ payload: some Encodable & Sendable, type: String) async throws -> String {
        try await collection.sign(EncodedPayload(payload), kid: JWKIdentifier(string: currentKeyID), header: ["typ": .string(type)])
    }

    /// Checks the ES256 signature of a JWS whose `kid` the caller has already
    /// matched against `keyIDs` (so jwt-kit's fallback to a default key for
    /// an unknown `kid` never applies). The payload is not decoded here.
    public func verifySignature(_ token: String) async -> Bool {
        (try? await collection.verify(token, as: AnyPayload.self)) != nil
    }
}

/// jwt-kit's payload protocol around any Encodable (claims are checked by
/// ShimCore's rules, not by `verify(using:)`).
struct EncodedPayload<Wrapped: Encodable & Sendable>: JWTPayload {
    let wrapped: Wrapped
    init(_ wrapped: Wrapped) { self.wrapped = wrapped }
    func encode(to encoder: any Encoder) throws { try wrapped.encode(to: encoder) }
    init(from decoder: any Decoder) throws { throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "encode only")) }
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// A payload that decodes from any JSON object: used to check a signature
/// only, the claims being decoded and checked separately.
struct AnyPayload: JWTPayload {
    init(from decoder: any Decoder) throws { _ = try decoder.container(keyedBy: JSONKey.self) }
    func encode(to encoder: any Encoder) throws {}
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
