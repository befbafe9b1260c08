import Foundation
import Logging
import NIOConcurrencyHelpers
import ShimCore
import ShimTesting
import ShimUpstream

/// The test-only resolver hook (rule 11 tests): names in `table`
/// resolve to the given addresses, each answer in turn (the last repeats),
/// so a test can play a DNS server that changes its answer between lookups;
/// every other name goes to the real system resolver (`localhost` resolves
/// as it does for the shim in production). Every lookup is counted.
final class ScriptedResolver: HostResolver {
    private let table: NIOLockedValueBox<[String: [[NetworkAddress]]]>
    private let calls = NIOLockedValueBox<[String: Int]>([:])

    init(_ table: [String: [[String]]]) {
        self.table = NIOLockedValueBox(table.mapValues { answers in answers.map { $0.map { NetworkAddress($0)! } } })
    }

    func lookups(_ host: String) -> Int { calls.withLockedValue { $0[host, default: 0] } }

    func resolve(host: String) async throws -> [NetworkAddress] {
        let n = calls.withLockedValue { calls in
            calls[host, default: 0] += 1
            return calls[host]!
        }
        if let answers = table.withLockedValue({ $0[host] }) { return answers[min(n - 1, answers.count - 1)] }
        return try await SystemResolver().resolve(host: host)
    }
}

enum FetcherFixture {
    /// The CIMD limits (5 KB), the test CA trusted, and the operator
    /// relaxation for exactly the names in `trusted`. The deadline is 15 s,
    /// generous for a loaded machine: a test that asserts WHY a fetch failed
    /// (a refused certificate, a redirect, a status) must not get a timeout
    /// instead because a TLS handshake was slow; a test about the deadline
    /// itself passes its own short one.
    static func fetcher(
        resolver: ScriptedResolver, clock: TestClock = TestClock(), trusted: Set<String> = [],
        timeout: Duration = .seconds(15), perHost: Int = 2, capacity: Int = 1024,
        extraCA: String? = TestCertificates.caPEM
    ) throws -> GuardedFetcher {
        var logger = Logger(label: "fetcher-test")
        logger.logLevel = .warning
        return try GuardedFetcher(
            purpose: "test", limits: .init(maxBytes: 5 * 1024, timeout: timeout, maxConcurrentPerHost: perHost, cacheCapacity: capacity),
            resolver: resolver, clock: clock, logger: logger, extraTrustRootsPEM: extraCA, trustsPrivateAddresses: { trusted.contains($0) })
    }

    static func json(_ text: String = #"{"ok":true}"#, headers: [(String, String)] = []) -> RecordingTLSServer.Answer {
        .respond(status: 200, headers: [("Content-Type", "application/json")] + headers, body: Array(text.utf8))
    }
}
