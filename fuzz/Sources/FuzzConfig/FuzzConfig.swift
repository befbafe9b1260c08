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
    guard let yaml = try? Yams.load(yaml: text), let tree = try? convert(yaml) else { return 0 }
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

/// A copy of the executable's `ConfigLoader.convert` (Sources/dcr-shim/ConfigLoader.swift),
/// which is not in a library target; keep the two alike.
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
