/// A strict, linear pre-scan of a JSON document (RFC 8259) before it is
/// decoded: the document must be one object; no object may name a member
/// twice; nesting and container sizes are capped.
///
/// Why: RFC 8259 §4 says "The names within an object SHOULD be unique" and
/// that when they are not, "the behavior of software that receives such an
/// object is unpredictable". Foundation's `JSONDecoder` silently keeps one
/// of the values, so two parsers (a WAF, a log pipeline, this shim) could
/// read the same registration differently (a parser differential, rule 10).
/// Names are compared after their escapes are decoded, so
/// `"redirect_uris"` and `"redirect\u005furis"` are the same name.
///
/// The scan is one pass over the bytes; each object keeps the set of names
/// seen so far, so the work is linear in the document's size. It also
/// rejects everything RFC 8259 does not allow (trailing commas, comments,
/// a byte-order mark, control characters in strings, lone surrogates), so
/// the decoder that runs after it never sees a document the scan did not.
public enum StrictJSON {
    /// Caps on what a document may contain. The defaults fit registration
    /// metadata and Client ID Metadata Documents with room to spare.
    public struct Limits: Sendable, Equatable {
        /// Containers nested inside each other, the outer object counting as 1.
        public var maxDepth: Int
        /// Members of one object, or elements of one array.
        public var maxItems: Int

        public init(maxDepth: Int = 16, maxItems: Int = 256) {
            self.maxDepth = maxDepth
            self.maxItems = maxItems
        }
    }

    /// Why a document was refused.
    public enum Problem: Error, Sendable, Equatable {
        /// Not JSON (RFC 8259), with the byte offset where reading stopped.
        case malformed(offset: Int)
        /// The top-level value is not an object.
        case notAnObject
        /// An object names this member twice (after decoding escapes).
        case duplicateMember(String)
        /// Nesting deeper than `Limits.maxDepth`.
        case tooDeep
        /// An object or array with more than `Limits.maxItems` entries.
        case tooManyItems
    }

    /// Checks that `bytes` is one JSON object within `limits`.
    public static func checkObject(_ bytes: some Collection<UInt8>, limits: Limits = Limits()) throws(Problem) {
        let array = Array(bytes)
        try checkUTF8(array)
        var scanner = Scanner(bytes: array, limits: limits)
        scanner.skipWhitespace()
        let isObject = scanner.peek == UInt8(ascii: "{")
        try scanner.value(depth: 1)
        scanner.skipWhitespace()
        guard scanner.atEnd else { throw .malformed(offset: scanner.offset) }
        guard isObject else { throw .notAnObject }
    }
}

extension StrictJSON {
    /// RFC 8259 §8.1: JSON text "MUST be encoded using UTF-8". Outside
    /// strings only ASCII is allowed anyway, so one pass over the whole
    /// document covers every string value.
    static func checkUTF8(_ bytes: [UInt8]) throws(Problem) {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return
            case .error: throw .malformed(offset: offset)
            }
        }
    }

    /// The cursor. Each method consumes exactly one grammar element of
    /// RFC 8259 §2–§7 or throws.
    struct Scanner {
        let bytes: [UInt8]
        let limits: Limits
        var offset = 0

        init(bytes: [UInt8], limits: Limits) {
            self.bytes = bytes
            self.limits = limits
        }

        var atEnd: Bool { offset >= bytes.count }
        var peek: UInt8? { atEnd ? nil : bytes[offset] }
        var malformed: Problem { .malformed(offset: offset) }

        /// RFC 8259 §2: ws = *( %x20 / %x09 / %x0A / %x0D ).
        mutating func skipWhitespace() {
            while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { offset += 1 }
        }

        mutating func value(depth: Int) throws(Problem) {
            guard let byte = peek else { throw malformed }
            switch byte {
            case UInt8(ascii: "{"): try object(depth: depth)
            case UInt8(ascii: "["): try array(depth: depth)
            case UInt8(ascii: "\""): _ = try string(keep: false)
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            default: try number()
            }
        }

        mutating func object(depth: Int) throws(Problem) {
            guard depth <= limits.maxDepth else { throw .tooDeep }
            offset += 1
            var names = Set<String>()
            skipWhitespace()
            if peek == UInt8(ascii: "}") {
                offset += 1
                return
            }
            while true {
                skipWhitespace()
                guard peek == UInt8(ascii: "\"") else { throw malformed }
                let name = try string(keep: true)
                guard names.insert(name).inserted else { throw .duplicateMember(name) }
                guard names.count <= limits.maxItems else { throw .tooManyItems }
                skipWhitespace()
                guard peek == UInt8(ascii: ":") else { throw malformed }
                offset += 1
                skipWhitespace()
                try value(depth: depth + 1)
                skipWhitespace()
                switch peek {
                case UInt8(ascii: ","): offset += 1
                case UInt8(ascii: "}"):
                    offset += 1
                    return
                default: throw malformed
                }
            }
        }

        mutating func array(depth: Int) throws(Problem) {
            guard depth <= limits.maxDepth else { throw .tooDeep }
            offset += 1
            var count = 0
            skipWhitespace()
            if peek == UInt8(ascii: "]") {
                offset += 1
                return
            }
            while true {
                count += 1
                guard count <= limits.maxItems else { throw .tooManyItems }
                skipWhitespace()
                try value(depth: depth + 1)
                skipWhitespace()
                switch peek {
                case UInt8(ascii: ","): offset += 1
                case UInt8(ascii: "]"):
                    offset += 1
                    return
                default: throw malformed
                }
            }
        }

        mutating func literal(_ word: StaticString) throws(Problem) {
            let length = word.utf8CodeUnitCount
            guard offset + length <= bytes.count else { throw malformed }
            let matches = word.withUTF8Buffer { expected in bytes[offset..<offset + length].elementsEqual(expected) }
            guard matches else { throw malformed }
            offset += length
        }

        /// RFC 8259 §6: -? (0 / [1-9] digit*) (. digit+)? ([eE] [+-]? digit+)?
        mutating func number() throws(Problem) {
            if peek == UInt8(ascii: "-") { offset += 1 }
            guard let first = peek, isDigit(first) else { throw malformed }
            offset += 1
            if first != UInt8(ascii: "0") { skipDigits() }
            if peek == UInt8(ascii: ".") {
                offset += 1
                guard let digit = peek, isDigit(digit) else { throw malformed }
                skipDigits()
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                offset += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { offset += 1 }
                guard let digit = peek, isDigit(digit) else { throw malformed }
                skipDigits()
            }
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        mutating func skipDigits() {
            while let byte = peek, isDigit(byte) { offset += 1 }
        }

        /// RFC 8259 §7. With `keep`, returns the decoded text (member names);
        /// otherwise only validates and returns "".
        mutating func string(keep: Bool) throws(Problem) -> String {
            offset += 1
            var decoded: [UInt8] = []
            while true {
                guard let byte = peek else { throw malformed }
                offset += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard keep else { return "" }
                    guard let text = String(validating: decoded, as: UTF8.self) else { throw .malformed(offset: offset - 1) }
                    return text
                case UInt8(ascii: "\\"):
                    let scalar = try escape()
                    if keep { decoded.append(contentsOf: String(scalar).utf8) }
                case 0x00..<0x20:
                    // "All Unicode characters may be placed within the quotation
                    // marks, except ... the control characters (U+0000 through U+001F)."
                    throw .malformed(offset: offset - 1)
                default:
                    if keep { decoded.append(byte) }
                }
            }
        }

        /// One escape after the backslash; a `\u` high surrogate must be
        /// followed by a `\u` low surrogate.
        mutating func escape() throws(Problem) -> Unicode.Scalar {
            guard let byte = peek else { throw malformed }
            offset += 1
            switch byte {
            case UInt8(ascii: "\""): return "\""
            case UInt8(ascii: "\\"): return "\\"
            case UInt8(ascii: "/"): return "/"
            case UInt8(ascii: "b"): return "\u{08}"
            case UInt8(ascii: "f"): return "\u{0C}"
            case UInt8(ascii: "n"): return "\n"
            case UInt8(ascii: "r"): return "\r"
            case UInt8(ascii: "t"): return "\t"
            case UInt8(ascii: "u"):
                let unit = try hex4()
                if (0xD800...0xDBFF).contains(unit) {
                    guard peek == UInt8(ascii: "\\"), offset + 1 < bytes.count, bytes[offset + 1] == UInt8(ascii: "u") else { throw malformed }
                    offset += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw malformed }
                    let value = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                    guard let scalar = Unicode.Scalar(value) else { throw malformed }
                    return scalar
                }
                guard let scalar = Unicode.Scalar(unit) else { throw malformed }  // a lone low surrogate
                return scalar
            default:
                throw malformed
            }
        }

        mutating func hex4() throws(Problem) -> UInt16 {
            guard offset + 4 <= bytes.count else { throw malformed }
            var value: UInt16 = 0
            for _ in 0..<4 {
                let byte = bytes[offset]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw malformed
                }
                value = value << 4 | UInt16(digit)
                offset += 1
            }
            return value
        }
    }
}
