public import Foundation

/// A JWS in compact serialization (RFC 7515 §7.1), split and decoded but not
/// yet trusted: `header` and `payload` are what the token claims until its
/// signature has been checked against a key the shim chose.
public struct CompactJWS: Sendable, Equatable {
    public var header: JOSEHeader
    /// The raw header bytes (kept so the caller can decode further members).
    public var headerJSON: Data
    public var payload: Data
    public var signature: Data
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`: the bytes the signature covers (§5.2).
    public var signingInput: Data

    /// Rule 10: work per request is bounded; an access token or an assertion
    /// larger than this is refused before any decoding.
    public static let maximumLength = 16 * 1024

    /// RFC 7515 §5.2: three base64url parts separated by dots; the header a
    /// JSON object. Anything else is `malformed`. `limit` is larger only for
    /// tokens whose size the shim does not choose (an IdP's ID token with
    /// many group claims).
    public static func parse(_ token: String, limit: Int = maximumLength) throws(TokenProblem) -> CompactJWS {
        guard token.utf8.count <= limit else { throw .malformed("token is too long") }
        let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("not a compact JWS (three dot-separated parts)") }
        guard let headerBytes = Base64URL.decode(bytes: parts[0]), let payload = Base64URL.decode(bytes: parts[1]),
            let signature = Base64URL.decode(bytes: parts[2])
        else {
            throw .malformed("a part is not base64url")
        }
        let header: JOSEHeader
        do { header = try JSONDecoder().decode(JOSEHeader.self, from: headerBytes) } catch {
            throw .malformed("the header is not a JSON object")
        }
        let signingInput = Data(token.utf8.prefix(parts[0].count + 1 + parts[1].count))
        return CompactJWS(header: header, headerJSON: headerBytes, payload: payload, signature: signature, signingInput: signingInput)
    }
}

/// The JOSE header members the shim reads (RFC 7515 §4.1).
public struct JOSEHeader: Codable, Sendable, Equatable {
    public var alg: String?
    public var typ: String?
    public var kid: String?
    /// §4.1.11: extensions the recipient must understand; the shim understands none.
    public var crit: [String]?

    public init(alg: String?, typ: String?, kid: String?, crit: [String]? = nil) {
        self.alg = alg
        self.typ = typ
        self.kid = kid
        self.crit = crit
    }

    /// §4.1.9: `typ` is a media type; matching is case-insensitive and the
    /// `application/` prefix may be omitted.
    public func hasType(_ expected: String) -> Bool {
        guard let typ else { return false }
        let value = typ.lowercased()
        return value == expected || value == "application/" + expected
    }
}

/// Why a token or assertion is not accepted. `description` is safe to log
/// and to return (it names the rule, never a token).
public enum TokenProblem: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String)
    case wrongType(expected: String)
    case wrongAlgorithm
    case unknownKey
    case unsupportedCritical
    case badSignature
    case wrongIssuer
    case wrongAudience
    case expired
    case notYetValid
    case issuedInFuture
    case lifetimeTooLong
    case missingClaim(String)
    case revoked
    /// The issuer's keys cannot be read (a server-side problem, not the token's).
    case keysUnavailable(String)

    public var description: String {
        switch self {
        case .malformed(let why): "malformed token: \(why)"
        case .wrongType(let expected): "the token's typ is not \(expected)"
        case .wrongAlgorithm: "the token's alg is not the one configured"
        case .unknownKey: "the token is signed with an unknown key"
        case .unsupportedCritical: "the token has critical header extensions"
        case .badSignature: "the token's signature is invalid"
        case .wrongIssuer: "the token was issued by another issuer"
        case .wrongAudience: "the token was issued for another audience"
        case .expired: "the token has expired"
        case .notYetValid: "the token is not valid yet"
        case .issuedInFuture: "the token is issued in the future"
        case .lifetimeTooLong: "the token's lifetime is longer than allowed"
        case .missingClaim(let name): "the token has no \(name) claim"
        case .revoked: "the grant the token was issued from is revoked"
        case .keysUnavailable(let why): "the issuer's keys cannot be read: \(why)"
        }
    }
}
