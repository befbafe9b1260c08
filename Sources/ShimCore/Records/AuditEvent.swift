public import Foundation

/// One auditable event: who (upstream subject), which client (id, name,
/// redirect host), which resource and scopes, when. Never a secret, code
/// or token.
public struct AuditEvent: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case registration
        case consentGiven = "consent_given"
        case consentDenied = "consent_denied"
        case grantIssued = "grant_issued"
        case refresh
        case reuseDetected = "reuse_detected"
        case codeReplayed = "code_replayed"
        case revocation
        case clientRevoked = "client_revoked"
        /// An issued (shim-signed) access token: detail carries the jti prefix and expiry.
        case accessTokenIssued = "access_token_issued"
        /// An ID-JAG issued by token exchange (EMA leg 1).
        case idJAGIssued = "id_jag_issued"
        /// An ID-JAG accepted as a jwt-bearer grant (EMA leg 2).
        case idJAGAccepted = "id_jag_accepted"
        /// A token exchange the EMA policy refused (leg 1).
        case idJAGDenied = "id_jag_denied"
        /// A Client ID Metadata Document fetched for the first time, or changed.
        case clientDocument = "client_document"
    }

    public var at: Date
    public var kind: Kind
    public var clientID: String
    public var clientName: String?
    public var redirectHost: String?
    public var subject: String?
    public var resource: String?
    public var scope: String?
    /// A grant id prefix, or a short reason; never a token.
    public var detail: String?

    public init(
        at: Date, kind: Kind, clientID: String, clientName: String? = nil, redirectHost: String? = nil,
        subject: String? = nil, resource: String? = nil, scope: String? = nil, detail: String? = nil
    ) {
        self.at = at
        self.kind = kind
        self.clientID = clientID
        self.clientName = clientName
        self.redirectHost = redirectHost
        self.subject = subject
        self.resource = resource
        self.scope = scope
        self.detail = detail
    }
}
