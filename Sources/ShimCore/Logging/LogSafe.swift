/// Text from outside made safe for one log line (no log injection).
///
/// A value that reaches a log may come from a client (a parameter name, a
/// client name, a header): a CR or LF in it would start a forged log line
/// in the text format, and other control characters (ESC sequences, C1
/// controls, bidirectional overrides) can rewrite what a terminal or a log
/// viewer shows. Every one of them is written as a visible escape instead:
/// `\n`, `\r`, `\t`, `\\`, and `\u{XXXX}` for the rest.
public enum LogSafe {
    /// `text` with control, format-override and line-separator characters
    /// escaped, and a backslash doubled (so an escape cannot be forged);
    /// cut to `limit` characters (with `…`) when given.
    public static func text(_ text: String, limit: Int? = nil) -> String {
        // Fast path: printable ASCII without a backslash needs no work.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") }) {
            guard let limit, text.utf8.count > limit else { return text }
            return String(text.prefix(limit)) + "…"
        }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        var count = 0
        for scalar in text.unicodeScalars {
            if let limit, count >= limit {
                out += "…"
                break
            }
            count += 1
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            default:
                if needsEscape(scalar) {
                    out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// C0 and C1 controls and DEL; bidirectional embeddings, overrides and
    /// isolates (U+202A–U+202E, U+2066–U+2069) and marks (U+200E, U+200F,
    /// U+061C); the line and paragraph separators U+2028 and U+2029.
    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C, 0x2028, 0x2029: true
        default: false
        }
    }
}
