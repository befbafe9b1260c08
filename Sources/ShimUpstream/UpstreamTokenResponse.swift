public import Foundation
public import ShimCore

/// A successful upstream token response (RFC 6749 §5.1).
public struct UpstreamTokenResponse: Sendable, Equatable {
    public var accessToken: String
    public var tokenType: String
    public var expiresIn: Int?
    public var refreshToken: String?
    public var scope: String?
    public var idToken: String?

    public init(accessToken: String, tokenType: String, expiresIn: Int?, refreshToken: String?, scope: String?, idToken: String?) {
        self.accessToken = accessToken
        self.tokenType = tokenType
        self.expiresIn = expiresIn
        self.refreshToken = refreshToken
        self.scope = scope
        self.idToken = idToken
    }

    /// The members of §5.1 and §5.2 as they arrive: JSON (every IdP asked
    /// with `Accept: application/json`) or form-encoded (GitHub's default).
    /// `expires_in` is a number, or a numeric string from some IdPs.
    struct Body: Decodable {
        var access_token: String?
        var token_type: String?
        var expires_in: Lenient?
        var refresh_token: String?
        var scope: String?
        var id_token: String?
        var error: String?
        var error_description: String?
        var error_codes: [Int]?

        /// A number or a numeric string; anything else reads as absent.
        struct Lenient: Decodable {
            var value: Double?
            init(value: Double?) { self.value = value }
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let number = try? container.decode(Double.self) {
                    value = number
                } else if let text = try? container.decode(String.self) {
                    value = Double(text.trimmingCharacters(in: .whitespaces))
                }
            }
        }

        static func decode(_ body: Data, formEncoded: Bool) -> Body? {
            if formEncoded {
                guard let pairs = try? FormEncoding.decode(String(decoding: body, as: UTF8.self)) else { return nil }
                return Body(
                    access_token: pairs["access_token"], token_type: pairs["token_type"],
                    expires_in: pairs["expires_in"].flatMap(Double.init).map { Lenient(value: $0) },
                    refresh_token: pairs["refresh_token"], scope: pairs["scope"], id_token: pairs["id_token"],
                    error: pairs["error"], error_description: pairs["error_description"], error_codes: nil)
            }
            return try? JSONDecoder().decode(Body.self, from: body)
        }
    }

    /// Parses §5.1; a response without `access_token` or a bearer `token_type`
    /// is invalid. `expires_in` comes from outside and is clamped (`Clamp.tokenLifetime`).
    public static func parse(_ body: Data, formEncoded: Bool = false) throws(OAuthError) -> UpstreamTokenResponse {
        guard let fields = Body.decode(body, formEncoded: formEncoded) else {
            throw OAuthError(
                .serverError, "the identity provider sent an invalid token response",
                detail: "upstream token response is not a \(formEncoded ? "form" : "JSON object")", status: 502)
        }
        return try from(fields)
    }

    static func from(_ fields: Body) throws(OAuthError) -> UpstreamTokenResponse {
        guard let access = fields.access_token, !access.isEmpty else {
            throw OAuthError(
                .serverError, "the identity provider sent an invalid token response", detail: "upstream token response has no access_token",
                status: 502)
        }
        let type = fields.token_type ?? ""
        guard type.lowercased() == "bearer" else {
            throw OAuthError(
                .serverError, "the identity provider sent an invalid token response",
                detail: "upstream token_type is \(type.isEmpty ? "missing" : "not bearer")", status: 502)
        }
        // A hostile number must not trap: clamped (0...366 days), never converted unbounded.
        let expiresIn = fields.expires_in?.value.flatMap(Clamp.tokenLifetime)
        return UpstreamTokenResponse(
            accessToken: access, tokenType: "Bearer", expiresIn: expiresIn,
            refreshToken: fields.refresh_token.flatMap { $0.isEmpty ? nil : $0 },
            scope: fields.scope, idToken: fields.id_token)
    }
}
