import Crypto
public import Foundation

/// The X.509 certificate the shim authenticates to the IdP with
/// (`upstream.client_auth.certificate_file`): what the assertion's header
/// names (its thumbprints), when it stops working (notAfter), and its public
/// key (to check that the key file belongs to it). Read with a minimal DER
/// walk: the shim never verifies this certificate, it only describes it.
public struct ClientCertificate: Sendable, Equatable {
    /// The certificate's DER bytes.
    public var der: Data
    /// RFC 5280 §4.1.2.5: the last instant the certificate is valid.
    public var notAfter: Date
    /// RFC 5280 §4.1.2.7 `subjectPublicKeyInfo`, DER (the public key's SPKI form).
    public var subjectPublicKeyInfo: Data

    /// RFC 7515 §4.1.8: `x5t#S256` is the base64url SHA-256 of the DER
    /// certificate (the header Entra documents for PS256 assertions).
    public var sha256Thumbprint: String { Base64URL.encode(Array(SHA256.hash(data: der))) }
    /// RFC 7515 §4.1.7: `x5t` is the base64url SHA-1 of the DER certificate.
    public var sha1Thumbprint: String { Base64URL.encode(Array(Insecure.SHA1.hash(data: der))) }
    /// The SHA-1 thumbprint in hex, as Entra's portal and `az ad app credential list` show it.
    public var sha1Hex: String { Insecure.SHA1.hash(data: der).map { String(format: "%02X", $0) }.joined() }

    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case noCertificate
        case malformed(String)

        public var description: String {
            switch self {
            case .noCertificate: "holds no -----BEGIN CERTIFICATE----- block"
            case .malformed(let what): "is not a DER X.509 certificate (\(what))"
            }
        }
    }

    /// The first `CERTIFICATE` block of a PEM file (a chain's leaf comes first).
    public init(pem: String) throws(Problem) {
        guard let der = PEMBlocks.decode(pem, label: "CERTIFICATE").first else { throw .noCertificate }
        try self.init(der: der)
    }

    /// RFC 5280 §4.1: Certificate ::= SEQUENCE { tbsCertificate, ... };
    /// TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber,
    /// signature, issuer, validity, subject, subjectPublicKeyInfo, ... };
    /// Validity ::= SEQUENCE { notBefore Time, notAfter Time }.
    public init(der: Data) throws(Problem) {
        let bytes = [UInt8](der)
        var outer = DERReader(bytes[...])
        guard let certificate = outer.next(), certificate.tag == 0x30 else { throw .malformed("no certificate sequence") }
        var content = DERReader(certificate.value)
        guard let tbs = content.next(), tbs.tag == 0x30 else { throw .malformed("no TBSCertificate sequence") }
        var fields = DERReader(tbs.value)
        var field = fields.next()
        if field?.tag == 0xA0 { field = fields.next() }  // [0] EXPLICIT version
        guard field?.tag == 0x02 else { throw .malformed("no serial number") }
        guard fields.next()?.tag == 0x30, fields.next()?.tag == 0x30 else { throw .malformed("no signature algorithm or issuer") }
        guard let validity = fields.next(), validity.tag == 0x30 else { throw .malformed("no validity") }
        var times = DERReader(validity.value)
        _ = times.next()
        guard let end = times.next(), let notAfter = Self.time(end) else { throw .malformed("unreadable notAfter") }
        guard fields.next()?.tag == 0x30, let spki = fields.next(), spki.tag == 0x30 else {
            throw .malformed("no subject public key")
        }
        self.der = der
        self.notAfter = notAfter
        self.subjectPublicKeyInfo = Data(spki.whole)
    }

    /// RFC 5280 §4.1.2.5.1 UTCTime `YYMMDDHHMMSSZ` (YY < 50 is 20YY) and
    /// §4.1.2.5.2 GeneralizedTime `YYYYMMDDHHMMSSZ`.
    static func time(_ element: DERReader.Element) -> Date? {
        let text = String(decoding: element.value, as: UTF8.self)
        guard text.hasSuffix("Z"), text.dropLast().allSatisfy(\.isASCII), text.dropLast().allSatisfy(\.isNumber) else { return nil }
        let digits = Array(text.dropLast()).map { Int(String($0))! }
        func number(_ range: Range<Int>) -> Int { range.reduce(0) { $0 * 10 + digits[$1] } }
        let year: Int
        let rest: Int
        switch (element.tag, digits.count) {
        case (0x17, 12):
            let yy = number(0..<2)
            year = yy < 50 ? 2000 + yy : 1900 + yy
            rest = 2
        case (0x18, 14):
            year = number(0..<4)
            rest = 4
        default: return nil
        }
        var components = DateComponents()
        components.calendar = Calendar(identifier: .gregorian)
        components.timeZone = TimeZone(identifier: "UTC")
        components.year = year
        components.month = number(rest..<rest + 2)
        components.day = number(rest + 2..<rest + 4)
        components.hour = number(rest + 4..<rest + 6)
        components.minute = number(rest + 6..<rest + 8)
        components.second = number(rest + 8..<rest + 10)
        guard (1...12).contains(components.month!), (1...31).contains(components.day!), components.hour! < 24, components.minute! < 60,
            components.second! < 61
        else { return nil }
        return components.date
    }
}

/// Reads DER TLV elements one after another (X.690 §8.1), definite lengths only.
struct DERReader {
    struct Element {
        var tag: UInt8
        var value: ArraySlice<UInt8>
        /// Tag, length and value: the element as encoded.
        var whole: ArraySlice<UInt8>
    }

    var rest: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { rest = bytes }

    /// The next element, or nil at the end or on a malformed encoding.
    mutating func next() -> Element? {
        let start = rest.startIndex
        guard rest.count >= 2 else { return nil }
        let tag = rest[start]
        guard tag & 0x1F != 0x1F else { return nil }  // high tag numbers: not in a certificate's outline
        var index = start + 1
        let first = rest[index]
        index += 1
        var length = 0
        if first < 0x80 {
            length = Int(first)
        } else {
            let count = Int(first & 0x7F)
            guard (1...4).contains(count), rest.endIndex - index >= count else { return nil }
            for _ in 0..<count {
                length = length << 8 | Int(rest[index])
                index += 1
            }
        }
        guard rest.endIndex - index >= length else { return nil }
        let element = Element(tag: tag, value: rest[index..<index + length], whole: rest[start..<index + length])
        rest = rest[(index + length)...]
        return element
    }
}

extension PEMBlocks {
    /// RFC 7468 textual encoding: the DER bytes (base64 body) of each
    /// `-----BEGIN <label>-----` … `-----END <label>-----` block.
    public static func decode(_ text: String, label: String) -> [Data] {
        let begin = "-----BEGIN \(label)-----"
        let end = "-----END \(label)-----"
        var blocks: [Data] = []
        var body: String?
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingWhitespace()
            if line == begin {
                body = ""
            } else if line == end, let collected = body {
                if let data = Data(base64Encoded: collected) { blocks.append(data) }
                body = nil
            } else if body != nil {
                body! += line
            }
        }
        return blocks
    }

    /// The labels of the text's blocks, in order (`CERTIFICATE`, `PRIVATE KEY`, `RSA PRIVATE KEY`, …).
    public static func labels(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).compactMap { line -> String? in
            let trimmed = line.trimmingWhitespace()
            guard trimmed.hasPrefix("-----BEGIN "), trimmed.hasSuffix("-----") else { return nil }
            return String(trimmed.dropFirst("-----BEGIN ".count).dropLast(5))
        }
    }
}
