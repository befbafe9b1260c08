import ArgumentParser
import Foundation
import ShimCore
import Yams

/// Turns the YAML file into a `ConfigValue` tree and applies the layering
/// of ShimCore's `ConfigReader` (defaults < file < environment < flags).
enum ConfigLoader {
    static func load(path: String, flags: [String: String]) -> Result<ShimConfiguration, ConfigurationProblems> {
        let tree: ConfigValue
        do {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            tree = try parse(yaml: text)
        } catch let error as ConfigurationProblems {
            return .failure(error)
        } catch let error as YamlError {
            return .failure(ConfigurationProblems(problems: ["\(path): not valid YAML: \(describe(error))"]))
        } catch {
            // A missing file is allowed when everything comes from the environment.
            if FileManager.default.fileExists(atPath: path) {
                return .failure(ConfigurationProblems(problems: ["\(path): cannot be read: \(error.localizedDescription)"]))
            }
            tree = .map([:])
        }
        // AZURE_FEDERATED_TOKEN_FILE: AKS workload identity's token file, the default of upstream.client_auth.token_file.
        let environment = ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("DCR_SHIM_") || $0.key == "AZURE_FEDERATED_TOKEN_FILE" }
        return ShimConfiguration.load(file: tree, environment: environment, flags: flags) { file in
            try String(contentsOfFile: file, encoding: .utf8)
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

    /// The configuration, or every problem on stderr and exit status 1.
    static func loadOrExit(_ options: ConfigOptions) throws -> ShimConfiguration {
        switch load(path: options.config, flags: options.flags) {
        case .success(let config):
            return config
        case .failure(let problems):
            for problem in problems.problems { FileHandle.standardError.write(Data("error: \(problem)\n".utf8)) }
            throw ExitCode(1)
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
