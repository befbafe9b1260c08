import Foundation
public import ShimCore
import JWTKit

/// The keys of the issuers whose ID-JAGs the shim accepts
/// (`ema.trusted_issuers`), and the signature check with them. Keys are
/// inline in the configuration or fetched from the issuer's `jwks_uri`
/// through the rule-11 fetcher (https, public addresses, 64 KB, 10 s;
/// cached per `Cache-Control` between 30 s and 5 min, so a rotated key is
/// seen within 5 minutes). Keys of different issuers never mix: each check
/// uses one key of the named issuer.
public actor TrustedIssuerKeys {
    let issuers: [String: TrustedIssuer]
    let inline: [String: [JWK]]
    let fetcher: (any DocumentFetching)?
    /// Parsed fetched sets, by issuer, for the exact bytes they came from.
    var fetched: [String: (body: Data, keys: [JWK])] = [:]

    /// - Throws: when an inline key set cannot be read (check-config checks its shape).
    public init(issuers: [TrustedIssuer], fetcher: (any DocumentFetching)?) throws {
        var byIssuer: [String: TrustedIssuer] = [:]
        var inline: [String: [JWK]] = [:]
        for issuer in issuers {
            byIssuer[issuer.issuer] = issuer
            if let jwks = issuer.jwks {
                guard let keys = Self.parse(Data(jwks.utf8)), !keys.isEmpty else { throw TokenProblem.keysUnavailable("inline jwks has no usable key") }
                inline[issuer.issuer] = keys
            }
        }
        self.issuers = byIssuer
        self.inline = inline
        self.fetcher = fetcher
    }

    /// The configured issuer named `issuer`, if any.
    public func trusted(_ issuer: String) -> TrustedIssuer? { issuers[issuer] }

    /// Checks the signature of `token`, whose header already passed
    /// `IDJAGRules.checkHeader` for this issuer's algorithms, with the one key
    /// the header's `kid` names (no `kid`: only when exactly one key fits).
    public func verifySignature(_ token: String, header: JOSEHeader, issuer: String) async throws(TokenProblem) {
        guard let alg = header.alg else { throw .wrongAlgorithm }
        let keys = try await keySet(for: issuer)
        let fitting = keys.filter { Self.fits($0, alg: alg) && (header.kid == nil || $0.keyIdentifier?.string == header.kid) }
        guard fitting.count == 1, var key = fitting.first else { throw .unknownKey }
        if key.keyIdentifier == nil { key.keyIdentifier = JWKIdentifier(string: "the-only-key") }
        do {
            let collection = JWTKeyCollection()
            try await collection.add(jwk: key)
            _ = try await collection.verify(token, as: AnyAssertion.self)
        } catch {
            throw .badSignature
        }
    }

    func keySet(for issuer: String) async throws(TokenProblem) -> [JWK] {
        if let keys = inline[issuer] { return keys }
        guard let url = issuers[issuer]?.jwksURI, let fetcher else { throw .keysUnavailable("no keys configured for this issuer") }
        let document: GuardedFetcher.Document
        do { document = try await fetcher.fetch(url) } catch { throw .keysUnavailable(error.description) }
        if let cached = fetched[issuer], cached.body == document.body { return cached.keys }
        guard let keys = Self.parse(document.body) else { throw .keysUnavailable("the issuer's jwks_uri is not a JWKS document") }
        fetched[issuer] = (document.body, keys)
        return keys
    }

    /// RFC 7517 §5; a key jwt-kit cannot read (an unknown `kty` or `alg`,
    /// an encryption key) is skipped, so one odd key never hides the others.
    static func parse(_ body: Data) -> [JWK]? {
        struct Set: Decodable { var keys: [JSONValue] }
        guard let set = try? JSONDecoder().decode(Set.self, from: body) else { return nil }
        return set.keys.compactMap { value in
            guard case .object(let members) = value, members["use"].map({ $0 == .string("sig") }) ?? true,
                  let data = try? JSONEncoder().encode(value) else { return nil }
            return try? JSONDecoder().decode(JWK.self, from: data)
        }
    }

    /// RFC 7518 §3.1: the key's type and curve must be the algorithm's, and a
    /// key that names its own `alg` must name this one (the token never
    /// chooses the algorithm for a key).
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
}

/// Decodes any JSON object: the signature is checked here, the claims by ShimCore's rules.
struct AnyAssertion: JWTPayload {
    init(from decoder: any Decoder) throws { _ = try decoder.container(keyedBy: JSONKey.self) }
    func encode(to encoder: any Encoder) throws {}
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
