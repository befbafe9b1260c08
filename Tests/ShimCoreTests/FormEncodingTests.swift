import ShimCore
import Testing

@Suite("Rule 10: parameters (RFC 6749 §3.1, §3.2)")
struct FormEncodingTests {
    @Test("repeated parameters are refused", arguments: ["a=1&a=2", "code=x&code=", "a=1&b=2&a=3", "a&a"])
    func duplicates(_ text: String) {
        let error = #expect(throws: OAuthError.self) { try FormEncoding.decode(text) }
        #expect(error?.code == .invalidRequest)
    }

    @Test("malformed percent-encoding is refused", arguments: ["a=%zz", "a=%4", "a=%", "%ff%fe=x"])
    func malformed(_ text: String) {
        #expect(throws: OAuthError.self) { try FormEncoding.decode(text) }
    }

    @Test("decoding: plus is space, empty values are omitted, unknown names kept for the caller to ignore")
    func decoding() throws {
        let params = try FormEncoding.decode("redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&scope=a+b&empty=&x")
        #expect(params == ["redirect_uri": "http://127.0.0.1/cb", "scope": "a b"])
    }

    @Test("encoding round-trips reserved and non-ASCII characters")
    func roundTrip() throws {
        let value = "a b&c=d/é?#%+"
        #expect(try FormEncoding.decode(FormEncoding.encode([("k", value)])) == ["k": value])
    }
}
