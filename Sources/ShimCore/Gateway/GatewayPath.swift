/// Which request paths the gateway forwards below a resource's path.
///
/// The MCP server behind the gateway may resolve a path differently from
/// the gateway: servlet containers (Tomcat, Jetty) cut a segment's
/// `;parameters` before resolving dot-segments (`/mcp/..;/admin` is
/// `/admin` to them), and a framework that percent-decodes twice turns
/// `%252e%252e` into `..`. So anything that could make a path leave the
/// resource on *some* server is refused rather than interpreted.
///
/// The checks run on the path's UTF-8 bytes: Swift's `String` compares and
/// splits by grapheme cluster, so a combining mark after a `/` hides that
/// slash from `split(separator: "/")` while the MCP server still sees it.
public enum GatewayPath {
    /// The part of `requestPath` below `resourcePath`, or nil when it must
    /// not be forwarded:
    ///
    /// * a dot-segment (RFC 3986 §5.2.4 "Remove Dot Segments"), also
    ///   percent-encoded (`%2e`), or an empty segment: the MCP server could
    ///   resolve the path to somewhere outside the resource (`/mcp/../admin`),
    ///   past the gateway's authorization for this resource only;
    /// * a backslash or an encoded slash or backslash (`%5c`, `%2f`): some
    ///   servers read them as separators;
    /// * `;` or `%3b`: path parameters, cut by servlet containers before
    ///   dot-segment removal (`/mcp/..;jsessionid=1/admin` is `/admin` there);
    /// * `%25`: an encoded percent, which a second decoding turns into any
    ///   of the above.
    public static func suffix(_ requestPath: String, below resourcePath: String) -> String? {
        let path = Array(requestPath.utf8)
        let base = Array(resourcePath.utf8)
        guard path.starts(with: base) else { return nil }
        let rest = path[base.count...]
        if rest.isEmpty { return "" }
        guard rest.first == slash else { return nil }
        let lowered = rest.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 }
        guard !lowered.contains(UInt8(ascii: "\\")), !lowered.contains(UInt8(ascii: ";")) else { return nil }
        for encoded in refusedEscapes where contains(lowered, encoded) { return nil }
        let segments = Array(lowered.split(separator: slash, omittingEmptySubsequences: false).dropFirst())
        for (index, segment) in segments.enumerated() {
            if isDotSegment(segment) { return nil }
            if segment.isEmpty && index != segments.count - 1 { return nil }  // only a trailing slash may be empty
        }
        return String(decoding: rest, as: UTF8.self)
    }

    static let slash = UInt8(ascii: "/")

    /// Lower-case escapes refused anywhere below the resource: `\`, `/`, `;`, `%`.
    static let refusedEscapes: [[UInt8]] = ["%5c", "%2f", "%3b", "%25"].map { Array($0.utf8) }

    /// `.` or `..`, each dot possibly written `%2e` (the segment is lower-cased).
    static func isDotSegment(_ segment: ArraySlice<UInt8>) -> Bool {
        var dots = 0
        var index = segment.startIndex
        while index < segment.endIndex {
            if segment[index] == UInt8(ascii: ".") {
                index += 1
            } else if segment[index...].starts(with: "%2e".utf8) {
                index += 3
            } else {
                return false
            }
            dots += 1
        }
        return dots == 1 || dots == 2
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return true
        }
        return false
    }
}
