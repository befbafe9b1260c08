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
            tree = try convert(Yams.load(yaml: text))
        } catch let error as ConfigurationProblems {
            return .failure(error)
        } catch let error as YamlError {
            return .failure(ConfigurationProblems(problems: ["\(path): not valid YAML: \(error)"]))
        } catch {
            // A missing file is allowed when everything comes from the environment.
            if FileManager.default.fileExists(atPath: path) {
                return .failure(ConfigurationProblems(problems: ["\(path): cannot be read: \(error.localizedDescription)"]))
            }
            tree = .map([:])
        }
        let environment = ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("DCR_SHIM_") }
        return ShimConfiguration.load(file: tree, environment: environment, flags: flags) { file in
            try String(contentsOfFile: file, encoding: .utf8)
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
