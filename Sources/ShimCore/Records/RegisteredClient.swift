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
    /// Where a client comes from. A configured client (`ema.clients`) is
    /// withdrawn at start when the configuration no longer lists it; it is
    /// recognised by this field alone, which only the shim sets (never by
    /// `client_name`, which a registering client chooses).
    public enum Origin: String, Codable, Sendable, CaseIterable {
        /// Registered through RFC 7591 (or known by its metadata document).
        case registered
        /// Installed from `ema.clients` at start.
        case configured
    }

    /// The `client_name` given to clients installed from `ema.clients`. Shown
    /// only: a registering client may choose the same name, so nothing is
    /// decided by it (`origin` is what marks a configured client).
    public static let configuredClientName = "configured client (ema.clients)"

    public var scope: String?
    public var createdAt: Date
    /// When a token was first issued to the client; registrations never used
    /// expire after `registration.unused_ttl` (abuse control).
    public var usedAt: Date?
    /// `registered` unless the shim installed it from configuration.
    public var origin: Origin

    public init(
        clientID: String, clientSecretHash: String?, clientName: String?, clientURI: String?,
        redirectURIs: [String], grantTypes: [String], tokenEndpointAuthMethod: AuthMethod,
        scope: String?, createdAt: Date, usedAt: Date? = nil, origin: Origin = .registered
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
        self.origin = origin
    }

    enum CodingKeys: String, CodingKey {
        case clientID, clientSecretHash, clientName, clientURI, redirectURIs, grantTypes, tokenEndpointAuthMethod, scope, createdAt, usedAt, origin
    }

    /// Records stored before `origin` existed decode as `registered`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            clientID: try c.decode(String.self, forKey: .clientID),
            clientSecretHash: try c.decodeIfPresent(String.self, forKey: .clientSecretHash),
            clientName: try c.decodeIfPresent(String.self, forKey: .clientName),
            clientURI: try c.decodeIfPresent(String.self, forKey: .clientURI),
            redirectURIs: try c.decode([String].self, forKey: .redirectURIs),
            grantTypes: try c.decode([String].self, forKey: .grantTypes),
            tokenEndpointAuthMethod: try c.decode(AuthMethod.self, forKey: .tokenEndpointAuthMethod),
            scope: try c.decodeIfPresent(String.self, forKey: .scope),
            createdAt: try c.decode(Date.self, forKey: .createdAt),
            usedAt: try c.decodeIfPresent(Date.self, forKey: .usedAt),
            origin: try c.decodeIfPresent(Origin.self, forKey: .origin) ?? .registered)
    }

    /// An unused registration older than `unusedTTL` seconds counts as gone.
    public func isExpired(now: Date, unusedTTL: Int) -> Bool {
        usedAt == nil && now.timeIntervalSince(createdAt) > TimeInterval(unusedTTL)
    }

    /// The name to show on the consent page: the client's own claim, which
    /// is why the page also shows the redirect host the code will go to.
    public var displayName: String { clientName ?? "Unnamed client" }
}
