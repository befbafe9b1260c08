import Foundation
import JWTKit
import ShimCore

/// A JSON Web Key set (RFC 7517 §5) as both signature checks read it: the
/// upstream IdP's keys for ID tokens (`IDTokenVerifier`) and a trusted
/// issuer's keys for ID-JAGs (`TrustedIssuerKeys`). One rule for both: the
/// token's header never chooses the algorithm for a key, and one key is used
/// per check.
enum SigningKeySet {
    /// The signature keys of a JWKS document (`use` absent or `sig`); a key
    /// jwt-kit cannot read (an unknown `kty` or `alg`, junk) is skipped, so
    /// one odd key never hides the others. `nil`: not a JWKS document.
    static func parse(_ body: Data) -> [JWK]? {
        struct Document: Decodable { var keys: [JSONValue] }
        guard let document = try? JSONDecoder().decode(Document.self, from: body) else { return nil }
        return document.keys.compactMap { value in
            guard case .object(let members) = value, members["use"].map({ $0 == .string("sig") }) ?? true,
                let data = try? JSONEncoder().encode(value)
            else { return nil }
            return try? JSONDecoder().decode(JWK.self, from: data)
        }
    }

    /// RFC 7518 §3.1: the key's type and curve are the algorithm's, and a key
    /// that names its own `alg` names this one.
    static func fits(_ key: JWK, alg: String) -> Bool {
        if let own = key.algorithm?.rawValue, own != alg { return false }
        switch alg {
        case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512": return key.keyType == .rsa
        case "ES256": return key.keyType == .ecdsa && key.curve?.rawValue == "P-256"
        case "ES384": return key.keyType == .ecdsa && key.curve?.rawValue == "P-384"
        case "ES512": return key.keyType == .ecdsa && key.curve?.rawValue == "P-521"
        case "EdDSA": return key.keyType == .octetKeyPair && key.curve?.rawValue == "Ed25519"
        default: return false
        }
    }

    enum Choice {
        /// The one key that fits.
        case key(JWK)
        /// No key fits (an unknown `kid`: the issuer may have rotated).
        case missing
        /// Several keys fit and the header names none of them.
        case ambiguous
    }

    /// The key for a header's (`alg`, `kid`): with a `kid`, the fitting key
    /// that carries it; without one, the only fitting key (several fitting
    /// keys are `ambiguous`). The chosen key carries the header's algorithm,
    /// already allowed by the caller, and a kid (jwt-kit needs both).
    static func choose(alg: String, kid: String?, in keys: [JWK]) -> Choice {
        let fitting = keys.filter { fits($0, alg: alg) }
        var chosen: JWK
        if let kid {
            guard let found = fitting.first(where: { $0.keyIdentifier?.string == kid }) else { return .missing }
            chosen = found
        } else {
            guard fitting.count <= 1 else { return .ambiguous }
            guard let only = fitting.first else { return .missing }
            chosen = only
        }
        chosen.algorithm = JWK.Algorithm(rawValue: alg)
        if chosen.keyIdentifier == nil { chosen.keyIdentifier = JWKIdentifier(string: "the-only-key") }
        return .key(chosen)
    }
}
