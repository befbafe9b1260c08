import Crypto
public import Foundation

/// A validated Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document
/// §4, MCP 2026-07-28 "Client ID Metadata Documents").
///
/// The members are judged by the same checks as a registration
/// (`ClientMetadata`), with the document's own rules on top:
/// - `client_id` is required and equals the URL it was fetched from, byte
///   for byte (§4: "simple string comparison");
/// - no shared secret (§4.1): `client_secret`, `client_secret_expires_at`
///   and the `client_secret_*` methods are refused; `token_endpoint_auth_method`
///   must be `none` (its default here, since a document cannot hold a secret);
///   `private_key_jwt` (§6.2) is refused by name: the shim does not verify
///   client assertions;
/// - each redirect URI must pass rule 1's shape check; the operator's
///   allowlist is applied to the one requested at /authorize, so one
///   unlisted URI does not make a client's other redirects unusable.
///
/// Every problem is `invalid_client` (400): the document is the client's
/// identity, and an authorization request with an unusable one is answered
/// with an error page, never a redirect.
public struct CIMDDocument: Sendable, Equatable {
    public var clientID: CIMDClientID
    public var metadata: ClientMetadata
    /// The first 16 hex digits of the SHA-256 of the bytes fetched.
    public var documentHash: String

    public static func parse(
        _ body: Data, clientID: CIMDClientID, allowlist: RedirectAllowlist,
        scopes: ResourcePolicy
    ) throws(OAuthError) -> CIMDDocument {
        func invalid(_ why: String) -> OAuthError {
            OAuthError(.invalidClient, "the application's metadata document at \(clientID.host) is not usable: \(why)", status: 400)
        }
        let document: ClientMetadata.Document
        let own: OwnMembers
        do {
            document = try ClientMetadata.Document.decode(body)
            own = try JSONDecoder().decode(OwnMembers.self, from: body)
        } catch let error as OAuthError {
            throw invalid(error.description)
        } catch {
            throw invalid("it is not a JSON object")
        }
        guard case .present(let declared) = own.clientID else { throw invalid("it has no client_id") }
        guard declared.utf8.elementsEqual(clientID.url.utf8) else {
            throw invalid("its client_id is not the URL it was fetched from")
        }
        guard case .absent = own.clientSecret, case .absent = own.clientSecretExpiresAt else {
            throw invalid("it contains a client_secret; a metadata document cannot hold a shared secret")
        }
        var document2 = document
        switch document.tokenEndpointAuthMethod {
        case .absent:
            document2.tokenEndpointAuthMethod = .present("none")
        case .present("none"):
            break
        case .present("private_key_jwt"):
            throw invalid("it asks for private_key_jwt client authentication, which this server does not support; use none (PKCE)")
        case .present(let method) where method.hasPrefix("client_secret"):
            throw invalid("it asks for \(method), but a metadata document cannot use a shared secret; use none (PKCE)")
        case .present(let method):
            throw invalid("it asks for the unsupported token_endpoint_auth_method \(method.prefix(40)); use none (PKCE)")
        case .wrongType:
            throw invalid("token_endpoint_auth_method must be a string")
        }
        let metadata: ClientMetadata
        do {
            metadata = try ClientMetadata.validate(document2, scopes: scopes) { uri throws(OAuthError) in
                try RedirectPolicy.checkShape(uri, operatorListed: allowlist.listsExactly(uri))
            }
        } catch {
            throw invalid(error.description)
        }
        let digest = SHA256.hash(data: body).map { String($0, radix: 16).leftPadded(2) }.joined()
        return CIMDDocument(clientID: clientID, metadata: metadata, documentHash: String(digest.prefix(16)))
    }

    /// The members only a metadata document has (or must not have).
    struct OwnMembers: Decodable {
        var clientID: Member<String>
        var clientSecret: Member<String>
        var clientSecretExpiresAt: Member<Double>

        enum CodingKeys: String, CodingKey {
            case clientID = "client_id"
            case clientSecret = "client_secret"
            case clientSecretExpiresAt = "client_secret_expires_at"
        }

        init(from decoder: any Decoder) throws {
            let members = try decoder.container(keyedBy: CodingKeys.self)
            clientID = members.member(.clientID)
            clientSecret = members.member(.clientSecret)
            clientSecretExpiresAt = members.member(.clientSecretExpiresAt)
        }
    }

    /// Every redirect URI is on loopback: anyone can publish such a
    /// document naming any application, so the consent page warns (MCP
    /// "Localhost Redirect URI Risks": "SHOULD display additional warnings").
    public var redirectsAreAllLoopback: Bool {
        metadata.redirectURIs.allSatisfy { RedirectURI($0).map { $0.scheme == "http" && $0.isLoopback } ?? false }
    }

    /// The client as /authorize, /consent, /token and /revoke see it: public
    /// (`none`, PKCE), no secret, no registration row.
    public func client(firstSeen: Date) -> RegisteredClient {
        RegisteredClient(
            clientID: clientID.url, clientSecretHash: nil, clientName: metadata.clientName, clientURI: metadata.clientURI,
            redirectURIs: metadata.redirectURIs, grantTypes: metadata.grantTypes, tokenEndpointAuthMethod: .none,
            scope: metadata.scope, createdAt: firstSeen, usedAt: firstSeen)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
