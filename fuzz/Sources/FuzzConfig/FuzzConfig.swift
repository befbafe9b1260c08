import Foundation
import FuzzSupport
import ShimCore
import Yams

@_cdecl("FuzzConfig_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

struct NoFiles: Error {}

/// The YAML configuration as `dcr-shim check-config` and `serve` read it:
/// Yams, the executable's tree conversion (copied below), then ShimCore's
/// layered reader and validation. The operator writes this file, so the
/// bar is "every mistake is a reported problem, never a crash".
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = bytes(start, count)
    // YAML aliases to anchors can expand exponentially (a "billion laughs"
    // document); the file is the operator's, not an attacker's, so a
    // document with both is left out.
    let aliases = input.contains(UInt8(ascii: "&")) && input.contains(UInt8(ascii: "*"))
    guard !aliases, let text = String(validating: input, as: UTF8.self) else { return -1 }
    guard let tree = try? parse(yaml: text) else { return 0 }
    let first = ShimConfiguration.load(file: tree, readFile: { _ in throw NoFiles() })
    switch first {
    case .success(let config):
        check(!config.issuer.isEmpty, "a valid configuration names its issuer")
    case .failure(let problems):
        check(!problems.problems.isEmpty, "a refused configuration says why")
    }
    // The same tree reads the same way (no hidden state between loads).
    let second = ShimConfiguration.load(file: tree, readFile: { _ in throw NoFiles() })
    switch (first, second) {
    case (.failure(let a), .failure(let b)): check(a == b, "the same problems each time")
    case (.success, .success): break
    default: check(false, "the same verdict each time")
    }
    return 0
}

/// A copy of the executable's `ConfigLoader.parse(yaml:)`, `checkKeys` and
/// `convert` (Sources/dcr-shim/ConfigLoader.swift), which are not in a
/// library target; keep the two alike.
/// The YAML text as a tree. Yams traps on a mapping key that is not a
/// scalar (`? [a, b]`, `{[a]: 1}`, or just `? ?`) and silently keeps the
/// last of a repeated key, so the composed document is checked for both
/// first and each is reported as a problem (as `check-config` reports
/// every mistake), never a crash or a silently dropped value.
func parse(yaml text: String) throws -> ConfigValue {
    let node = try Yams.compose(yaml: text)
    var problems: [String] = []
    if let node { checkKeys(node, path: "", problems: &problems) }
    guard problems.isEmpty else { throw ConfigurationProblems(problems: problems) }
    return try convert(node?.any)
}

func checkKeys(_ node: Node, path: String, problems: inout [String]) {
    switch node {
    case .mapping(let mapping):
        var seen: Set<String> = []
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                let kind =
                    switch key {
                    case .mapping: "map"
                    case .sequence: "list"
                    default: "reference"
                    }
                problems.append("\(path.isEmpty ? "the top level" : path): configuration keys must be strings (found a \(kind))")
                continue
            }
            let name = path.isEmpty ? scalar.string : "\(path).\(scalar.string)"
            // "<<" (a merge key) may repeat; Yams merges each.
            if scalar.string != "<<", !seen.insert(scalar.string).inserted {
                problems.append("\(name): given twice")
            }
            checkKeys(value, path: name, problems: &problems)
        }
    case .sequence(let items):
        for (i, item) in items.enumerated() { checkKeys(item, path: "\(path)[\(i)]", problems: &problems) }
    case .scalar, .alias:
        return
    }
}

func convert(_ value: Any?) throws -> ConfigValue {
    switch value {
    case nil, is NSNull:
        return .null
    case let map as [String: Any]:
        return .map(try map.mapValues(convert))
    case let map as [AnyHashable: Any]:
        var out: [String: ConfigValue] = [:]
        for (key, item) in map {
            guard let name = key.base as? String else {
                throw ConfigurationProblems(problems: ["configuration keys must be strings (found \(key))"])
            }
            out[name] = try convert(item)
        }
        return .map(out)
    case let list as [Any]:
        return .list(try list.map(convert))
    case let bool as Bool:
        return .string(bool ? "true" : "false")
    default:
        return .string("\(value!)")
    }
}
