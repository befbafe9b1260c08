public import Foundation

/// RFC 7591 §2 client metadata, validated (rule 1 and §3.2.2 errors).
///
/// Unknown metadata fields are ignored, as §2 requires ("The authorization
/// server MUST ignore any client metadata sent by the client that it does
/// not understand"). Known fields of the wrong JSON type are errors.
public struct ClientMetadata: Sendable, Equatable {
    public var redirectURIs: [String]
    public var clientName: String?
    public var clientURI: String?
    public var grantTypes: [String]
    public var responseTypes: [String]
    public var tokenEndpointAuthMethod: RegisteredClient.AuthMethod
    public var scope: String?

    /// The fields echoed back in the 201 response (§3.2.1).
    public var responseFields: [String: Any] {
        var out: [String: Any] = [
            "redirect_uris": redirectURIs,
            "grant_types": grantTypes,
            "response_types": responseTypes,
            "token_endpoint_auth_method": tokenEndpointAuthMethod.rawValue,
        ]
        if let clientName { out["client_name"] = clientName }
        if let clientURI { out["client_uri"] = clientURI }
        if let scope { out["scope"] = scope }
        return out
    }

    /// Parses and validates a registration request body.
    public static func parse(json body: Data, policy: RedirectPolicy, allowedScopes: Set<String>) throws(OAuthError) -> ClientMetadata {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: body, options: [])
        } catch {
            throw OAuthError(.invalidClientMetadata, "request body is not valid JSON")
        }
        guard let fields = object as? [String: Any] else {
            throw OAuthError(.invalidClientMetadata, "request body must be a JSON object")
        }

        guard let uris = fields["redirect_uris"] as? [Any], !uris.isEmpty else {
            throw OAuthError(.invalidRedirectURI, "redirect_uris must be a non-empty array")
        }
        guard uris.count <= 10 else { throw OAuthError(.invalidRedirectURI, "at most 10 redirect_uris") }
        var redirectURIs: [String] = []
        for value in uris {
            guard let uri = value as? String else { throw OAuthError(.invalidRedirectURI, "redirect_uris must be strings") }
            try policy.checkRegistration(uri)
            if !redirectURIs.contains(uri) { redirectURIs.append(uri) }
        }

        let clientName = try optionalString(fields, "client_name", max: 200)
        let clientURI = try optionalString(fields, "client_uri", max: 2048)
        if let clientURI, !(clientURI.hasPrefix("https://") || clientURI.hasPrefix("http://")) {
            throw OAuthError(.invalidClientMetadata, "client_uri must be an http(s) URL")
        }

        let grantTypes = try stringArray(fields, "grant_types") ?? ["authorization_code"]
        let supportedGrants: Set<String> = ["authorization_code", "refresh_token"]
        guard grantTypes.allSatisfy(supportedGrants.contains), grantTypes.contains("authorization_code") else {
            throw OAuthError(.invalidClientMetadata, "grant_types must be authorization_code, optionally with refresh_token")
        }
        let responseTypes = try stringArray(fields, "response_types") ?? ["code"]
        guard responseTypes == ["code"] else {
            throw OAuthError(.invalidClientMetadata, "response_types must be [\"code\"]")
        }

        // RFC 7591 §2: the default is client_secret_basic.
        let methodName = try optionalString(fields, "token_endpoint_auth_method", max: 64) ?? "client_secret_basic"
        guard let method = RegisteredClient.AuthMethod(rawValue: methodName) else {
            throw OAuthError(.invalidClientMetadata, "token_endpoint_auth_method must be none, client_secret_basic or client_secret_post")
        }

        let scope = try optionalString(fields, "scope", max: 1024)
        if let scope {
            let unknown = ScopeSet(scope).values.filter { !allowedScopes.contains($0) }
            guard unknown.isEmpty else {
                throw OAuthError(.invalidClientMetadata, "scope contains values this server does not offer: \(unknown.sorted().joined(separator: " "))")
            }
        }
        return ClientMetadata(
            redirectURIs: redirectURIs, clientName: clientName, clientURI: clientURI,
            grantTypes: grantTypes, responseTypes: responseTypes, tokenEndpointAuthMethod: method, scope: scope
        )
    }

    private static func optionalString(_ fields: [String: Any], _ key: String, max: Int) throws(OAuthError) -> String? {
        guard let value = fields[key], !(value is NSNull) else { return nil }
        guard let text = value as? String else { throw OAuthError(.invalidClientMetadata, "\(key) must be a string") }
        // Control characters, and bidirectional overrides and isolates, which
        // would let a name such as "Claude\u{202E}moc.elgoog" display as
        // something else on the consent page.
        guard text.count <= max, !text.unicodeScalars.contains(where: {
            $0.properties.generalCategory == .control || (0x202A...0x202E).contains($0.value) || (0x2066...0x2069).contains($0.value)
        }) else {
            throw OAuthError(.invalidClientMetadata, "\(key) is too long or contains control or bidirectional-override characters")
        }
        return text
    }

    private static func stringArray(_ fields: [String: Any], _ key: String) throws(OAuthError) -> [String]? {
        guard let value = fields[key], !(value is NSNull) else { return nil }
        guard let list = value as? [Any], let strings = list as? [String], list.count <= 10 else {
            throw OAuthError(.invalidClientMetadata, "\(key) must be an array of strings")
        }
        return strings
    }
}
