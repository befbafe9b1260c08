import Foundation
public import ShimCore
public import Crypto
import JWTKit

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
    /// `data_dir/signing-key.pem` (0600) and read back on later starts.
    /// `ephemeral` (storage `memory:`) keeps a generated key in memory only.
    public static func load(_ config: SigningKeyConfiguration, dataDir: String, ephemeral: Bool) async throws -> SigningKeys {
        let current: P256.Signing.PrivateKey
        if let pem = config.signingKey {
            current = try P256.Signing.PrivateKey(pemRepresentation: pem)
        } else if ephemeral {
            current = P256.Signing.PrivateKey()
        } else {
            current = try loadOrGenerate(path: (dataDir as NSString).appendingPathComponent("signing-key.pem"), dataDir: dataDir)
        }
        let previous = try config.previousSigningKeys.map { pem in
            if let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) { return key.publicKey }
            return try P256.Signing.PublicKey(pemRepresentation: pem)
        }
        return try await make(current: current, previous: previous)
    }

    static func loadOrGenerate(path: String, dataDir: String) throws -> P256.Signing.PrivateKey {
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            return try P256.Signing.PrivateKey(pemRepresentation: text)
        }
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let key = P256.Signing.PrivateKey()
        guard FileManager.default.createFile(atPath: path, contents: Data(key.pemRepresentation.utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw SigningKeyError.cannotWrite(path)
        }
        return key
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

public enum SigningKeyError: Error, CustomStringConvertible {
    case cannotWrite(String)
    public var description: String {
        switch self {
        case .cannotWrite(let path): "cannot write key file \(path)"
        }
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
