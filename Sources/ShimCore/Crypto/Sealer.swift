import Crypto
public import Foundation

/// AES-256-GCM for the secrets the shim must keep but never show: upstream
/// access and refresh tokens, and a refresh token's successor during the
/// grace window. Each ciphertext is bound to its record by associated data,
/// so a sealed value copied into another row does not open.
///
/// Key rotation: the first key seals; every key opens, so values sealed
/// under a previous key stay readable until they expire.
public struct Sealer: Sendable {
    private let keys: [SymmetricKey]

    /// - Parameter keyBytes: exactly 32 bytes.
    public init(keyBytes: Data) throws {
        try self.init(keys: [keyBytes])
    }

    /// - Parameter keys: the newest first; each exactly 32 bytes.
    public init(keys: [Data]) throws {
        guard !keys.isEmpty, keys.allSatisfy({ $0.count == 32 }) else { throw SealerError.badKey }
        self.keys = keys.map { SymmetricKey(data: $0) }
    }

    public func seal(_ plaintext: String, context: String) throws -> String {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: keys[0], authenticating: Data(context.utf8))
        guard let combined = box.combined else { throw SealerError.failed }
        return Base64URL.encode(combined)
    }

    public func open(_ sealed: String, context: String) throws -> String {
        guard let data = Base64URL.decode(sealed) else { throw SealerError.failed }
        let box = try AES.GCM.SealedBox(combined: data)
        for key in keys {
            if let plain = try? AES.GCM.open(box, using: key, authenticating: Data(context.utf8)),
                let text = String(data: plain, encoding: .utf8)
            {
                return text
            }
        }
        throw SealerError.failed
    }
}

public enum SealerError: Error { case badKey, failed }
