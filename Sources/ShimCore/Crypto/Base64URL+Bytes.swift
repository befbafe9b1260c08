public import Foundation

extension Base64URL {
    /// Decodes base64url without padding (RFC 4648 §5) from UTF-8 bytes,
    /// byte by byte: the hot path of every token check (so no Character or
    /// NSString work there). nil for any byte outside the
    /// alphabet, for `=` padding, and for a length that cannot be base64.
    public static func decode(bytes: some Collection<UInt8>) -> Data? {
        guard bytes.count % 4 != 1 else { return nil }
        var out = Data(capacity: bytes.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in bytes {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            default: return nil
            }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // RFC 4648 §3.5: the unused bits of the last character must be zero
        // (a canonical encoding), so one token has one spelling.
        guard accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }
}
