import Foundation
import Logging
import NIOConcurrencyHelpers
import ShimCore
import ShimTesting
import Testing

@testable import ShimUpstream

/// A name server that never answers: lookups of `hang*` names wait, deaf to
/// cancellation as `getaddrinfo` is, until `answer()`; then they (and every
/// later lookup of such a name) fail as a lookup finally does. Other names
/// resolve from `table` at once.
final class HangingResolver: HostResolver {
    private let state = NIOLockedValueBox<(answered: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))
    private let table: [String: [NetworkAddress]]

    struct NoAnswer: Error {}

    init(_ table: [String: String]) {
        self.table = table.mapValues { [NetworkAddress($0)!] }
    }

    /// Lookups waiting for the name server now.
    var hung: Int { state.withLockedValue { $0.waiting.count } }

    func resolve(host: String) async throws -> [NetworkAddress] {
        if host.hasPrefix("hang") {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLockedValue { state -> Bool in
                    if state.answered { return true }
                    state.waiting.append(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
            throw NoAnswer()
        }
        guard let addresses = table[host] else { throw NoAnswer() }
        return addresses
    }

    /// The name server finally gives up: every waiting lookup returns.
    func answer() {
        let waiting = state.withLockedValue { state in
            state.answered = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}

/// Rule 11's fetcher against name servers that never answer: a hung lookup
/// keeps its fetch slot (and its thread) until it returns, so hung lookups
/// fill this fetcher's slots, never anything else; beyond the limits (total,
/// per host, per client address, resolver threads) a fetch is refused at
/// once; and such a refusal is never cached under the URL.
@Suite("Rule 11: hung name lookups and the fetch limits", .serialized)
struct GuardedFetcherResolverTests {
    typealias Error = GuardedFetcher.FetchError

    static func fetcher(_ resolver: any HostResolver, timeout: Duration = .seconds(15), total: Int, perClient: Int = 100) throws -> GuardedFetcher {
        var logger = Logger(label: "fetcher-test")
        logger.logLevel = .critical
        return try GuardedFetcher(
            purpose: "test",
            limits: .init(
                maxBytes: 5 * 1024, timeout: timeout, maxConcurrentPerHost: 2, maxConcurrentTotal: total,
                maxConcurrentPerClient: perClient),
            resolver: resolver, clock: TestClock(), logger: logger, extraTrustRootsPEM: TestCertificates.caPEM,
            trustsPrivateAddresses: { $0 == "docs.test" })
    }

    static func outcome(_ fetcher: GuardedFetcher, _ url: String, client: String? = nil) async -> Result<GuardedFetcher.Document, Error> {
        do { return .success(try await fetcher.fetch(url, clientAddress: client)) } catch { return .failure(error) }
    }

    /// Waits (up to 10 s) until `condition` holds.
    static func eventually(_ condition: () async -> Bool) async throws {
        let end = ContinuousClock.now + .seconds(10)
        while await !condition(), ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(20)) }
    }

    @Test("another host is fetched while lookups hang; at the cap a fetch is refused at once, and that refusal is not cached")
    func hungLookupsDoNotStarveOthers() async throws {
        let docs = try await RecordingTLSServer(host: "127.0.0.1") { _ in FetcherFixture.json() }
        let resolver = HangingResolver(["docs.test": "127.0.0.1"])
        let fetcher = try Self.fetcher(resolver, total: 6)
        // Five lookups that never answer, each on a host of its own.
        let hung = (0..<5).map { n in Task { await Self.outcome(fetcher, "https://hang\(n).test/c.json") } }
        try await Self.eventually { resolver.hung == 5 }
        #expect(await fetcher.cacheCounts.slots == 5)
        let first = try await fetcher.fetch(docs.url("/first.json", name: "docs.test"))
        #expect(!first.fromCache && docs.connections == 1, "a host with a working name server is fetched meanwhile")
        // The sixth hung lookup takes the last slot: the next fetch is refused at once.
        let sixth = Task { await Self.outcome(fetcher, "https://hang5.test/c.json") }
        try await Self.eventually { resolver.hung == 6 }
        let later = docs.url("/later.json", name: "docs.test")
        let started = ContinuousClock.now
        #expect(await Self.outcome(fetcher, later).refusal == .busy(host: "docs.test"))
        #expect(ContinuousClock.now - started < .milliseconds(1500))
        // The name server gives up; the slots come back; the refused URL was not remembered.
        resolver.answer()
        for (n, task) in (hung + [sixth]).enumerated() { #expect(await task.value.refusal == .resolution(host: "hang\(n).test")) }
        try await Self.eventually { await fetcher.cacheCounts.slots == 0 }
        let retried = try await fetcher.fetch(later)
        #expect(!retried.fromCache && docs.connections == 2)
        await docs.close()
    }

    @Test("a fetch whose deadline passes during its lookup answers then, but keeps its slot until the lookup returns")
    func slotHeldUntilLookupReturns() async throws {
        let resolver = HangingResolver(["meta.test": "169.254.169.254"])
        let fetcher = try Self.fetcher(resolver, timeout: .seconds(1), total: 2)
        let started = ContinuousClock.now
        async let a = Self.outcome(fetcher, "https://hang-a.test/c.json")
        async let b = Self.outcome(fetcher, "https://hang-b.test/c.json")
        let (first, second) = await (a, b)
        #expect(first.refusal == .timeout(seconds: 1) && second.refusal == .timeout(seconds: 1))
        #expect(ContinuousClock.now - started < .seconds(15), "the caller is answered at the deadline, not when the lookup returns")
        let counts = await fetcher.cacheCounts
        #expect(counts.slots == 2 && counts.inFlight == 0, "the hung lookups still hold their slots")
        #expect(await Self.outcome(fetcher, "https://meta.test/c.json").refusal == .busy(host: "meta.test"))
        resolver.answer()
        try await Self.eventually { await fetcher.cacheCounts.slots == 0 }
        // Not `.busy` from a cache: the URL is fetched (and judged) now.
        guard case .forbiddenAddress(_, _, .linkLocal)? = await Self.outcome(fetcher, "https://meta.test/c.json").refusal else {
            Issue.record("the busy refusal was remembered")
            return
        }
    }

    @Test("one client address gets its limit of fetches in flight; another address still fetches")
    func perClientLimit() async throws {
        let docs = try await RecordingTLSServer(host: "127.0.0.1") { _ in FetcherFixture.json() }
        let resolver = HangingResolver(["docs.test": "127.0.0.1"])
        let fetcher = try Self.fetcher(resolver, total: 8, perClient: 2)
        let attacker = "198.51.100.7"
        let other = "203.0.113.9"
        let hung = (0..<2).map { n in Task { await Self.outcome(fetcher, "https://hang\(n).test/c.json", client: attacker) } }
        try await Self.eventually { resolver.hung == 2 }
        let mine = docs.url("/a.json", name: "docs.test")
        #expect(await Self.outcome(fetcher, mine, client: attacker).refusal == .clientBusy)
        #expect(docs.connections == 0)
        let theirs = docs.url("/b.json", name: "docs.test")
        let fetched = try await fetcher.fetch(theirs, clientAddress: other)
        #expect(!fetched.fromCache && docs.connections == 1)
        // A cached document costs no slot: served even to the address at its limit.
        #expect(try await fetcher.fetch(theirs, clientAddress: attacker).fromCache)
        resolver.answer()
        for task in hung { _ = await task.value }
        try await Self.eventually { await fetcher.cacheCounts.slots == 0 }
        #expect(await fetcher.cacheCounts.clients == 0)
        // The refusal was not remembered under the URL.
        #expect(try await !fetcher.fetch(mine, clientAddress: attacker).fromCache && docs.connections == 2)
        await docs.close()
    }

    @Test("the system resolver refuses at once when its threads are all taken; another resolver is untouched; nothing is cached")
    func resolverThreadsAreBounded() async throws {
        let gate = DispatchSemaphore(value: 0)
        // Every name is the metadata address: refused before any connection.
        let lookup: @Sendable (String) throws -> [NetworkAddress] = { host in
            if host.hasPrefix("hang") { gate.wait() }
            return [NetworkAddress("169.254.169.254")!]
        }
        let documents = SystemResolver(maxConcurrentLookups: 1, lookup: lookup)
        let keys = SystemResolver(maxConcurrentLookups: 1, lookup: lookup)
        let fetcher = try Self.fetcher(documents, total: 4)
        let hung = Task { await Self.outcome(fetcher, "https://hang.test/c.json") }
        try await Self.eventually { documents.lookupsRunning == 1 }
        let started = ContinuousClock.now
        #expect(await Self.outcome(fetcher, "https://meta.test/c.json").refusal == .resolverBusy(host: "meta.test"))
        #expect(ContinuousClock.now - started < .milliseconds(1500))
        // The key fetcher's resolver has threads of its own.
        #expect(try await keys.resolve(host: "meta.test") == [NetworkAddress("169.254.169.254")!])
        gate.signal()
        _ = await hung.value
        try await Self.eventually { await fetcher.cacheCounts.slots == 0 && documents.lookupsRunning == 0 }
        guard case .forbiddenAddress(_, _, .linkLocal)? = await Self.outcome(fetcher, "https://meta.test/c.json").refusal else {
            Issue.record("the resolver-busy refusal was remembered")
            return
        }
    }
}

extension Result {
    var refusal: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
