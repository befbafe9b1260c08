import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
public import ShimCore
import Tracing

/// ID tokens of code exchanges, verified when the IdP publishes its keys
/// (rule 12; the checks are `IDTokenVerifier`'s).
extension OIDCUpstream {
    public func verifyIDToken(_ idToken: String, nonce: String?) async throws(OAuthError) -> String? {
        guard let verifier = try await verifier() else {
            // No keys known (GitHub, fixed endpoints without upstream.jwks_uri):
            // the token came over the client-authenticated TLS token request,
            // which OIDC Core §3.1.3.7 step 6 accepts in place of a signature.
            return try UnverifiedIDToken.check(idToken, nonce: nonce)
        }
        do {
            let verified = try await verifier.verify(idToken, nonce: nonce)
            logger.info("upstream id_token verified", metadata: ["issuer": "\(verified.issuer)"])
            // The same user as at ID-JAG leg 1 (Entra: `<tid>/<oid>`, not the per-application `sub`).
            return profile.userSubject(from: verified.claims, logger: logger) ?? verified.subject
        } catch {
            logger.warning("upstream id_token refused", metadata: ["reason": "\(error.description)"])
            switch error {
            case .keysUnavailable:
                throw OAuthError(.temporarilyUnavailable, "the identity provider's keys cannot be read; try again later", detail: error.description)
            case .nonceMismatch:
                throw OAuthError(.accessDenied, "the identity provider's answer does not belong to this sign-in", detail: error.description)
            default:
                throw OAuthError(.accessDenied, "the identity provider's answer could not be verified", detail: error.description)
            }
        }
    }

    /// The verifier for this IdP, once its keys' location and issuer are known.
    func verifier() async throws(OAuthError) -> IDTokenVerifier? {
        if let cached = await verifiers.value { return cached }
        let endpoints = try await endpoints()
        guard let jwks = config.jwksURI ?? endpoints.jwks ?? profile.defaultJWKS(config),
            var issuer = endpoints.issuer ?? profile.idTokenIssuer(config)
        else { return nil }
        // Entra by domain: the tenant's own GUID issuer, never the `{tenantid}` template.
        if let pinned = try await pinnedEntraIssuer() { issuer = pinned }
        let published = Set(endpoints.idTokenAlgorithms ?? []).intersection(IDTokenVerifier.Expectations.asymmetric)
        let algorithms = !config.idTokenAlgorithms.isEmpty ? Set(config.idTokenAlgorithms) : published.isEmpty ? ["RS256"] : published
        let verifier = IDTokenVerifier(
            expectations: .init(issuer: issuer, audience: config.clientID, algorithms: algorithms),
            fetchKeys: { [httpClient, timeout, logger] in
                let keys = try await Self.fetchKeys(jwks, httpClient: httpClient, timeout: timeout)
                logger.info("upstream signing keys fetched", metadata: ["jwks_uri": "\(jwks)", "bytes": "\(keys.count)"])
                return keys
            })
        return await verifiers.set(verifier)
    }

    /// GET the JWKS: 200 only, at most 256 KiB (key sets with certificate
    /// chains run to tens of KiB), no redirects (the shared client's setting).
    static func fetchKeys(_ url: String, httpClient: HTTPClient, timeout: TimeAmount) async throws -> Data {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        return try await withSpan("idp jwks") { span in
            span.attributes["dcr_shim.idp.operation"] = "jwks"
            span.attributes["server.address"] = URL(string: url)?.host
            let response = try await httpClient.execute(request, timeout: timeout)
            span.attributes["http.response.status_code"] = Int(response.status.code)
            let body = try await response.body.collect(upTo: 256 * 1024)
            guard response.status.code == 200 else { throw IDTokenVerifier.Failure.keysUnavailable("jwks_uri answered \(response.status.code)") }
            return Data(body.readableBytesView)
        }
    }
}

/// The verifier, shared by concurrent requests; the first one set wins.
actor VerifierCache {
    var value: IDTokenVerifier?
    func set(_ verifier: IDTokenVerifier) -> IDTokenVerifier {
        if let value { return value }
        value = verifier
        return verifier
    }
}

/// The ID token of an IdP whose keys are unknown: only the nonce (OIDC Core
/// §3.1.3.7 step 11) and the subject are read.
enum UnverifiedIDToken {
    static func check(_ idToken: String, nonce: String?) throws(OAuthError) -> String? {
        guard let claims = IDTokenClaims(jwt: idToken) else {
            throw OAuthError(.serverError, "the identity provider returned an unreadable ID token", detail: "id_token not a JWT")
        }
        if let nonce, claims.nonce != nonce {
            throw OAuthError(.accessDenied, "the identity provider's answer does not belong to this sign-in", detail: "id_token nonce mismatch")
        }
        return claims.subject
    }
}

/// ID-JAG leg 1 (`ema.issuer`): the user's upstream ID token, presented by an
/// `ema.clients` application as an RFC 8693 `subject_token`, checked by the
/// same verifier as the code flow's ID tokens (the draft §4.3.1: the IdP
/// MUST validate the assertion, and its audience must be the authenticated
/// client). No nonce: the token was not obtained for this request.
extension OIDCUpstream: SubjectTokenVerifying {
    public func verifySubjectToken(_ idToken: String, audience: String) async throws(TokenProblem) -> [String: JSONValue] {
        let found: IDTokenVerifier?
        do { found = try await verifier() } catch { throw .keysUnavailable("the identity provider's discovery document cannot be read") }
        // Without published keys an ID token is only trustworthy on the back
        // channel it came from; one presented by a client is refused.
        guard let verifier = found else { throw .keysUnavailable("the identity provider publishes no signing keys (set upstream.jwks_uri)") }
        let verified: VerifiedIDToken
        do {
            verified = try await verifier.verify(idToken, nonce: nil, audience: audience)
        } catch {
            logger.notice("subject_token refused", metadata: ["reason": "\(error.description)"])
            throw switch error {
            case .malformed: TokenProblem.malformed("not a compact JWS")
            case .algorithmNotAllowed: .wrongAlgorithm
            case .criticalHeader: .unsupportedCritical
            case .wrongType: .wrongType(expected: "an ID token")
            case .noKey, .unknownKey: .unknownKey
            case .keysUnavailable(let why): .keysUnavailable(why)
            case .badSignature: .badSignature
            case .wrongIssuer: .wrongIssuer
            case .wrongAudience: .wrongAudience
            case .expired: .expired
            case .issuedInTheFuture: .issuedInFuture
            case .nonceMismatch: .malformed("nonce")
            case .noSubject: .missingClaim("sub")
            }
        }
        // Only an ID token of the asking application: not an access token or
        // app-only token the IdP signed with the same keys (`SubjectTokenRules`).
        // Its `exp` stays in the claims: the ID-JAG ends no later.
        do {
            _ = try await verifier.checkSubjectToken(verified, audience: audience)
        } catch {
            logger.notice("subject_token refused", metadata: ["reason": "\(error.description)"])
            throw error
        }
        return verified.claims
    }

    public func subject(from claims: [String: JSONValue]) -> String? {
        profile.userSubject(from: claims, logger: logger)
    }
}
