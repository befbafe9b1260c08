public import Foundation
import JWTKit
public import ShimCore

/// Verifies an ID token from the IdP (OIDC Core §3.1.3.7; rule 12, threat
/// I11 in docs/threat-model.md) against the keys the IdP publishes:
///
/// 1. the header's `alg` is on the allow-list (asymmetric only: RSA, RSA-PSS,
///    ECDSA, EdDSA; never `none`, never HMAC), and the algorithm is fixed by
///    that check, never by the token: the key's type and curve must fit it,
///    and a key that names its own `alg` must name this one;
/// 2. the key is the one the header's `kid` names in the IdP's JWKS (a
///    token without `kid` only when exactly one key fits); an unknown `kid`
///    fetches the JWKS again (keys rotate), at most once per `refetchInterval`;
/// 3. the signature, by jwt-kit with that one key;
/// 4. `iss` equals the IdP's issuer; `aud` contains the client id (and `azp`,
///    when present, is the client id); `exp` is in the future and `iat` not
///    in the future, each with `clockSkew`; the `nonce` is the one sent.
///
/// One verifier per issuer: keys of different issuers never mix. It also
/// checks ID-JAG leg 1's `subject_token` (an upstream ID token presented in
/// token exchange; `OIDCUpstream.verifySubjectToken`), with the asking
/// application as the audience and no nonce.
public actor IDTokenVerifier {
    /// What a token must be.
    public struct Expectations: Sendable {
        /// The IdP's issuer exactly as it publishes it. Entra's multi-tenant
        /// `https://login.microsoftonline.com/{tenantid}/v2.0` matches with the
        /// token's own `tid` put in.
        public var issuer: String
        /// The client the token was issued to (`aud` must contain it).
        public var audience: String
        /// Accepted `alg` values (others are refused before any key is used).
        public var algorithms: Set<String>
        public var clockSkew: TimeInterval

        public init(issuer: String, audience: String, algorithms: Set<String> = ["RS256"], clockSkew: TimeInterval = 60) {
            self.issuer = issuer
            self.audience = audience
            self.algorithms = algorithms.intersection(Self.asymmetric)
            self.clockSkew = clockSkew
        }

        /// The algorithms this verifier can ever accept.
        public static let asymmetric: Set<String> = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
    }

    let expectations: Expectations
    let fetchKeys: @Sendable () async throws -> Data
    let clock: any ShimClock
    /// The least time between two fetches forced by an unknown `kid`.
    let refetchInterval: TimeInterval
    /// Keys are fetched again after this even when every `kid` is known.
    let maxKeyAge: TimeInterval
    var keys: KeySet?
    var fetching: Task<KeySet, any Error>?

    /// - Parameter fetchKeys: GETs the IdP's `jwks_uri` (size- and time-capped by the caller).
    public init(
        expectations: Expectations, clock: any ShimClock = SystemClock(), refetchInterval: TimeInterval = 30,
        maxKeyAge: TimeInterval = 3600, fetchKeys: @escaping @Sendable () async throws -> Data
    ) {
        self.expectations = expectations
        self.clock = clock
        self.refetchInterval = refetchInterval
        self.maxKeyAge = maxKeyAge
        self.fetchKeys = fetchKeys
    }

    /// The verified claims, or why not (`IDTokenVerifier.Failure`).
    ///
    /// - Parameter audience: the client the token must be issued to, when it
    ///   is not the verifier's own (ID-JAG leg 1: the asking application).
    public func verify(_ token: String, nonce: String?, audience: String? = nil) async throws(Failure) -> VerifiedIDToken {
        let jws: CompactJWS
        do { jws = try CompactJWS.parse(token, limit: 64 * 1024) } catch { throw .malformed }
        guard let alg = jws.header.alg else { throw .malformed }
        guard expectations.algorithms.contains(alg) else { throw .algorithmNotAllowed(alg) }
        // RFC 7515 §4.1.11: the verifier understands no header extension.
        guard jws.header.crit == nil else { throw .criticalHeader }
        // RFC 8725 §3.11: another kind of JWT from the same issuer (an access
        // token, an ID-JAG) is not an ID token, whatever its claims say.
        if jws.header.hasType(AccessTokenRules.mediaType) || jws.header.hasType(EMAProtocol.mediaType) {
            throw .wrongType(jws.header.typ ?? "")
        }
        let key = try await key(for: TokenHeader(alg: alg, kid: jws.header.kid))
        let claims: IDTokenPayload
        do {
            let collection = JWTKeyCollection()
            try await collection.add(jwk: key)
            claims = try await collection.verify(token, as: IDTokenPayload.self)
        } catch {
            throw .badSignature
        }
        var verified = try check(claims, nonce: nonce, audience: audience ?? expectations.audience)
        // Every claim, for callers that read more than the subject (leg 1's
        // groups, tenant, email); the signature covers these bytes.
        verified.claims = (try? JSONDecoder().decode([String: JSONValue].self, from: jws.payload)) ?? [:]
        verified.headerType = jws.header.typ
        return verified
    }

    /// Step 4, on claims whose signature holds.
    func check(_ claims: IDTokenPayload, nonce: String?, audience: String) throws(Failure) -> VerifiedIDToken {
        let expected = expectations.issuer.replacingOccurrences(of: "{tenantid}", with: claims.tid ?? "{tenantid}")
        guard claims.iss == expected else { throw .wrongIssuer(claims.iss ?? "none") }
        guard claims.aud.contains(audience) else { throw .wrongAudience }
        if let azp = claims.azp, azp != audience { throw .wrongAudience }
        let now = clock.now().timeIntervalSince1970
        guard let exp = claims.exp, exp + expectations.clockSkew > now else { throw .expired }
        if let iat = claims.iat, iat > now + expectations.clockSkew { throw .issuedInTheFuture }
        if let nonce, claims.nonce != nonce { throw .nonceMismatch }
        guard let subject = claims.sub, !subject.isEmpty else { throw .noSubject }
        return VerifiedIDToken(
            subject: subject, issuer: expected, nonce: claims.nonce,
            expiresAt: Date(timeIntervalSince1970: exp), tenant: claims.tid)
    }

    /// Why a token was refused; `description` is for the operator's log.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case malformed
        case algorithmNotAllowed(String)
        case criticalHeader
        case wrongType(String)
        case noKey
        case unknownKey(String)
        case keysUnavailable(String)
        case badSignature
        case wrongIssuer(String)
        case wrongAudience, expired, issuedInTheFuture, nonceMismatch, noSubject

        public var description: String {
            switch self {
            case .malformed: "id_token is not a JWS"
            case .algorithmNotAllowed(let alg): "id_token alg \(LogSafe.text(alg, limit: 16)) is not allowed"
            case .criticalHeader: "id_token has critical header extensions"
            case .wrongType(let typ): "id_token typ \(LogSafe.text(typ, limit: 40)) is another kind of token"
            case .noKey: "id_token names no kid and more than one key fits"
            case .unknownKey(let kid): "id_token kid \(LogSafe.text(kid, limit: 64)) is not in the IdP's JWKS"
            case .keysUnavailable(let why): "the IdP's JWKS cannot be read: \(why)"
            case .badSignature: "id_token signature does not verify"
            case .wrongIssuer(let iss): "id_token iss \(LogSafe.text(iss, limit: 200)) is not the IdP's issuer"
            case .wrongAudience: "id_token aud/azp does not name this client"
            case .expired: "id_token is expired"
            case .issuedInTheFuture: "id_token iat is in the future"
            case .nonceMismatch: "id_token nonce mismatch"
            case .noSubject: "id_token has no sub"
            }
        }
    }
}

/// What a verified ID token says about the user.
public struct VerifiedIDToken: Sendable, Equatable {
    public var subject: String
    public var issuer: String
    public var nonce: String?
    public var expiresAt: Date
    /// Entra's tenant id, when present.
    public var tenant: String?
    /// All the token's claims (signature-checked).
    public var claims: [String: JSONValue] = [:]
    /// The JOSE header's `typ`, when present (leg 1 refuses other kinds of JWT).
    public var headerType: String?
}
