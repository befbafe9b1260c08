import Foundation
import ShimCore

extension IDTokenVerifier {
    /// ID-JAG leg 1, after `verify` (signature, `iss`, `aud`, `exp`, `iat`):
    /// `SubjectTokenRules` — the token is an ID token of the asking
    /// application, not an access token, app-only token or logout token the
    /// IdP signed with the same keys; several audiences need `azp`; `nbf`
    /// holds. Judged with this verifier's clock and skew.
    ///
    /// - Returns: the subject token's `exp`, which the issued ID-JAG must not outlive.
    func checkSubjectToken(_ verified: VerifiedIDToken, audience: String) throws(TokenProblem) -> Int {
        try SubjectTokenRules.check(
            claims: verified.claims, headerType: verified.headerType, clientID: audience,
            now: clock.now(), leeway: expectations.clockSkew)
    }
}
