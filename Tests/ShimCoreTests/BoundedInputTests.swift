import Foundation
import ShimCore
import Testing

/// Rule 10: every list the shim parses from a request is bounded,
/// and parsing is linear (a long `scope` used to cost O(n²) comparisons).
@Suite("Bounded, linear parsing of request lists")
struct BoundedInputTests {
    // Before the fix, 100k distinct tokens took about 5·10⁹ comparisons: the
    // time limit turns that hang into a failure.
    @Test(
        "100k scope tokens: invalid_scope at once", .timeLimit(.minutes(1)),
        arguments: [
            (0..<100_000).map { "s\($0)" }.joined(separator: " "),
            String(repeating: "mcp ", count: 100_000),
            String(repeating: "a", count: 1_000_000),
        ])
    func hugeScope(_ scope: String) {
        let error = #expect(throws: OAuthError.self) { try ScopeSet(parsing: scope) }
        #expect(error?.code == .invalidScope)
        #expect(error?.description.contains("4096") == true)
    }

    @Test("scope bounds: 64 values of at most 256 bytes, 4096 bytes in all; duplicates count once")
    func scopeBounds() throws {
        let sixtyFour = (0..<64).map { "scope\($0)" }.joined(separator: " ")
        #expect(try ScopeSet(parsing: sixtyFour).values.count == 64)
        #expect(try ScopeSet(parsing: sixtyFour + " scope0 scope63").values.count == 64)
        #expect((#expect(throws: OAuthError.self) { try ScopeSet(parsing: sixtyFour + " one-more") })?.code == .invalidScope)
        let long = String(repeating: "x", count: 256)
        #expect(try ScopeSet(parsing: long).values == [long])
        #expect((#expect(throws: OAuthError.self) { try ScopeSet(parsing: long + "x") })?.code == .invalidScope)
        // Many repeats of one value stay within the byte bound and collapse.
        #expect(try ScopeSet(parsing: String(repeating: "mcp ", count: 1000)).values == ["mcp"])
        #expect(try ScopeSet(parsing: nil).isEmpty && ScopeSet(parsing: "   ").isEmpty)
        #expect(try ScopeSet(parsing: " b a  b ").values == ["b", "a"])
    }

    @Test("a scope value outside RFC 6749 §3.3 is invalid_scope", arguments: ["a\"b", "a\\b", "é", "a\u{7F}", "a\tb", "a\u{0}"])
    func badCharacters(_ scope: String) {
        #expect((#expect(throws: OAuthError.self) { try ScopeSet(parsing: scope) })?.code == .invalidScope)
    }

    @Test("the trusted initialiser is linear too: 100k distinct values")
    func trustedSplitIsLinear() {
        let values = (0..<100_000).map { "s\($0)" }
        #expect(ScopeSet(values.joined(separator: " ")).values.count == 100_000)
        #expect(ScopeSet(values: values).isSubset(of: ScopeSet(values: values.reversed())))
    }

    @Test("form and query strings: at most 64 parameters", .timeLimit(.minutes(1)))
    func parameterCount() throws {
        let sixtyFour = (0..<64).map { "p\($0)=v" }.joined(separator: "&")
        #expect(try FormEncoding.decode(sixtyFour).count == 64)
        let error = #expect(throws: OAuthError.self) { try FormEncoding.decode(sixtyFour + "&p64=v") }
        #expect(error?.code == .invalidRequest)
        let flood = (0..<200_000).map { "p\($0)=v" }.joined(separator: "&")
        #expect((#expect(throws: OAuthError.self) { try FormEncoding.decode(flood) })?.description == "more than 64 parameters")
    }

    @Test("percent-decoding is byte-level: mixed-case hex, UTF-8 checked")
    func percentDecoding() throws {
        #expect(try FormEncoding.decode("a=%2f%2F%41%e2%82%ac") == ["a": "//A€"])
        for bad in ["a=%e2%82", "a=%g1", "a=%1", "a=%"] {
            #expect((#expect(throws: OAuthError.self) { try FormEncoding.decode(bad) })?.code == .invalidRequest)
        }
    }
}
