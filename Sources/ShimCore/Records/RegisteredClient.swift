public import Foundation

/// A client registered through RFC 7591. Only what the flow needs is kept;
/// the secret is kept as a hash.
public struct RegisteredClient: Codable, Sendable, Equatable {
    public enum AuthMethod: String, Codable, Sendable, CaseIterable {
        case none
        case clientSecretBasic = "client_secret_basic"
        case clientSecretPost = "client_secret_post"
    }

    public var clientID: String
    public var clientSecretHash: String?
    public var clientName: String?
    public var clientURI: String?
    public var redirectURIs: [String]
    public var grantTypes: [String]
    public var tokenEndpointAuthMethod: AuthMethod
    public var scope: String?
    public var createdAt: Date
    /// When a token was first issued to the client; registrations never used
    /// expire after `registration.unused_ttl` (abuse control).
    public var usedAt: Date?

    public init(
        clientID: String, clientSecretHash: String?, clientName: String?, clientURI: String?,
        redirectURIs: [String], grantTypes: [String], tokenEndpointAuthMethod: AuthMethod,
        scope: String?, createdAt: Date, usedAt: Date? = nil
    ) {
        self.clientID = clientID
        self.clientSecretHash = clientSecretHash
        self.clientName = clientName
        self.clientURI = clientURI
        self.redirectURIs = redirectURIs
        self.grantTypes = grantTypes
        self.tokenEndpointAuthMethod = tokenEndpointAuthMethod
        self.scope = scope
        self.createdAt = createdAt
        self.usedAt = usedAt
    }

    /// An unused registration older than `unusedTTL` seconds counts as gone.
    public func isExpired(now: Date, unusedTTL: Int) -> Bool {
        usedAt == nil && now.timeIntervalSince(createdAt) > TimeInterval(unusedTTL)
    }

    /// The name to show on the consent page: the client's own claim, which
    /// is why the page also shows the redirect host the code will go to.
    public var displayName: String { clientName ?? "Unnamed client" }
}
