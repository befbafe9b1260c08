import Foundation
public import ShimCore
import Yams

/// The configuration file's YAML as a `ConfigValue` tree (ShimCore's
/// `ConfigReader` then layers defaults < file < environment < flags). Used
/// by the executable and by the fuzz target, so what is fuzzed is what runs.
public enum YAMLConfiguration {
    /// The tree, or every problem: a text that is not YAML (said without
    /// quoting the file), a key that is not a string, a key given twice.
    public static func tree(yaml text: String) throws(ConfigurationProblems) -> ConfigValue {
        do {
            return try parse(yaml: text)
        } catch let problems as ConfigurationProblems {
            throw problems
        } catch let error as YamlError {
            throw ConfigurationProblems(problems: ["not valid YAML: \(describe(error))"])
        } catch {
            throw ConfigurationProblems(problems: ["not valid YAML"])
        }
    }

    /// A YAML error without the library's quote of the offending line: that
    /// line may hold a secret (`client_secret: ...`), and the text goes to
    /// stderr and, on a reload, to the log. Line and column say where to look.
    static func describe(_ error: YamlError) -> String {
        switch error {
        case .reader(let problem, let offset, _, _):
            return problem + (offset.map { " (at byte \($0))" } ?? "")
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return "line \(mark.line), column \(mark.column): \(problem)" + (context.map { " (\($0.text), line \($0.mark.line))" } ?? "")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return duplicates.map { "\($0): given twice" }.joined(separator: "; ") + " (line \(context.mark.line))"
        default:
            return "the file cannot be read as YAML"
        }
    }

    /// The YAML text as a tree. Yams traps on a mapping key that is not a
    /// scalar (`? [a, b]`, `{[a]: 1}`, or just `? ?`) and silently keeps the
    /// last of a repeated key, so the composed document is checked for both
    /// first and each is reported as a problem (as `check-config` reports
    /// every mistake), never a crash or a silently dropped value.
    static func parse(yaml text: String) throws -> ConfigValue {
        let node = try Yams.compose(yaml: text)
        var problems: [String] = []
        if let node { checkKeys(node, path: "", problems: &problems) }
        guard problems.isEmpty else { throw ConfigurationProblems(problems: problems) }
        return try convert(node?.any)
    }

    static func checkKeys(_ node: Node, path: String, problems: inout [String]) {
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

    static func convert(_ value: Any?) throws -> ConfigValue {
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
}
