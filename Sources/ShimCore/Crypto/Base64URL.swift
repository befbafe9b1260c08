public import Foundation

/// Base64url without padding (RFC 4648 §5), the encoding of PKCE values,
/// tokens and cookie MACs.
public enum Base64URL {
    public static func encode<D: DataProtocol>(_ bytes: D) -> String {
        // Byte-level (the URL-safe alphabet directly, no padding); this runs
        // for every token, code and cookie the shim mints.
        let input = Array(bytes)
        let length = (input.count * 4 + 2) / 3
        return String(unsafeUninitializedCapacity: length) { output in
            var out = 0
            var index = 0
            while index + 3 <= input.count {
                let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
                for shift in [18, 12, 6, 0] {
                    output[out] = alphabet[Int(chunk >> UInt32(shift) & 0x3F)]
                    out += 1
                }
                index += 3
            }
            let rest = input.count - index
            if rest > 0 {
                let chunk = UInt32(input[index]) << 16 | (rest == 2 ? UInt32(input[index + 1]) << 8 : 0)
                for shift in [18, 12, 6].prefix(rest + 1) {
                    output[out] = alphabet[Int(chunk >> UInt32(shift) & 0x3F)]
                    out += 1
                }
            }
            return out
        }
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func decode(_ text: String) -> Data? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var base = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let remainder = base.count % 4
        if remainder == 1 { return nil }
        if remainder > 0 { base += String(repeating: "=", count: 4 - remainder) }
        return Data(base64Encoded: base)
    }
}
