import Foundation
import FuzzSupport
import ShimCore

@_cdecl("FuzzJWS_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

/// Compact JWS (access tokens, ID tokens, ID-JAG assertions) and their
/// claims, before any signature check: all of it is attacker-controlled.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = bytes(start, count)
    let text = String(decoding: input, as: UTF8.self)

    if let jws = try? CompactJWS.parse(text) {
        let parts = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        check(parts.count == 3, "three parts")
        check(jws.signingInput.count == parts[0].count + 1 + parts[1].count, "the signing input is header.payload")
        check(jws.signingInput.elementsEqual(text.utf8.prefix(jws.signingInput.count)), "the signing input is a prefix of the token")
        check(Base64URL.decode(bytes: parts[0]) == jws.headerJSON, "the header bytes are the first part")
        check(text.utf8.count <= CompactJWS.maximumLength, "within maximumLength")
        // The claims every verifier decodes from the payload.
        _ = try? JSONDecoder().decode(AccessTokenClaims.self, from: jws.payload)
        _ = try? JSONDecoder().decode(IDJAGClaims.self, from: jws.payload)
        _ = jws.header.hasType("at+jwt")
    }
    _ = IDTokenClaims(jwt: text)

    // base64url: decoding what was encoded gives the bytes back; a decoded
    // text encodes to the same text when it is canonical.
    let encoded = Base64URL.encode(input)
    check(Base64URL.decode(encoded) == Data(input), "base64url round trip")
    if let decoded = Base64URL.decode(text) {
        check(Base64URL.decode(Base64URL.encode(decoded)) == decoded, "decoded bytes round trip")
    }
    // The payload as claims, directly (a token's second part is any JSON).
    _ = try? JSONDecoder().decode(AccessTokenClaims.self, from: Data(input))
    _ = try? JSONDecoder().decode(IDJAGClaims.self, from: Data(input))
    return 0
}
