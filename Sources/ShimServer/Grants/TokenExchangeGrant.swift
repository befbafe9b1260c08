import Foundation
import Logging
import ShimCore
import ShimStorage
import ShimTokens
import ShimUpstream

/// Leg 1 of Enterprise-Managed Authorization (`ema.issuer.enabled`): an
/// RFC 8693 token exchange of the user's upstream ID token for an ID-JAG
/// signed with the shim's keys (draft-ietf-oauth-identity-assertion-authz-grant
/// §4.3; MCP ext-auth §4), for IdPs that cannot issue ID-JAGs (Entra).
/// The authenticated client is an `ema.clients` application; the ID token
/// must have been issued to it (§4.3.1), and `ema.policy` decides.
struct TokenExchangeGrant: GrantHandler {
    /// Verifies the upstream ID token; nil when the executable built none
    /// (the grant then answers `server_error`).
    let subjectTokens: (any SubjectTokenVerifying)?
    let signingKeys: SigningKeys
    let auditor: Auditor
    let clock: any ShimClock
    /// The ID-JAG's `iss`: this server.
    let issuer: String
    /// `ema.issuer`: lifetime and the groups claim.
    let settings: EMAIssuer
    /// `ema.policy`, deny by default.
    let policy: [EMAPolicyRule]
    /// How the upstream IdP's `email` is judged before it goes into an ID-JAG (rule 13).
    let emailTrust: SubjectIdentity.EmailTrust

    var grantType: GrantType { .tokenExchange }

    func exchange(_ form: [String: String], client: RegisteredClient, logger: Logger) async throws -> TokenResponse {
        guard form["requested_token_type"] == EMAProtocol.idJAGTokenType else {
            throw OAuthError.invalidRequest("requested_token_type must be \(EMAProtocol.idJAGTokenType)")
        }
        guard form["subject_token_type"] == EMAProtocol.idTokenType else {
            throw OAuthError.invalidRequest("subject_token_type must be \(EMAProtocol.idTokenType) (an OpenID Connect ID token)")
        }
        guard let subjectToken = form["subject_token"] else { throw OAuthError.invalidRequest("subject_token is missing") }
        guard let audience = form["audience"] else {
            throw OAuthError.invalidRequest("audience is missing (the target authorization server's issuer)")
        }
        // MCP ext-auth §4: `resource` is REQUIRED.
        guard let resource = form["resource"] else { throw OAuthError.invalidRequest("resource is missing") }
        if form["actor_token"] != nil { throw OAuthError.invalidRequest("actor_token is not supported") }
        guard let subjectTokens else {
            throw OAuthError(.serverError, "ID-JAG issuance is not available", detail: "no subject-token verifier")
        }
        let idClaims: [String: JSONValue]
        do { idClaims = try await subjectTokens.verifySubjectToken(subjectToken, audience: client.clientID) } catch {
            if case .keysUnavailable = error {
                throw OAuthError(.temporarilyUnavailable, "the identity provider's keys cannot be read; try again", detail: error.description)
            }
            throw OAuthError.invalidGrant("the subject token is not accepted: " + error.description)
        }
        // The user as the code flow names them (Entra: `<tid>/<oid>`; its
        // `sub` differs per application), so grants from both match.
        guard let subject = subjectTokens.subject(from: idClaims) else {
            throw OAuthError.invalidGrant("the subject token is not accepted: it names no subject")
        }
        let groups: [String] =
            switch idClaims[settings.groupsClaim] {
            case .array(let values)?: values.compactMap(\.stringValue)
            case .string(let one)?: [one]
            default: []
            }
        let decision: EMAPolicy.Decision
        do {
            decision = try EMAPolicy.decide(
                .init(
                    client: client.clientID, subject: subject, groups: groups, tenant: idClaims["tid"]?.stringValue,
                    audience: audience, resource: resource, scope: form["scope"]),
                rules: policy)
        } catch {
            logger.notice(
                "ID-JAG refused by policy",
                metadata: [
                    "client_id": "\(client.clientID)", "audience": "\(audience)",
                    "resource": "\(resource)",
                ])
            await auditor.record(
                AuditEvent(
                    at: clock.now(), kind: .idJAGDenied, clientID: client.clientID, subject: subject, resource: resource,
                    scope: form["scope"], detail: "denied by policy (audience \(audience))"),
                logger: logger)
            throw error
        }
        let now = clock.now()
        let issuedAt = Int(now.timeIntervalSince1970)
        // The ID-JAG never outlives the sign-in it stands for.
        guard let subjectExpiry = SubjectTokenRules.expiry(of: idClaims) else {
            throw OAuthError.invalidGrant("the subject token is not accepted: it has no exp")
        }
        let expiresAt = SubjectTokenRules.cappedExpiry(issuedAt: issuedAt, lifetime: settings.lifetimeSeconds, subjectExpiry: subjectExpiry)
        guard expiresAt > issuedAt else { throw OAuthError.invalidGrant("the subject token is not accepted: it has expired") }
        var extra: [String: JSONValue] = [:]
        for name in ["auth_time", "acr", "amr"] { extra[name] = idClaims[name] }
        // Rule 13: an email only when the IdP verified it, and then marked so
        // (the ID-JAG's reader requires `email_verified: true`).
        if let email = SubjectIdentity.verifiedEmail(idClaims, trust: emailTrust) {
            extra["email"] = email
            extra["email_verified"] = .bool(true)
        }
        if let tid = idClaims["tid"] { extra["tenant"] = tid }
        let claims = IDJAGClaims(
            issuer: issuer, subject: subject, audience: [audience], clientID: decision.clientID,
            tokenID: SecretToken.generate(bytes: 16), expiresAt: expiresAt,
            issuedAt: issuedAt, resources: [resource], scope: decision.scope.text, extra: extra)
        let idJAG: String
        do { idJAG = try await signingKeys.sign(claims, type: EMAProtocol.mediaType) } catch {
            throw OAuthError(.serverError, "ID-JAGs cannot be signed", detail: "\(error)")
        }
        await auditor.record(
            AuditEvent(
                at: now, kind: .idJAGIssued, clientID: client.clientID, subject: subject, resource: resource,
                scope: decision.scope.text,
                detail: "audience \(audience) client_id \(decision.clientID) jti \(SecretToken.logTag(claims.tokenID))"),
            logger: logger)
        // RFC 8693 §2.2.1; the draft §4.3.2: token_type N_A, no refresh token.
        return TokenResponse(
            accessToken: idJAG, tokenType: "N_A", expiresIn: expiresAt - issuedAt, scope: decision.scope.text,
            issuedTokenType: EMAProtocol.idJAGTokenType)
    }
}
