public import Foundation
import Crypto

/// AES-256-GCM for the secrets the shim must keep but never show: upstream
/// access and refresh tokens, and a refresh token's successor during the
/// grace window. Each ciphertext is bound to its record by associated data,
/// so a sealed value copied into another row does not open.
public struct Sealer: Sendable {
    private let key: SymmetricKey

    /// - Parameter keyBytes: exactly 32 bytes.
    public init(keyBytes: Data) throws {
        guard keyBytes.count == 32 else { throw SealerError.badKey }
        key = SymmetricKey(data: keyBytes)
    }

    public func seal(_ plaintext: String, context: String) throws -> String {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: key, authenticating: Data(context.utf8))
        guard let combined = box.combined else { throw SealerError.failed }
        return Base64URL.encode(combined)
    }

    public func open(_ sealed: String, context: String) throws -> String {
        guard let data = Base64URL.decode(sealed) else { throw SealerError.failed }
        let box = try AES.GCM.SealedBox(combined: data)
        let plain = try AES.GCM.open(box, using: key, authenticating: Data(context.utf8))
        guard let text = String(data: plain, encoding: .utf8) else { throw SealerError.failed }
        return text
    }
}

public enum SealerError: Error { case badKey, failed }
