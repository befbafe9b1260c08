import Foundation

/// Client credentials in an HTTP Basic `Authorization` header (RFC 7617):
/// RFC 6749 §2.3.1 has the client id and secret form-encoded
/// (`application/x-www-form-urlencoded`) before they are joined with `:` and
/// base64-encoded, so each half is form-decoded here. The one parser of the
/// header, for the token, revocation and introspection endpoints alike.
public struct HTTPBasicCredentials: Sendable, Equatable {
    public let id: String
    public let secret: String

    /// The credentials, or nil when the header is Basic but malformed (not
    /// base64, not UTF-8, no `:`, a half that is not form-encoded) or is not
    /// Basic at all (`isBasic` tells the two apart).
    public init?(_ header: String) {
        guard Self.isBasic(header),
            let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":"),
            let id = try? FormEncoding.decode("v=" + text[..<colon])["v"],
            let secret = try? FormEncoding.decode("v=" + text[text.index(after: colon)...])["v"]
        else { return nil }
        self.id = id
        self.secret = secret
    }

    /// The scheme is `Basic`, compared without regard to case (RFC 7617 §2).
    public static func isBasic(_ header: String) -> Bool {
        header.utf8.count >= 6 && header.prefix(6).lowercased() == "basic "
    }
}
