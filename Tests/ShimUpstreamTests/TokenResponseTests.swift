import Foundation
import ShimCore
import ShimUpstream
import Testing

/// RFC 6749 §5.1 responses from the IdP, typed and clamped (every number
/// from outside is clamped, nothing traps).
@Suite("Upstream token response: typed parsing, clamped numbers")
struct TokenResponseTests {
    static func parse(expiresIn: String) throws(OAuthError) -> UpstreamTokenResponse {
        try UpstreamTokenResponse.parse(Data(#"{"access_token":"at","token_type":"Bearer","expires_in":\#(expiresIn)}"#.utf8))
    }

    @Test(
        "expires_in from an IdP: clamped to 0…366 days, numeric strings read, anything else absent",
        arguments: [
            ("3600", 3600), ("3600.9", 3600), ("\"3600\"", 3600), ("\" 60 \"", 60), ("0", 0), ("-5", 0), ("-1e300", 0),
            ("9223372036854775807", Clamp.maxTokenLifetime), ("18446744073709551616", Clamp.maxTokenLifetime),
            ("1e300", Clamp.maxTokenLifetime), ("\"9999999999999999999999\"", Clamp.maxTokenLifetime),
        ] as [(String, Int)])
    func clamped(_ raw: String, _ expected: Int) throws {
        #expect(try Self.parse(expiresIn: raw).expiresIn == expected, "\(raw)")
    }

    @Test("expires_in that is no number counts as absent", arguments: ["null", "true", "\"soon\"", "\"NaN\"", "\"inf\"", "[]", "{}", "\"\""])
    func absent(_ raw: String) throws {
        #expect(try Self.parse(expiresIn: raw).expiresIn == nil, "\(raw)")
    }

    @Test("a required member missing or of the wrong type is an error")
    func wrongTypes() throws {
        for body in [
            #"{"access_token":5,"token_type":"Bearer"}"#, #"{"access_token":"at","token_type":["Bearer"]}"#, #"[]"#, "x",
            #"{"token_type":"Bearer"}"#, #"{"access_token":"at"}"#,
        ] {
            let error = #expect(throws: OAuthError.self) { try UpstreamTokenResponse.parse(Data(body.utf8)) }
            #expect(error?.status == 502, "\(body)")
        }
    }

    @Test("Clamp.whole: non-finite is nil, the ends of the range hold")
    func clamp() {
        #expect(Clamp.whole(.nan, into: 0...10) == nil && Clamp.whole(.infinity, into: 0...10) == nil)
        #expect(Clamp.whole(-.greatestFiniteMagnitude, into: 0...10) == 0 && Clamp.whole(.greatestFiniteMagnitude, into: 0...10) == 10)
        #expect(Clamp.whole(Double(Int.max), into: Int.min...Int.max) == Int.max)
        #expect(Clamp.whole(4.99, into: 0...10) == 4)
    }
}
