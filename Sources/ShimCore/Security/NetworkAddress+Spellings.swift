extension NetworkAddress {
    /// The address a URL host names without DNS, however it is spelled:
    /// canonical IPv4 and IPv6 literals (brackets allowed), and the other
    /// IPv4 spellings that `inet_aton` and so every resolver accept —
    /// one to four parts, each decimal, octal (a leading `0`) or hex (`0x`),
    /// the last filling the bytes left (`1572395042`, `0x5db8d822`,
    /// `93.184.55330`, `0135.0270.0330.042`). nil for a DNS name.
    public static func named(by host: String) -> NetworkAddress? {
        if let address = NetworkAddress(host) { return address.unmapped }
        return lenientIPv4(host).flatMap { NetworkAddress(bytes: $0) }
    }

    /// An IPv4 address written as IPv6 (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2)
    /// is that IPv4 address; any other address is itself.
    public var unmapped: NetworkAddress {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else { return self }
        return embeddedIPv4(at: 12)
    }

    static func lenientIPv4(_ text: String) -> [UInt8]? {
        let parts = text.lowercased().split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var values: [UInt64] = []
        for part in parts {
            let value: UInt64?
            if part.hasPrefix("0x") {
                value = part.count > 2 && part.count <= 10 ? UInt64(part.dropFirst(2), radix: 16) : nil
            } else if part.count > 1, part.hasPrefix("0") {
                value = part.count <= 12 ? UInt64(part.dropFirst(), radix: 8) : nil
            } else {
                value = !part.isEmpty && part.count <= 10 && part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) ? UInt64(part) : nil
            }
            guard let value else { return nil }
            values.append(value)
        }
        // All parts but the last are one byte each; the last fills the rest.
        let leading = values.dropLast()
        guard leading.allSatisfy({ $0 <= 0xFF }), let last = values.last else { return nil }
        let lastBytes = 4 - leading.count
        guard last < (UInt64(1) << (8 * UInt64(lastBytes))) else { return nil }
        var out = leading.map { UInt8($0) }
        for shift in stride(from: 8 * (lastBytes - 1), through: 0, by: -8) { out.append(UInt8((last >> UInt64(shift)) & 0xFF)) }
        return out
    }
}
