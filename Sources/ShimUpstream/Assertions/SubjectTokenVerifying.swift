public import ShimCore

/// Leg 1 of Enterprise-Managed Authorization: an upstream ID token
/// presented as an RFC 8693 `subject_token`. The draft §4.3.1: "If the
/// subject token is an Identity Assertion, the IdP MUST validate the
/// assertion and MUST validate that the audience of the assertion ... matches
/// the client_id of the client authentication of the request."
public protocol SubjectTokenVerifying: Sendable {
    /// The claims of `idToken` once its signature (against the IdP's
    /// published keys), `iss` (the upstream IdP), `aud` (containing
    /// `audience`), `exp` and `iat` hold; `sub` is present. A refusal names
    /// the rule (`TokenProblem`).
    func verifySubjectToken(_ idToken: String, audience: String) async throws(TokenProblem) -> [String: JSONValue]
    /// The user a verified subject token names, as the code flow names the
    /// same user (`IdPProfile.userSubject`: Entra's `<tid>/<oid>`, not its
    /// per-application `sub`).
    func subject(from claims: [String: JSONValue]) -> String?
}

extension SubjectTokenVerifying {
    /// `sub` (OIDC Core §2), for verifiers without a preset.
    public func subject(from claims: [String: JSONValue]) -> String? {
        guard let sub = claims["sub"]?.stringValue, !sub.isEmpty else { return nil }
        return sub
    }
}
