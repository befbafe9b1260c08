import Foundation
import Logging
import ShimCore
import ShimStorage
import ShimTokens
import ShimUpstream

/// Reading an ID-JAG presented at /token (leg 2): which issuer it claims,
/// that the issuer is trusted, its header, its signature with that issuer's
/// key, and its claims. The claim rules are `IDJAGRules` (ShimCore).
struct EMAAssertions: Sendable {
    /// The shim's own issuer, and its keys when it issues ID-JAGs itself (leg 1).
    let issuer: String
    let ownKeys: SigningKeys?
    /// `ema.trusted_issuers`, nil when none is trusted.
    let trustedIssuerKeys: TrustedIssuerKeys?

    /// A verified ID-JAG and what its issuer's entry allows.
    struct Verified {
        var claims: IDJAGClaims
        /// The issuer whose key verified the signature (the shim itself, or
        /// an `ema.trusted_issuers` entry), for `IDJAGRules.check`.
        var issuer: String
        /// `allow_without_resource` of that entry (never for the shim's own
        /// ID-JAGs, which always name their resource).
        var resourceRequired: Bool
        /// Whether the ID-JAG is the shim's own (leg 1 here): its subject is
        /// then the upstream IdP's user.
        var isOwn: Bool
        /// Whether its `email` may be believed (rule 13): the shim's own ID-JAGs
        /// carry only an email leg 1 found verified; a trusted issuer's only
        /// with `email_authoritative`.
        var emailTrust: SubjectIdentity.EmailTrust
    }

    /// The verified claims; every refusal is `invalid_grant` naming the
    /// rule, except an issuer whose keys cannot be read (503).
    func verify(_ assertion: String) async throws(OAuthError) -> Verified {
        func refuse(_ problem: TokenProblem) -> OAuthError {
            if case .keysUnavailable = problem {
                return OAuthError(.temporarilyUnavailable, "the assertion's issuer cannot be checked now; try again", detail: problem.description)
            }
            return .invalidGrant("the assertion is not accepted: " + problem.description)
        }
        let jws: CompactJWS
        do { jws = try CompactJWS.parse(assertion) } catch { throw refuse(error) }
        struct Issuer: Decodable { var iss: String? }
        guard let issuer = (try? JSONDecoder().decode(Issuer.self, from: jws.payload))?.iss else {
            throw refuse(.missingClaim("iss"))
        }
        let resourceRequired: Bool
        let verifiedBy: String
        var emailTrust = SubjectIdentity.EmailTrust.emailVerifiedClaim
        do {
            if issuer == self.issuer, let keys = ownKeys {
                resourceRequired = true
                verifiedBy = self.issuer
                // The shim's own ID-JAGs (leg 1 here): its ES256 keys.
                try IDJAGRules.checkHeader(jws.header, algorithms: ["ES256"])
                guard let kid = jws.header.kid, keys.keyIDs.contains(kid) else { throw TokenProblem.unknownKey }
                guard await keys.verifySignature(assertion) else { throw TokenProblem.badSignature }
            } else if let keys = trustedIssuerKeys, let trusted = await keys.trusted(issuer) {
                resourceRequired = !trusted.allowWithoutResource
                verifiedBy = trusted.issuer
                if !trusted.emailAuthoritative { emailTrust = .notAuthoritative }
                try IDJAGRules.checkHeader(jws.header, algorithms: Set(trusted.algorithms))
                try await keys.verifySignature(assertion, header: jws.header, issuer: issuer)
            } else {
                throw OAuthError.invalidGrant("the assertion is not accepted: its issuer is not trusted by this server")
            }
        } catch let problem as TokenProblem {
            throw refuse(problem)
        } catch let error as OAuthError {
            throw error
        } catch {
            throw OAuthError(.serverError, "the assertion cannot be checked", detail: "\(error)")
        }
        let claims: IDJAGClaims
        do { claims = try JSONDecoder().decode(IDJAGClaims.self, from: jws.payload) } catch {
            throw refuse(.malformed("its claims are not an ID-JAG claim set"))
        }
        return Verified(
            claims: claims, issuer: verifiedBy, resourceRequired: resourceRequired, isOwn: ownKeys != nil && verifiedBy == self.issuer,
            emailTrust: emailTrust)
    }

    /// The store key of an assertion's `jti`: per issuer, hashed.
    static func replayKey(_ claims: IDJAGClaims) -> String {
        SecretToken.hash("\(claims.issuer.utf8.count):\(claims.issuer)|\(claims.tokenID)")
    }
}
