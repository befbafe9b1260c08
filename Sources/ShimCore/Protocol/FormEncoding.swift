/// `application/x-www-form-urlencoded` (WHATWG URL §5), used for query
/// strings, form bodies and the upstream requests.
public enum FormEncoding {
    /// Encodes pairs in order.
    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded()
            }
        }
        return out
    }

    /// The most parameters one query string or form body may carry; OAuth
    /// requests use about ten (rule 10: bounded work per request).
    public static let maxParameters = 64

    /// Decodes a query or form body. Rule 10 and RFC 6749 §3.1/§3.2: "Request
    /// and response parameters MUST NOT be included more than once", so a
    /// repeated name is an `invalid_request`; so is malformed percent-encoding,
    /// and more than `maxParameters` parameters. Parameters sent without a
    /// value are treated as omitted (§3.1). Linear in the text's length.
    public static func decode(_ text: String) throws(OAuthError) -> [String: String] {
        var result: [String: String] = [:]
        var seen: Set<String> = []
        var count = 0
        for pair in text.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            count += 1
            guard count <= maxParameters else { throw .invalidRequest("more than \(maxParameters) parameters") }
            let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
            let rawValue = equals == pair.endIndex ? pair[equals...] : pair[pair.index(after: equals)...]
            guard let name = unescape(pair[..<equals]), let value = unescape(rawValue) else {
                throw .invalidRequest("malformed percent-encoding in parameters")
            }
            guard seen.insert(name).inserted else {
                throw .invalidRequest("parameter \(LogSafe.text(name, limit: 40)) is repeated")
            }
            if !value.isEmpty { result[name] = value }
        }
        return result
    }

    static func unescape(_ text: Substring) -> String? {
        unescape(text.utf8)
    }

    /// `+` is a space; `%XX` is the byte XX; the result must be UTF-8.
    static func unescape(_ text: Substring.UTF8View) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var iterator = text.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let hi = iterator.next().flatMap(hexValue), let lo = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(hi << 4 | lo)
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension String {
    fileprivate func leftPadded() -> String { count == 1 ? "0" + self : self }
}
