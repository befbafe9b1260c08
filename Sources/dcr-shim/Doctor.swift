import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ShimCore
import ShimUpstream

/// `dcr-shim doctor`: checks the identity provider without a user and
/// prints each check with its fix; exit status 1 when one failed (for CI).
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the identity provider without a user: discovery, keys, client credentials, the registered redirect URI.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try ConfigLoader.loadOrExit(options)
        var logger = Logger(label: "dcr-shim-doctor")
        logger.logLevel = .critical  // the checks print what matters; the IdP's answers are in them
        let issuer = config.issuerBase
        let httpClient = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(
                redirectConfiguration: .disallow,
                timeout: .init(connect: .seconds(5), read: .seconds(Int64(config.upstream.timeoutSeconds)))))
        let doctor = UpstreamDoctor(
            config: config.upstream, resourceScopes: config.resources.first?.scopes ?? [],
            callbackURL: issuer + "/callback", httpClient: httpClient, logger: logger)
        let profile = IdPProfile.of(config.upstream.preset)
        print("dcr-shim doctor: \(profile.displayName) (preset \(config.upstream.preset.rawValue)), client \(config.upstream.clientID)")
        let checks = await doctor.run()
        try? await httpClient.shutdown()
        for check in checks {
            print("[\(check.outcome.rawValue)] \(check.name): \(check.detail)")
            if let fix = check.fix, check.outcome != .ok { print("       fix: \(fix)") }
        }
        let failed = checks.filter { $0.outcome == .failed }.count
        let warned = checks.filter { $0.outcome == .warning }.count
        print(failed == 0 ? "no check failed\(warned > 0 ? " (\(warned) could not tell)" : "")" : "\(failed) check(s) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}
