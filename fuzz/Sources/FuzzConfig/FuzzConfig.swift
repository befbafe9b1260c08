import Foundation
import FuzzSupport
import ShimConfigFile
import ShimCore

@_cdecl("FuzzConfig_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

struct NoFiles: Error {}

/// The YAML configuration as `dcr-shim check-config` and `serve` read it:
/// the executable's YAML reading (ShimConfigFile), then ShimCore's
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
    guard let tree = try? YAMLConfiguration.tree(yaml: text) else { return 0 }
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
