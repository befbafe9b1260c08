import ArgumentParser
import ShimCore

/// `dcr-shim check-config`: prints every problem at once; exit 1 when there is one.
struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Validate the configuration and print every problem.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        switch ConfigLoader.load(path: options.config, flags: options.flags) {
        case .success(let config):
            // Never a secret: the storage URL's password is shown as ***.
            print("configuration OK: issuer \(config.issuer), upstream \(config.upstream.preset.rawValue), \(config.resources.count) resource(s), storage \(config.storageURL.hasPrefix("sqlite") ? "sqlite" : StorageURL.redacted(config.storageURL))\(config.storageURL.hasPrefix("postgres") ? " (sslmode \(StorageURL.sslMode(config.storageURL)?.rawValue ?? "?"))" : "")")
            for note in config.upstream.presetNotes() { print("note: \(note)") }
        case .failure(let problems):
            for problem in problems.problems { print("error: \(problem)") }
            print("\(problems.problems.count) problem(s) found")
            throw ExitCode(1)
        }
    }
}
