import Foundation

/// A member of a JSON object as the decoder found it. RFC 7591 gives `null`
/// no meaning of its own, so a member set to `null` counts as absent.
enum Member<Value: Sendable>: Sendable {
    case absent
    case present(Value)
    /// Present with another JSON type than the member's (RFC 7591 §3.2.2:
    /// `invalid_client_metadata`, or `invalid_redirect_uri` for redirect URIs).
    case wrongType
}

extension KeyedDecodingContainer {
    /// The member `key`, never throwing: a type mismatch is `.wrongType`.
    func member<Value: Decodable & Sendable>(_ key: Key, as type: Value.Type = Value.self) -> Member<Value> {
        guard contains(key), (try? decodeNil(forKey: key)) != true else { return .absent }
        guard let value = try? decode(Value.self, forKey: key) else { return .wrongType }
        return .present(value)
    }
}

extension ClientMetadata {
    /// The registration body's known members, with their JSON types checked
    /// and their values not yet judged. Unknown members are never decoded.
    struct Document: Decodable, Sendable {
        var redirectURIs: Member<[ListItem]>
        var clientName: Member<String>
        var clientURI: Member<String>
        var grantTypes: Member<[String]>
        var responseTypes: Member<[String]>
        var tokenEndpointAuthMethod: Member<String>
        var scope: Member<String>
        var applicationType: Member<String>

        enum CodingKeys: String, CodingKey {
            case redirectURIs = "redirect_uris"
            case clientName = "client_name"
            case clientURI = "client_uri"
            case grantTypes = "grant_types"
            case responseTypes = "response_types"
            case tokenEndpointAuthMethod = "token_endpoint_auth_method"
            case scope
            case applicationType = "application_type"
        }

        init(from decoder: any Decoder) throws {
            let members = try decoder.container(keyedBy: CodingKeys.self)
            redirectURIs = members.member(.redirectURIs)
            clientName = members.member(.clientName)
            clientURI = members.member(.clientURI)
            grantTypes = members.member(.grantTypes)
            responseTypes = members.member(.responseTypes)
            tokenEndpointAuthMethod = members.member(.tokenEndpointAuthMethod)
            scope = members.member(.scope)
            applicationType = members.member(.applicationType)
        }

        /// One element of `redirect_uris`: a string, or anything else (so the
        /// error can say "must be strings" rather than "must be an array").
        enum ListItem: Decodable, Sendable {
            case string(String)
            case other

            init(from decoder: any Decoder) throws {
                self = (try? decoder.singleValueContainer().decode(String.self)).map(ListItem.string) ?? .other
            }
        }

        private static let decoder = JSONDecoder()

        /// `StrictJSON` first (one object, no repeated member, bounded), then
        /// the typed decode. Either failing is `invalid_client_metadata`.
        static func decode(_ body: Data) throws(OAuthError) -> Document {
            do {
                try StrictJSON.checkObject(body)
            } catch {
                throw OAuthError(.invalidClientMetadata, error.registrationDescription)
            }
            do {
                return try decoder.decode(Document.self, from: body)
            } catch {
                throw OAuthError(.invalidClientMetadata, "request body is not valid JSON")
            }
        }
    }
}

extension StrictJSON.Problem {
    /// The client-safe `error_description` for a registration body.
    var registrationDescription: String {
        switch self {
        case .malformed: "request body is not valid JSON"
        case .notAnObject: "request body must be a JSON object"
        case .duplicateMember(let name):
            // Echo the name only when it is short printable ASCII (it goes into
            // a JSON answer and, through the error, into the log).
            if name.utf8.count <= 64, name.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
                "request body names the member \"\(name)\" more than once"
            } else {
                "request body names a member more than once"
            }
        case .tooDeep: "request body nests JSON too deeply"
        case .tooManyItems: "request body has an object or array with too many entries"
        }
    }
}
