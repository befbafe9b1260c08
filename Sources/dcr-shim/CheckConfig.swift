import ArgumentParser
import Logging
import ShimCore
import ShimUpstream

/// `dcr-shim check-config`: prints every problem at once; exit 1 when there is one.
struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Validate the configuration and print every problem.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        switch ConfigLoader.load(path: options.config, flags: options.flags) {
        case .success(let config):
            // What only building the fetcher can tell: whether cimd.insecure_ca holds certificates.
            if config.cimd.enabled, config.cimd.insecureCAPEM != nil {
                do { _ = try GuardedFetcher.documents(config.cimd, logger: Logger(label: "check-config")) } catch {
                    print("error: \(error)")
                    print("1 problem(s) found")
                    throw ExitCode(1)
                }
            }
            // What only loading the key and certificate can tell: that they belong
            // together, and when the certificate ends (a warning under 30 days).
            let credentials = UpstreamClientCredentials.inspect(config.upstream, now: SystemClock().now())
            if !credentials.problems.isEmpty {
                for problem in credentials.problems { print("error: \(problem)") }
                print("\(credentials.problems.count) problem(s) found")
                throw ExitCode(1)
            }
            for warning in credentials.warnings { print("warning: \(warning)") }
            for warning in config.cimd.relaxationWarnings where config.cimd.enabled { print("warning: \(warning)") }
            // Never a secret: the storage URL's password is shown as ***.
            print(
                "configuration OK: issuer \(config.issuer), upstream \(config.upstream.preset.rawValue), \(config.resources.count) resource(s), storage \(config.storage.description)"
            )
            for note in config.upstream.presetNotes() { print("note: \(note)") }
        case .failure(let problems):
            for problem in problems.problems { print("error: \(problem)") }
            print("\(problems.problems.count) problem(s) found")
            throw ExitCode(1)
        }
    }
}
