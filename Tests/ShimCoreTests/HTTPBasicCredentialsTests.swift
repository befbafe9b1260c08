import Foundation
import ShimCore
import Testing

/// RFC 7617 Basic credentials with RFC 6749 §2.3.1's form-encoded halves.
@Suite("HTTP Basic client credentials")
struct HTTPBasicCredentialsTests {
    static func header(_ text: String, scheme: String = "Basic") -> String {
        scheme + " " + Data(text.utf8).base64EncodedString()
    }

    @Test("id and secret are form-decoded; the scheme is matched without regard to case")
    func valid() {
        #expect(HTTPBasicCredentials(Self.header("client-1:s3cret")).map { [$0.id, $0.secret] } == ["client-1", "s3cret"])
        // RFC 6749 §2.3.1: a secret with ':' or '+' arrives form-encoded.
        #expect(HTTPBasicCredentials(Self.header("a%3Ab:x%2By%3Az")).map { [$0.id, $0.secret] } == ["a:b", "x+y:z"])
        #expect(HTTPBasicCredentials(Self.header("c:s", scheme: "basic")).map(\.id) == "c")
        #expect(HTTPBasicCredentials(Self.header("c:s", scheme: "BASIC")).map(\.secret) == "s")
    }

    @Test(
        "malformed or other schemes give nil; isBasic tells the two apart",
        arguments: [
            ("Bearer abc", false),
            ("Basic", false),
            ("Basic !!!not-base64", true),
            ("Basic " + Data("no-colon".utf8).base64EncodedString(), true),
            ("Basic " + Data([0xFF, 0xFE, 0x3A]).base64EncodedString(), true),
            ("Basic " + Data("a%zz:b".utf8).base64EncodedString(), true),
            ("Basic " + Data("client-without-secret:".utf8).base64EncodedString(), true),
        ])
    func malformed(_ header: String, basic: Bool) {
        #expect(HTTPBasicCredentials(header) == nil)
        #expect(HTTPBasicCredentials.isBasic(header) == basic)
    }
}
