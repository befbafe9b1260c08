/// The bearer token of a request and the `WWW-Authenticate` challenge of a
/// refusal (RFC 6750 §2.1 and §3, RFC 9728 §5.1, MCP authorization
/// "Scope Challenge Handling").
public enum BearerChallenge {
    /// What the Authorization header held.
    public enum Credential: Sendable, Equatable {
        /// No Authorization header, or another scheme: RFC 6750 §3.1 "If the
        /// request lacks any authentication information ... the resource
        /// server SHOULD NOT include an error code".
        case absent
        case token(String)
        /// The Bearer scheme with a value that is not a b64token (§2.1).
        case malformed
    }

    /// RFC 6750 §2.1: `credentials = "Bearer" 1*SP b64token`, the scheme
    /// case-insensitive; b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
    public static func credential(_ header: String?) -> Credential {
        guard let header else { return .absent }
        let bytes = Array(header.utf8)
        guard bytes.count >= 7, String(decoding: bytes[0..<6], as: UTF8.self).lowercased() == "bearer", bytes[6] == 0x20 else {
            return .absent
        }
        var value = bytes[7...].drop { $0 == 0x20 }
        while value.last == 0x20 { value = value.dropLast() }
        guard !value.isEmpty else { return .malformed }
        var seenPadding = false
        for byte in value {
            if byte == UInt8(ascii: "=") {
                seenPadding = true
                continue
            }
            let allowed =
                (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte)
                || [UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "/")].contains(byte)
            guard allowed, !seenPadding else { return .malformed }
        }
        return .token(String(decoding: value, as: UTF8.self))
    }

    /// The `WWW-Authenticate` value. `resource_metadata` (RFC 9728 §5.1) and
    /// `scope` come from configuration, never from the request; `error` is
    /// absent for a request without a token (RFC 6750 §3.1). `offline_access`
    /// is never challenged: refresh tokens are not a resource requirement
    /// (MCP authorization "Refresh Tokens", SEP-2207).
    public static func header(resourceMetadata: String, scope: [String], error: String? = nil, description: String? = nil) -> String {
        var parts = ["resource_metadata=" + quoted(resourceMetadata)]
        let challenged = scope.filter { $0 != "offline_access" }
        if !challenged.isEmpty { parts.append("scope=" + quoted(challenged.joined(separator: " "))) }
        if let error { parts.append("error=" + quoted(error)) }
        if let description { parts.append("error_description=" + quoted(description)) }
        return "Bearer " + parts.joined(separator: ", ")
    }

    /// RFC 9110 §5.6.4 quoted-string; RFC 6750 §3 limits the values to
    /// visible ASCII, so anything else is dropped rather than escaped.
    static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars where (0x20...0x7E).contains(scalar.value) {
            if scalar == "\"" || scalar == "\\" { out += "\\" }
            out.unicodeScalars.append(scalar)
        }
        return out + "\""
    }
}
