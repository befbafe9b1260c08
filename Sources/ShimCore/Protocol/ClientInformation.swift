public import Foundation

/// RFC 7591 §3.2.1 client information response: the shim-issued
/// credentials, then every registered metadata value as the server
/// accepted it ("including any fields provisioned by the authorization
/// server itself").
public struct ClientInformation: Encodable, Sendable, Equatable {
    public var clientID: String
    /// Only for confidential clients; shown once, stored as a hash.
    public var clientSecret: String?
    public var clientIDIssuedAt: Date
    public var metadata: ClientMetadata

    /// A new `client_id`: the issue time in milliseconds as 12 hex digits,
    /// then 96 random bits (base64url). RFC 6749 §2.2 makes the id unique,
    /// not secret (its issue time is in the response anyway); the time
    /// prefix makes new ids sort after older ones, so inserting one touches
    /// the right edge of the store's index instead of a random page: with a
    /// million registrations, random ids made /register several times slower
    /// (measured with `bench/run.sh`).
    public static func newClientID(issuedAt: Date) -> String {
        let millis = UInt64(max(0, Clamp.whole(issuedAt.timeIntervalSince1970 * 1000, into: 0...0xFFFF_FFFF_FFFF) ?? 0))
        let hex = String(millis, radix: 16)
        return String(repeating: "0", count: max(0, 12 - hex.utf8.count)) + hex + SecretToken.generate(bytes: 12)
    }

    public init(clientID: String, clientSecret: String?, clientIDIssuedAt: Date, metadata: ClientMetadata) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.clientIDIssuedAt = clientIDIssuedAt
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case clientID = "client_id"
        case clientSecret = "client_secret"
        case clientIDIssuedAt = "client_id_issued_at"
        case clientSecretExpiresAt = "client_secret_expires_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var fields = encoder.container(keyedBy: CodingKeys.self)
        try fields.encode(clientID, forKey: .clientID)
        // §3.2.1: seconds since the epoch.
        try fields.encode(Int64(clientIDIssuedAt.timeIntervalSince1970.rounded(.down)), forKey: .clientIDIssuedAt)
        if let clientSecret {
            try fields.encode(clientSecret, forKey: .clientSecret)
            // §3.2.1: "REQUIRED if client_secret is issued"; 0 means it does not expire.
            try fields.encode(0, forKey: .clientSecretExpiresAt)
        }
        try metadata.encode(to: encoder)
    }

    /// The response body: compact JSON, slashes unescaped (URIs stay readable).
    public func jsonBody() throws -> Data {
        try Self.encoder.encode(self)
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()
}

extension ClientMetadata: Encodable {
    /// The same member names as the registration request's.
    typealias EncodingKeys = Document.CodingKeys

    /// The metadata echoed in §3.2.1 responses; absent optional members are left out.
    public func encode(to encoder: any Encoder) throws {
        var fields = encoder.container(keyedBy: EncodingKeys.self)
        try fields.encode(redirectURIs, forKey: .redirectURIs)
        try fields.encode(grantTypes, forKey: .grantTypes)
        try fields.encode(responseTypes, forKey: .responseTypes)
        try fields.encode(tokenEndpointAuthMethod.rawValue, forKey: .tokenEndpointAuthMethod)
        try fields.encodeIfPresent(clientName, forKey: .clientName)
        try fields.encodeIfPresent(clientURI, forKey: .clientURI)
        try fields.encodeIfPresent(scope, forKey: .scope)
        try fields.encodeIfPresent(applicationType?.rawValue, forKey: .applicationType)
    }
}
