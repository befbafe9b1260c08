import ArgumentParser
import Foundation
import ShimConfigFile
import ShimCore

/// Turns the YAML file into a `ConfigValue` tree and applies the layering
/// of ShimCore's `ConfigReader` (defaults < file < environment < flags).
enum ConfigLoader {
    /// - Parameter readFile: reads a `*_file` key's file (`dcr-shim init` checks a file whose secret is yet to come).
    static func load(
        path: String, flags: [String: String],
        readFile: @escaping (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) }
    ) -> Result<ShimConfiguration, ConfigurationProblems> {
        let tree: ConfigValue
        do {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            do { tree = try YAMLConfiguration.tree(yaml: text) } catch {
                return .failure(ConfigurationProblems(problems: error.problems.map { "\(path): \($0)" }))
            }
        } catch {
            // A missing file is allowed when everything comes from the environment.
            if FileManager.default.fileExists(atPath: path) {
                return .failure(ConfigurationProblems(problems: ["\(path): cannot be read: \(error.localizedDescription)"]))
            }
            tree = .map([:])
        }
        // AZURE_FEDERATED_TOKEN_FILE: AKS workload identity's token file, the default of upstream.client_auth.token_file.
        let environment = ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("DCR_SHIM_") || $0.key == "AZURE_FEDERATED_TOKEN_FILE" }
        let loaded = ShimConfiguration.load(file: tree, environment: environment, flags: flags, readFile: readFile)
        // With traces on, the exporter also reads OTEL_*: values it would stop the process on are refused here.
        if case .success(let config) = loaded, config.tracing.enabled {
            let problems = TracingConfiguration.environmentProblems(ProcessInfo.processInfo.environment)
            if !problems.isEmpty { return .failure(ConfigurationProblems(problems: problems)) }
        }
        return loaded
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
}
