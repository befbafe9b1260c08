import FuzzSupport
import ShimCore

@_cdecl("FuzzForm_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

/// Query strings and form bodies (`application/x-www-form-urlencoded`), and
/// the HTTP Basic header whose halves are form-encoded (RFC 6749 §2.3.1).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let text = String(decoding: bytes(start, count), as: UTF8.self)
    if let decoded = try? FormEncoding.decode(text) {
        check(decoded.count <= FormEncoding.maxParameters, "at most maxParameters parameters")
        check(decoded.values.allSatisfy { !$0.isEmpty }, "an empty value counts as omitted")
        // Every decoded name comes from one '&'-separated field of the input
        // (a raw '&' never ends up inside a name or value).
        let rawFields = text.utf8.split(separator: UInt8(ascii: "&")).count
        check(decoded.count <= rawFields, "one parameter per field")
        if !text.utf8.contains(UInt8(ascii: "%")) {
            check(decoded.keys.allSatisfy { !$0.utf8.contains(UInt8(ascii: "&")) }, "no raw '&' in a name")
            check(decoded.values.allSatisfy { !$0.utf8.contains(UInt8(ascii: "&")) }, "no raw '&' in a value")
        }
        // Encoding the result and decoding it again gives the same parameters.
        let pairs = decoded.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let encoded = FormEncoding.encode(pairs)
        check(
            encoded.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || "-._~%=&".utf8.contains(byte)
            }, "the encoding is unreserved characters and escapes")
        let again = try? FormEncoding.decode(encoded)
        check(again == decoded, "encode then decode is the identity")
    }
    if let credentials = HTTPBasicCredentials(text) {
        check(HTTPBasicCredentials.isBasic(text), "credentials come from a Basic header")
        _ = credentials.id.utf8.count + credentials.secret.utf8.count
    }
    switch BearerChallenge.credential(text) {
    case .token(let token):
        check(!token.isEmpty && !token.utf8.contains(0x20), "a bearer token is one non-empty b64token")
    case .absent, .malformed:
        break
    }
    if let scopes = try? ScopeSet(parsing: text) {
        check(scopes.values.count <= ScopeSet.maxValues, "at most maxValues scopes")
        check(scopes.values.allSatisfy { ScopeSet.isValidToken(Substring($0)) }, "every scope is a scope-token")
    }
    return 0
}
