import Foundation
import ShimCore
import Testing

/// Rule 10 for JSON bodies: one object, no member named twice (RFC 8259 §4),
/// bounded nesting and sizes, nothing RFC 8259 does not allow.
@Suite("Rule 10: strict JSON (RFC 8259)")
struct StrictJSONTests {
    static func check(_ text: String, limits: StrictJSON.Limits = .init()) throws(StrictJSON.Problem) {
        try StrictJSON.checkObject(Array(text.utf8), limits: limits)
    }

    /// A member named twice, at every nesting level and through every escape
    /// that spells the same name, with the name the check must report.
    static let duplicates: [(String, String)] = [
        (#"{"a":1,"a":2}"#, "a"),
        (#"{"a":1,"b":2,"a":3}"#, "a"),
        (#"{"redirect_uris":["x"],"redirect_uris":["y"]}"#, "redirect_uris"),
        (#"{"redirect_uris":["x"],"redirect\u005furis":["y"]}"#, "redirect_uris"),
        (#"{"redirect_uris":["x"],"redirect\u005Furis":["y"]}"#, "redirect_uris"),
        (#"{"\u0072edirect_uris":["x"],"redirect_uris":["y"]}"#, "redirect_uris"),
        (#"{"\u0072\u0065\u0064\u0069\u0072\u0065\u0063\u0074\u005f\u0075\u0072\u0069\u0073":1,"redirect_uris":2}"#, "redirect_uris"),
        (#"{"scope":"a","sc\u006fpe":"b"}"#, "scope"),
        (#"{"a/b":1,"a\/b":2}"#, "a/b"),
        (#"{"a\"b":1,"a\u0022b":2}"#, "a\"b"),
        (#"{"a\\b":1,"a\u005cb":2}"#, "a\\b"),
        (#"{"tab\t":1,"tab\u0009":2}"#, "tab\t"),
        (#"{"\ud83d\ude80":1,"🚀":2}"#, "🚀"),
        (#"{"é":1,"\u00e9":2}"#, "é"),
        // Canonically equivalent names (precomposed and decomposed é) are one
        // key to Swift's String, so to JSONDecoder too: refused as well.
        (#"{"\u00e9":1,"e\u0301":2}"#, "é"),
        (#"{"":1,"":2}"#, ""),
        (#"{"jwks":{"keys":[],"keys":[]}}"#, "keys"),
        (#"{"contacts":[{"x":1,"x":2}]}"#, "x"),
        (#"{"a":[[[{"y":1},{"z":1,"z":2}]]]}"#, "z"),
        (#"{"a":{"b":{"c":{"d":{"e":1,"e":2}}}}}"#, "e"),
        (#"{"a":{"b":1},"a":{"b":1}}"#, "a"),
        (#" { "a" : 1 , "a" : 1 } "#, "a"),
    ]

    @Test("a member named twice is refused at every level, also when spelled with escapes", arguments: duplicates)
    func duplicateMembers(_ json: String, _ name: String) {
        #expect(throws: StrictJSON.Problem.duplicateMember(name), "\(json)") { try Self.check(json) }
    }

    @Test(
        "the same name in different objects, or names differing in case, are not duplicates",
        arguments: [
            #"{"a":1,"A":2}"#, #"{"a":{"x":1},"b":{"x":1}}"#, #"{"l":[{"x":1},{"x":2}]}"#, #"{"a":{"a":{"a":1}}}"#,
            #"{"redirect_uris":1,"redirect_uri":2,"redirect_urls":3}"#, #"{"a\u0000":1,"a":2}"#, #"{"x":"x","y":"x"}"#,
        ])
    func notDuplicates(_ json: String) throws {
        try Self.check(json)
    }

    @Test(
        "anything RFC 8259 does not allow is malformed",
        arguments: [
            "", " ", "{", "}", "{\"a\":1", "{\"a\":1}}", "{\"a\":1}x", "{\"a\" 1}", "{\"a\":}", "{,}", "{\"a\":1,}", "{\"a\":[1,]}",
            "{\"a\":[1 2]}", "{a:1}", "{'a':1}", "{\"a\":'x'}", "\u{feff}{}", "{\"a\":1}\u{feff}", "{/*c*/}", "{\"a\":1}//c",
            "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":+1}", "{\"a\":-}", "{\"a\":1e}", "{\"a\":1e+}", "{\"a\":0x10}",
            "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":tru}", "{\"a\":nul}", "{\"a\":True}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}",
            "{\"a\":\"\\u12g4\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"\\udc00\"}", "{\"\\ud800\":1}",
            "{\"a\":\"tab\there\"}", "{\"a\":\"nl\nhere\"}", "{\"a\u{0}\":1}", "{\"a\":\"unterminated}", "{\"a\":1}\u{0}",
            "{\"a\"\u{0B}:1}", "{\"a\":\"\\\"}",
        ])
    func malformed(_ json: String) {
        let error = #expect(throws: StrictJSON.Problem.self, "\(json.debugDescription)") { try Self.check(json) }
        if case .malformed = error {} else { Issue.record("\(json.debugDescription): \(String(describing: error))") }
    }

    @Test("invalid UTF-8 anywhere is malformed (RFC 8259 §8.1)")
    func invalidUTF8() {
        let name: [UInt8] = Array(#"{""#.utf8) + [0xC3, 0x28] + Array(#"":1}"#.utf8)
        #expect(throws: StrictJSON.Problem.malformed(offset: 2)) { try StrictJSON.checkObject(name) }
        let value: [UInt8] = Array(#"{"a":""#.utf8) + [0xFF] + Array(#""}"#.utf8)
        #expect(throws: StrictJSON.Problem.malformed(offset: 6)) { try StrictJSON.checkObject(value) }
        let overlong: [UInt8] = Array(#"{"a":""#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8)
        #expect(throws: StrictJSON.Problem.malformed(offset: 6)) { try StrictJSON.checkObject(overlong) }
    }

    @Test("a valid JSON value that is not an object is notAnObject", arguments: ["[]", "[{}]", "\"x\"", "1", "-0.5e3", "null", "true", " false "])
    func notAnObject(_ json: String) {
        #expect(throws: StrictJSON.Problem.notAnObject) { try Self.check(json) }
    }

    @Test(
        "valid documents pass",
        arguments: [
            "{}", " {\n\t\"a\" :\r 1 } ", #"{"a":[],"b":{},"c":"","d":null,"e":true,"f":false}"#,
            #"{"n":[-0,0,1,-1,1.5,1e10,1E-3,2.5e+7,123456789012345678901234567890]}"#,
            #"{"s":"\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude80 é 🚀"}"#, #"{"a":{"b":{"c":[1,[2,[3]]]}}}"#,
        ])
    func valid(_ json: String) throws {
        try Self.check(json)
    }

    @Test("nesting is capped at maxDepth (the outer object is level 1)")
    func depth() throws {
        func nested(_ levels: Int) -> String {
            "{\"a\":" + String(repeating: "[", count: levels - 1) + String(repeating: "]", count: levels - 1) + "}"
        }
        try Self.check(nested(16))
        #expect(throws: StrictJSON.Problem.tooDeep) { try Self.check(nested(17)) }
        #expect(throws: StrictJSON.Problem.tooDeep) { try Self.check(nested(100_000)) }
        #expect(throws: StrictJSON.Problem.tooDeep) {
            try Self.check(String(repeating: "{\"a\":", count: 50_000) + "1" + String(repeating: "}", count: 50_000))
        }
        try Self.check(nested(4), limits: .init(maxDepth: 4))
        #expect(throws: StrictJSON.Problem.tooDeep) { try Self.check(nested(5), limits: .init(maxDepth: 4)) }
    }

    @Test("objects and arrays hold at most maxItems entries")
    func items() throws {
        let list = { (n: Int) in "{\"a\":[" + Array(repeating: "1", count: n).joined(separator: ",") + "]}" }
        let object = { (n: Int) in "{" + (0..<n).map { "\"k\($0)\":1" }.joined(separator: ",") + "}" }
        try Self.check(list(256))
        try Self.check(object(256))
        #expect(throws: StrictJSON.Problem.tooManyItems) { try Self.check(list(257)) }
        #expect(throws: StrictJSON.Problem.tooManyItems) { try Self.check(object(257)) }
        #expect(throws: StrictJSON.Problem.tooManyItems) { try Self.check(list(100_000)) }
    }

    /// Differential: whatever the scan accepts, Foundation's parser reads as
    /// an object with the same member names; never the other way round for a
    /// document with a repeated name. Bytes of valid documents are mutated at
    /// random (seeded, so a failure reproduces).
    @Test("mutated documents: the scan accepts nothing Foundation reads differently")
    func differential() throws {
        let seeds = [
            #"{"redirect_uris":["http://127.0.0.1/cb"],"client_name":"a\u00e9\"b","n":[1,-2.5e3,true,null],"o":{"x":{}}}"#,
            #"{"a":"\u005f","b":[{"c":"d"}],"e":0}"#,
        ]
        var rng = SplitMix(seed: 0x5EED)
        let alphabet = Array(#"{}[]":,\u0123456789abcdefxyzE+-. "#.utf8) + [0x00, 0x0A, 0xC3, 0xFF]
        var accepted = 0
        for round in 0..<4000 {
            var bytes = Array(seeds[round % seeds.count].utf8)
            for _ in 0..<Int(rng.next() % 3 + 1) {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: bytes.remove(at: at)
                default: bytes.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
                }
            }
            guard (try? StrictJSON.checkObject(bytes)) != nil else { continue }
            accepted += 1
            let parsed = try? JSONSerialization.jsonObject(with: Data(bytes))
            #expect(parsed is [String: Any], "scan accepted what Foundation refuses: \(String(decoding: bytes, as: UTF8.self).debugDescription)")
        }
        #expect(accepted > 100)
    }
}

/// A small seeded generator (SplitMix64) so random tests reproduce.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
