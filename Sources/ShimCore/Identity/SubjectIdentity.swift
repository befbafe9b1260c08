/// An RFC 9493 §3.2.5 "Issuer and Subject Identifier Format" subject
/// identifier: `{"format": "iss_sub", "iss": ..., "sub": ...}`. Issued
/// tokens and gateway identity assertions carry it as `sub_id`, the JWT
/// claim RFC 9493 §4.1 defines (registered in the IANA "JSON Web Token
/// Claims" registry) for "a Subject Identifier".
public struct IssuerSubjectIdentifier: Codable, Sendable, Equatable {
    public var format = "iss_sub"
    public var issuer: String
    public var subject: String

    public init(issuer: String, subject: String) {
        self.issuer = issuer
        self.subject = subject
    }

    enum CodingKeys: String, CodingKey {
        case format
        case issuer = "iss"
        case subject = "sub"
    }
}

/// Who a user is, across the issuers that can assert users to the shim
/// (rule 13): the upstream IdP through the code flow, and with
/// Enterprise-Managed Authorization every `ema.trusted_issuers` entry and
/// the shim's own ID-JAGs.
public enum SubjectIdentity {
    /// OIDC Core §5.7: "The sub (subject) and iss (issuer) Claims, used
    /// together, are the only Claims that an RP can rely upon as a stable
    /// identifier for the End-User". When more than one issuer can assert
    /// users, the `sub` the shim issues (and the gateway's
    /// `X-Forwarded-User`) is `<issuer>#<sub>`: an issuer identifier has no
    /// fragment (RFC 8414 §2, OIDC Discovery §3), so the first `#` always
    /// separates the two. With one issuer the subject is left as it is.
    public static func qualified(subject: String, issuer: String, severalIssuers: Bool) -> String {
        severalIssuers ? issuer + "#" + subject : subject
    }

    /// Whether an `email` claim may be copied (into grants, issued tokens,
    /// `X-Forwarded-Email` and identity assertions): only when its issuer
    /// says it verified it and is authoritative for it. OIDC Core §5.7: "the
    /// RP MUST NOT rely upon [email] as a unique identifier"; §5.1
    /// `email_verified`: "true if the End-User's e-mail address has been
    /// verified; otherwise false". An absent, false or non-boolean
    /// `email_verified` is unverified.
    public static func verifiedEmail(_ claims: [String: JSONValue], trust: EmailTrust) -> JSONValue? {
        guard let email = claims["email"], email.stringValue?.isEmpty == false else { return nil }
        switch trust {
        case .notAuthoritative:
            return nil
        case .emailVerifiedClaim:
            return claims["email_verified"] == .bool(true) ? email : nil
        case .entraVerifiedDomainOwner:
            // Entra sends no `email_verified`; its `xms_edov` optional claim
            // ("Boolean value indicating whether the user's email domain owner
            // has been verified") is the only statement that the address is
            // the tenant's to assert.
            return claims["xms_edov"] == .bool(true) ? email : nil
        }
    }

    /// How an issuer's `email` claims are judged (`verifiedEmail`).
    public enum EmailTrust: Sendable, Equatable {
        /// `email_verified: true` is required (the upstream IdP; a trusted
        /// issuer with `email_authoritative: true`).
        case emailVerifiedClaim
        /// Entra: `xms_edov: true` is required.
        case entraVerifiedDomainOwner
        /// Never copied (a trusted issuer without `email_authoritative`).
        case notAuthoritative
    }
}

extension UpstreamConfiguration {
    /// The issuer whose subjects the code flow's grants hold: `upstream.issuer`,
    /// Entra's v2.0 issuer for the configured tenant (the subject then
    /// carries the user's own tenant id, `<tid>/<oid>`), GitHub's site, or
    /// the authorization endpoint for an IdP configured without an issuer.
    public var subjectIssuer: String {
        switch preset {
        case .entra: "https://login.microsoftonline.com/\(tenant ?? "common")/v2.0"
        case .github: issuer ?? "https://github.com"
        default: issuer ?? authorizationEndpoint ?? "upstream"
        }
    }

    /// How the upstream IdP's `email` claims are judged: it is always
    /// authoritative for its users; Entra by `xms_edov`, others by
    /// `email_verified`.
    public var emailTrust: SubjectIdentity.EmailTrust {
        preset == .entra ? .entraVerifiedDomainOwner : .emailVerifiedClaim
    }
}

extension EMAConfiguration {
    /// More than one issuer can assert users: a trusted issuer, or the
    /// shim's own ID-JAGs next to the code flow.
    public var severalSubjectIssuers: Bool { acceptsAssertions }
}
