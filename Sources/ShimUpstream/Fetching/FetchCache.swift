import Foundation

/// The fetcher's memory: fresh responses (bounded, least recently used
/// evicted), recent failures (a short negative cache, so a dead or hostile
/// URL is not fetched on every request), the fetches in flight (one per URL;
/// concurrent callers share it), and how many fetches each host and each
/// client address has in flight. Every table is bounded: the response table
/// by `capacity`, the others by the number of fetches allowed in flight.
///
/// A fetch's slot (its place in the host, client and total counts) is
/// released by `release`, apart from `finish`: a fetch whose deadline passed
/// during a name lookup keeps its slot until the lookup returns, because the
/// thread running it is still taken.
actor FetchCache {
    typealias Outcome = Result<GuardedFetcher.Document, GuardedFetcher.FetchError>

    private struct Entry {
        var outcome: Outcome
        var expiresAt: Date
        var lastUse: UInt64
    }

    /// What a caller does next.
    enum Lookup {
        case done(Outcome)
        case wait(Task<Outcome, Never>)
    }

    private var entries: [String: Entry] = [:]
    private var inFlight: [String: Task<Outcome, Never>] = [:]
    private var perHost: [String: Int] = [:]
    private var perClient: [String: Int] = [:]
    private var total = 0
    private var useCounter: UInt64 = 0
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// A cached outcome that has not expired; else the fetch in flight for
    /// `url`; else a new fetch started with `work`, unless `host`, `client`
    /// or the whole fetcher already has its limit of fetches in flight.
    /// Those refusals are answered at once and never remembered. With
    /// `reuse` false the stored outcome is skipped (a fetch in flight is
    /// still shared: it is as fresh as a new one).
    func lookup(
        url: String, host: String, client: String?, now: Date, limits: GuardedFetcher.Limits, reuse: Bool = true,
        work: @escaping @Sendable () async -> Outcome
    ) -> Lookup {
        if reuse, let entry = entries[url], now < entry.expiresAt {
            useCounter += 1
            entries[url]?.lastUse = useCounter
            if case .success(var document) = entry.outcome {
                document.fromCache = true
                return .done(.success(document))
            }
            return .done(entry.outcome)
        }
        if let running = inFlight[url] { return .wait(running) }
        guard perHost[host, default: 0] < limits.maxConcurrentPerHost, total < limits.maxConcurrentTotal else {
            return .done(.failure(.busy(host: host)))
        }
        if let client, perClient[client, default: 0] >= limits.maxConcurrentPerClient { return .done(.failure(.clientBusy)) }
        perHost[host, default: 0] += 1
        if let client { perClient[client, default: 0] += 1 }
        total += 1
        let task = Task { await work() }
        inFlight[url] = task
        return .wait(task)
    }

    /// Gives back the slot `lookup` took for a fetch (once per fetch).
    func release(host: String, client: String?) {
        total -= 1
        perHost[host, default: 1] -= 1
        if perHost[host] == 0 { perHost[host] = nil }
        if let client {
            perClient[client, default: 1] -= 1
            if perClient[client] == 0 { perClient[client] = nil }
        }
    }

    /// Records a finished fetch's outcome, kept until `expiresAt`; later
    /// callers of `url` start a new fetch.
    func finish(url: String, outcome: Outcome, expiresAt: Date, now: Date) {
        inFlight[url] = nil
        // A refusal for want of room here says nothing about the URL: never remembered.
        if case .failure(let error) = outcome, error.isLocalSaturation { return }
        useCounter += 1
        entries[url] = Entry(outcome: outcome, expiresAt: expiresAt, lastUse: useCounter)
        if entries.count > capacity { evict(now: now) }
    }

    /// Drops expired entries; if still over capacity, the least recently used.
    private func evict(now: Date) {
        entries = entries.filter { now < $0.value.expiresAt }
        while entries.count > capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            entries[oldest] = nil
        }
    }

    /// Test and admin view: how many responses are remembered, URLs being
    /// fetched, hosts and client addresses holding slots, slots held.
    var counts: (entries: Int, inFlight: Int, hosts: Int, clients: Int, slots: Int) {
        (entries.count, inFlight.count, perHost.count, perClient.count, total)
    }
}
