import Foundation
import FuzzSupport
import ShimCore

@_cdecl("FuzzStrictJSON_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

let limits = StrictJSON.Limits()

/// The strict pre-scan of registration bodies and metadata documents.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = bytes(start, count)
    let accepted = (try? StrictJSON.checkObject(input)) != nil

    if accepted {
        // The scan is stricter than the decoder that runs after it: what it
        // accepts is one JSON object, within the limits.
        let value = try? JSONDecoder().decode(JSONValue.self, from: Data(input))
        if let value {
            guard case .object = value else { fatalError("invariant broken: an accepted document is an object") }
            check(depth(value) <= limits.maxDepth, "nesting within maxDepth")
            check(widest(value) <= limits.maxItems, "containers within maxItems")
        }
    }

    // Whatever the input is as a value, a member named twice is refused.
    var twice = Array(#"{"k":"#.utf8)
    twice += input
    twice += Array(#","k":1}"#.utf8)
    check((try? StrictJSON.checkObject(twice)) == nil, "a repeated member is refused")

    // A member name spelled with and without escapes is the same name
    // (RFC 8259 §7: names compare after their escapes are decoded).
    let name = String(decoding: input.prefix(64), as: UTF8.self)
    let plain = "{\"\(escapedMinimally(name))\":1,\"\(escapedFully(name))\":2}"
    do {
        try StrictJSON.checkObject(Array(plain.utf8))
        fatalError("invariant broken: a name escaped two ways was not seen as repeated")
    } catch .duplicateMember {
    } catch {
        fatalError("invariant broken: a name escaped two ways was refused as \(error), not as repeated")
    }
    return 0
}

func depth(_ value: JSONValue) -> Int {
    switch value {
    case .array(let items): 1 + (items.map(depth).max() ?? 0)
    case .object(let members): 1 + (members.values.map(depth).max() ?? 0)
    default: 0
    }
}

func widest(_ value: JSONValue) -> Int {
    switch value {
    case .array(let items): max(items.count, items.map(widest).max() ?? 0)
    case .object(let members): max(members.count, members.values.map(widest).max() ?? 0)
    default: 0
    }
}

/// Only what RFC 8259 §7 requires to be escaped.
func escapedMinimally(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\u{00}"..."\u{1F}": out += unicodeEscape(UInt16(scalar.value))
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// Every UTF-16 code unit as `\uXXXX` (surrogate pairs for the astral planes).
func escapedFully(_ text: String) -> String {
    text.utf16.map(unicodeEscape).joined()
}

func unicodeEscape(_ unit: UInt16) -> String {
    let hex = String(unit, radix: 16)
    return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
}
