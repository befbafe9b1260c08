public import Foundation

/// RFC 7591 §2 client metadata, validated (rule 1 and §3.2.2 errors).
///
/// Parsing has three steps, each linear in the body's size:
/// 1. `StrictJSON.checkObject`: one JSON object, no member named twice
///    (also not through escapes), nesting and list sizes capped;
/// 2. `Document`: the known members decoded with their JSON types checked
///    (RFC 7591 §2: "The authorization server MUST ignore any client metadata
///    sent by the client that it does not understand", so unknown members
///    are skipped; a known member of the wrong JSON type is an error);
/// 3. one small validation function per member, with its rule cited.
///
/// To add a member: a case in `Document.CodingKeys`, a `Member` property in
/// `Document`, a stored property here, and its check in `parse`.
public struct ClientMetadata: Sendable, Equatable {
    public var redirectURIs: [String]
    public var clientName: String?
    public var clientURI: String?
    public var grantTypes: [String]
    public var responseTypes: [String]
    public var tokenEndpointAuthMethod: RegisteredClient.AuthMethod
    public var scope: String?
    /// OIDC Registration §2 `application_type` (MCP 2026-07-28, SEP-837);
    /// nil when the client sent none (see `ApplicationType`).
    public var applicationType: ApplicationType?

    public init(
        redirectURIs: [String], clientName: String? = nil, clientURI: String? = nil,
        grantTypes: [String] = [GrantType.authorizationCode.rawValue], responseTypes: [String] = ["code"],
        tokenEndpointAuthMethod: RegisteredClient.AuthMethod = .clientSecretBasic, scope: String? = nil,
        applicationType: ApplicationType? = nil
    ) {
        self.redirectURIs = redirectURIs
        self.clientName = clientName
        self.clientURI = clientURI
        self.grantTypes = grantTypes
        self.responseTypes = responseTypes
        self.tokenEndpointAuthMethod = tokenEndpointAuthMethod
        self.scope = scope
        self.applicationType = applicationType
    }

    /// The most redirect URIs, grant types or response types one client may list.
    public static let maxListLength = 10

    /// Parses and validates a registration request body (RFC 7591 §3.1).
    ///
    /// - Parameter assertionGrant: the shim accepts ID-JAGs (`ema`): a
    ///   confidential client may list the RFC 7523 jwt-bearer grant.
    public static func parse(
        json body: Data, policy: RedirectPolicy, scopes: ResourcePolicy,
        assertionGrant: Bool = false
    ) throws(OAuthError) -> ClientMetadata {
        let metadata = try validate(Document.decode(body), scopes: scopes, assertionGrant: assertionGrant) { uri throws(OAuthError) in
            try policy.checkRegistration(uri)
        }
        // An ID-JAG names the client it is for; a public client would let
        // whoever holds one redeem it.
        if metadata.grantTypes.contains(EMAProtocol.jwtBearerGrant), metadata.tokenEndpointAuthMethod == .none {
            throw OAuthError(
                .invalidClientMetadata,
                "the \(EMAProtocol.jwtBearerGrant) grant needs a confidential client "
                    + "(token_endpoint_auth_method client_secret_basic or client_secret_post)")
        }
        return metadata
    }

    /// The member checks shared by registration and Client ID Metadata
    /// Documents (`CIMDDocument`), which differ only in how each redirect URI
    /// is judged (a document's URIs are checked for shape; the operator's
    /// allowlist applies to the one requested at /authorize).
    static func validate(
        _ document: Document, scopes: ResourcePolicy, assertionGrant: Bool = false,
        checkRedirect: (String) throws(OAuthError) -> Void
    ) throws(OAuthError) -> ClientMetadata {
        let metadata = ClientMetadata(
            redirectURIs: try checkRedirectURIs(document.redirectURIs, check: checkRedirect),
            clientName: try checkDisplayText(document.clientName, "client_name", maxCharacters: 200),
            clientURI: try checkClientURI(document.clientURI),
            grantTypes: try checkGrantTypes(document.grantTypes, assertionGrant: assertionGrant),
            responseTypes: try checkResponseTypes(document.responseTypes),
            tokenEndpointAuthMethod: try checkAuthMethod(document.tokenEndpointAuthMethod),
            scope: try checkScope(document.scope, scopes: scopes),
            applicationType: try ApplicationType.parse(document.applicationType))
        if let type = metadata.applicationType {
            for uri in metadata.redirectURIs { try type.checkRedirect(uri) }
        }
        return metadata
    }

    /// Rule 1 for each URI; RFC 7591 §2: `redirect_uris` is an array of strings,
    /// required here because the shim supports only the authorization-code grant.
    /// Duplicates collapse, order is kept.
    static func checkRedirectURIs(
        _ member: Member<[Document.ListItem]>,
        check: (String) throws(OAuthError) -> Void
    ) throws(OAuthError) -> [String] {
        guard case .present(let items) = member, !items.isEmpty else {
            throw OAuthError(.invalidRedirectURI, "redirect_uris must be a non-empty array")
        }
        guard items.count <= maxListLength else { throw OAuthError(.invalidRedirectURI, "at most \(maxListLength) redirect_uris") }
        var uris: [String] = []
        for item in items {
            guard case .string(let uri) = item else { throw OAuthError(.invalidRedirectURI, "redirect_uris must be strings") }
            try check(uri)
            if !uris.contains(where: { $0.utf8.elementsEqual(uri.utf8) }) { uris.append(uri) }
        }
        return uris
    }

    /// Text shown to the user (the consent page, rule 4): at most
    /// `maxCharacters`, and no control characters or bidirectional overrides
    /// and isolates, which would let a name such as "Claude\u{202E}moc.elgoog"
    /// display as something else.
    static func checkDisplayText(_ member: Member<String>, _ key: String, maxCharacters: Int) throws(OAuthError) -> String? {
        switch member {
        case .absent: return nil
        case .wrongType: throw OAuthError(.invalidClientMetadata, "\(key) must be a string")
        case .present(let text):
            guard text.count <= maxCharacters,
                !text.unicodeScalars.contains(where: {
                    $0.properties.generalCategory == .control || (0x202A...0x202E).contains($0.value) || (0x2066...0x2069).contains($0.value)
                })
            else {
                throw OAuthError(.invalidClientMetadata, "\(key) is too long or contains control or bidirectional-override characters")
            }
            return text
        }
    }

    /// RFC 7591 §2 `client_uri`: a web page about the client; only http(s).
    static func checkClientURI(_ member: Member<String>) throws(OAuthError) -> String? {
        guard let uri = try checkDisplayText(member, "client_uri", maxCharacters: 2048) else { return nil }
        guard uri.utf8.starts(with: "https://".utf8) || uri.utf8.starts(with: "http://".utf8) else {
            throw OAuthError(.invalidClientMetadata, "client_uri must be an http(s) URL")
        }
        return uri
    }

    /// RFC 7591 §2 `grant_types` (default `authorization_code`): the shim
    /// serves the authorization-code grant, optionally with refresh tokens,
    /// and, where it accepts ID-JAGs, the RFC 7523 jwt-bearer grant.
    static func checkGrantTypes(_ member: Member<[String]>, assertionGrant: Bool) throws(OAuthError) -> [String] {
        let grantTypes = try stringList(member, "grant_types") ?? [GrantType.authorizationCode.rawValue]
        let allowed = [GrantType.authorizationCode, .refreshToken].map(\.rawValue) + (assertionGrant ? [EMAProtocol.jwtBearerGrant] : [])
        guard grantTypes.allSatisfy(allowed.contains), grantTypes.contains(GrantType.authorizationCode.rawValue) else {
            throw OAuthError(
                .invalidClientMetadata,
                "grant_types must be authorization_code, optionally with refresh_token"
                    + (assertionGrant ? " and \(EMAProtocol.jwtBearerGrant)" : ""))
        }
        return grantTypes
    }

    /// RFC 7591 §2 `response_types` (default `code`); OAuth 2.1 has no other.
    static func checkResponseTypes(_ member: Member<[String]>) throws(OAuthError) -> [String] {
        let responseTypes = try stringList(member, "response_types") ?? ["code"]
        guard responseTypes == ["code"] else { throw OAuthError(.invalidClientMetadata, "response_types must be [\"code\"]") }
        return responseTypes
    }

    /// RFC 7591 §2 `token_endpoint_auth_method`; "If unspecified or omitted,
    /// the default is client_secret_basic".
    static func checkAuthMethod(_ member: Member<String>) throws(OAuthError) -> RegisteredClient.AuthMethod {
        switch member {
        case .absent: return .clientSecretBasic
        case .present(let name):
            if let method = RegisteredClient.AuthMethod(rawValue: name) { return method }
        case .wrongType: break
        }
        throw OAuthError(.invalidClientMetadata, "token_endpoint_auth_method must be none, client_secret_basic or client_secret_post")
    }

    /// RFC 7591 §2 `scope`: a space-separated list (RFC 6749 §3.3) read by
    /// the one scope rule (`ResourcePolicy.registrationScope`): what /authorize
    /// accepts, short names of fully qualified scopes and base scopes included,
    /// is kept; values the server does not offer are dropped (RFC 7591 §2 lets
    /// the server replace the requested scope), and the narrowed scope is what
    /// is registered and returned (§3.2.1). When nothing offered remains the
    /// client is registered with no scope, exactly as if it had sent none
    /// (threat T29: a request naming no resource scope gets the resource's).
    /// A malformed list is still `invalid_client_metadata`.
    static func checkScope(_ member: Member<String>, scopes: ResourcePolicy) throws(OAuthError) -> String? {
        guard let scope = try checkDisplayText(member, "scope", maxCharacters: 1024) else { return nil }
        let parsed: ScopeSet
        do { parsed = try ScopeSet(parsing: scope) } catch { throw OAuthError(.invalidClientMetadata, error.description) }
        let offered = scopes.registrationScope(parsed)
        if offered.values.count == parsed.values.count { return scope }  // nothing dropped: as sent
        return offered.isEmpty ? nil : offered.text
    }

    static func stringList(_ member: Member<[String]>, _ key: String) throws(OAuthError) -> [String]? {
        switch member {
        case .absent: return nil
        case .present(let list) where list.count <= maxListLength: return list
        default: throw OAuthError(.invalidClientMetadata, "\(key) must be an array of strings")
        }
    }
}
