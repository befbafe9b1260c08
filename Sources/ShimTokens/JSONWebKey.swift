public import Crypto
import Foundation
import ShimCore

/// RFC 7517 §4 public JWK of a P-256 key, as /jwks.json publishes it.
/// Coordinates are base64url (RFC 7518 §6.2.1.2), not standard base64.
public struct JSONWebKey: Codable, Sendable, Equatable {
    public var kty = "EC"
    public var crv = "P-256"
    public var x: String
    public var y: String
    public var kid: String
    public var use = "sig"
    public var alg = "ES256"

    public init(_ key: P256.Signing.PublicKey, kid: String) {
        let (x, y) = Self.coordinates(key)
        self.x = x
        self.y = y
        self.kid = kid
    }

    /// X9.63 is 0x04 || X || Y, 32 bytes each for P-256.
    static func coordinates(_ key: P256.Signing.PublicKey) -> (String, String) {
        let raw = key.x963Representation
        return (Base64URL.encode(raw[1...32]), Base64URL.encode(raw[33...64]))
    }

    /// RFC 7638 §3.2: SHA-256 over the required members in lexicographic
    /// order, without whitespace: `{"crv":…,"kty":…,"x":…,"y":…}`.
    public static func thumbprint(_ key: P256.Signing.PublicKey) -> String {
        let (x, y) = coordinates(key)
        let canonical = #"{"crv":"P-256","kty":"EC","x":"\#(x)","y":"\#(y)"}"#
        return Base64URL.encode(Data(SHA256.hash(data: Data(canonical.utf8))))
    }
}

/// RFC 7517 §5 `{"keys": [...]}`.
public struct JSONWebKeySet: Codable, Sendable, Equatable {
    public var keys: [JSONWebKey]
    public init(keys: [JSONWebKey]) { self.keys = keys }
}
