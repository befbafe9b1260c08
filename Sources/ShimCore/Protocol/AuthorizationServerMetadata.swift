/// RFC 8414 §2 authorization server metadata (also served as the OpenID
/// Connect discovery document, which MCP clients try too). Optional members
/// are left out when nil.
public struct AuthorizationServerMetadata: Encodable, Sendable, Equatable {
    public var issuer: String
    public var authorizationEndpoint: String
    public var tokenEndpoint: String
    public var registrationEndpoint: String
    public var revocationEndpoint: String
    public var responseTypesSupported = ["code"]
    public var responseModesSupported = ["query"]
    public var grantTypesSupported: [String]
    public var codeChallengeMethodsSupported = ["S256"]
    public var tokenEndpointAuthMethodsSupported: [String]
    public var revocationEndpointAuthMethodsSupported: [String]
    public var scopesSupported: [String]
    /// RFC 9207: the client can check that a response came from this issuer.
    public var authorizationResponseIssParameterSupported = true
    /// draft-ietf-oauth-client-id-metadata-document §5: clients (Claude Code,
    /// VS Code, the MCP SDKs) present a document URL as client_id when true.
    public var clientIDMetadataDocumentSupported: Bool
    /// RFC 8414 §2: where the keys of issued tokens are (RFC 9068 §4 has
    /// resource servers fetch them from the issuer's metadata).
    public var jwksURI: String?
    /// draft-ietf-oauth-identity-assertion-authz-grant §9.2: a resource AS
    /// that processes ID-JAGs (it also lists jwt-bearer among its grants).
    public var authorizationGrantProfilesSupported: [String]?
    /// The same draft §9.1 (identity chaining): the token types this server
    /// issues by token exchange.
    public var identityChainingRequestedTokenTypesSupported: [String]?
    /// RFC 8414 §2 (RFC 7662): introspection for configured resource servers.
    public var introspectionEndpoint: String?
    public var introspectionEndpointAuthMethodsSupported: [String]?

    /// The document for this configuration. `grantTypes`: what the token
    /// endpoint serves; `documentsAccepted`: CIMD enabled with a fetcher;
    /// `publishesKeys`: the shim signs tokens of its own.
    public init(config: ShimConfiguration, grantTypes: [GrantType], scopes: [String], documentsAccepted: Bool, publishesKeys: Bool) {
        let issuer = config.issuerBase
        let authMethods = RegisteredClient.AuthMethod.allCases.map(\.rawValue)
        self.issuer = issuer
        authorizationEndpoint = issuer + "/authorize"
        tokenEndpoint = issuer + "/token"
        registrationEndpoint = issuer + "/register"
        revocationEndpoint = issuer + "/revoke"
        grantTypesSupported = grantTypes.map(\.rawValue)
        tokenEndpointAuthMethodsSupported = authMethods
        revocationEndpointAuthMethodsSupported = authMethods
        scopesSupported = scopes
        clientIDMetadataDocumentSupported = documentsAccepted
        if publishesKeys { jwksURI = issuer + "/jwks.json" }
        if config.ema.acceptsAssertions { authorizationGrantProfilesSupported = [EMAProtocol.grantProfile] }
        if config.ema.issuer.enabled { identityChainingRequestedTokenTypesSupported = [EMAProtocol.idJAGTokenType] }
        if config.accessTokenMode == .issued {
            introspectionEndpoint = issuer + "/introspect"
            introspectionEndpointAuthMethodsSupported = ["client_secret_basic", "client_secret_post"]
        }
    }

    private enum CodingKeys: String, CodingKey {
        case issuer
        case authorizationEndpoint = "authorization_endpoint"
        case tokenEndpoint = "token_endpoint"
        case registrationEndpoint = "registration_endpoint"
        case revocationEndpoint = "revocation_endpoint"
        case responseTypesSupported = "response_types_supported"
        case responseModesSupported = "response_modes_supported"
        case grantTypesSupported = "grant_types_supported"
        case codeChallengeMethodsSupported = "code_challenge_methods_supported"
        case tokenEndpointAuthMethodsSupported = "token_endpoint_auth_methods_supported"
        case revocationEndpointAuthMethodsSupported = "revocation_endpoint_auth_methods_supported"
        case scopesSupported = "scopes_supported"
        case authorizationResponseIssParameterSupported = "authorization_response_iss_parameter_supported"
        case clientIDMetadataDocumentSupported = "client_id_metadata_document_supported"
        case jwksURI = "jwks_uri"
        case authorizationGrantProfilesSupported = "authorization_grant_profiles_supported"
        case identityChainingRequestedTokenTypesSupported = "identity_chaining_requested_token_types_supported"
        case introspectionEndpoint = "introspection_endpoint"
        case introspectionEndpointAuthMethodsSupported = "introspection_endpoint_auth_methods_supported"
    }
}
