import Foundation
import ShimCore
import ShimTesting
import ShimUpstream
import Testing

/// Rule 11, the rest of the fetcher's contract: one resolution pinned for the
/// connection (no DNS rebinding), bounded caching per Cache-Control, a short
/// negative cache, one fetch per URL in flight, a per-host limit.
@Suite("Rule 11: pinning, caching and limits of the guarded fetcher", .serialized)
struct GuardedFetcherCacheTests {
    @Test("DNS rebinding: the name is resolved once and the connection goes to the checked address")
    func pinned() async throws {
        let checked = try await RecordingTLSServer(host: "127.0.0.3") { _ in FetcherFixture.json() }
        let rebound = try await RecordingTLSServer(host: "127.0.0.2") { _ in FetcherFixture.json(#"{"secret":"internal"}"#) }
        // A DNS server that answers 127.0.0.3 first, then 127.0.0.2 to every later lookup.
        let resolver = ScriptedResolver(["pinned.test": [["127.0.0.3"], ["127.0.0.2"]]])
        let fetcher = try FetcherFixture.fetcher(resolver: resolver, trusted: ["pinned.test"])
        let document = try await fetcher.fetch(checked.url("/c.json", name: "pinned.test"))
        #expect(String(decoding: document.body, as: UTF8.self) == #"{"ok":true}"#)
        #expect(resolver.lookups("pinned.test") == 1, "one resolution per fetch")
        #expect(checked.connections == 1 && rebound.connections == 0)
        // The certificate was checked against the name, not the address: the
        // system resolver does not know pinned.test, so nothing else could have
        // produced this connection.
        #expect(checked.requestLog == ["pinned.test:\(checked.port) /c.json"])
        await checked.close()
        await rebound.close()
    }

    @Test("DNS rebinding: a host written in capitals is pinned too (no second lookup under another spelling)")
    func pinnedWhateverTheCase() async throws {
        let checked = try await RecordingTLSServer(host: "127.0.0.3") { _ in FetcherFixture.json() }
        let rebound = try await RecordingTLSServer(host: "127.0.0.2") { _ in FetcherFixture.json(#"{"secret":"internal"}"#) }
        // The checked answer twice (one lookup per fetch), the rebinding answer after that.
        // The HTTP client itself would resolve with the system resolver, which does not know
        // these names: only pinning lets these fetches succeed.
        let resolver = ScriptedResolver(["pinned.test": [["127.0.0.3"], ["127.0.0.3"], ["127.0.0.2"]]])
        let fetcher = try FetcherFixture.fetcher(resolver: resolver, trusted: ["pinned.test"])
        for spelling in ["PINNED.test", "Pinned.Test"] {
            let document = try await fetcher.fetch(checked.url("/\(spelling).json", name: spelling))
            #expect(document.address == NetworkAddress("127.0.0.3"), "\(spelling)")
        }
        #expect(resolver.lookups("pinned.test") == 2 && resolver.lookups("PINNED.test") == 0 && resolver.lookups("Pinned.Test") == 0)
        #expect(checked.requestLog.map { $0.split(separator: ":")[0].lowercased() } == ["pinned.test", "pinned.test"])
        #expect(checked.connections == 2 && rebound.connections == 0)
        await checked.close()
        await rebound.close()
    }

    @Test("responses are reused for max-age within the bounds; no-store is re-fetched after the floor")
    func cacheControl() async throws {
        let server = try await RecordingTLSServer(host: "127.0.0.1") { path in
            switch path {
            case "/long.json": FetcherFixture.json(headers: [("Cache-Control", "public, max-age=86400")])
            case "/nostore.json": FetcherFixture.json(headers: [("Cache-Control", "no-store")])
            default: FetcherFixture.json()
            }
        }
        let clock = TestClock()
        let fetcher = try FetcherFixture.fetcher(resolver: ScriptedResolver(["docs.test": [["127.0.0.1"]]]), clock: clock, trusted: ["docs.test"])
        let long = server.url("/long.json", name: "docs.test")
        let noStore = server.url("/nostore.json", name: "docs.test")
        let first = try await fetcher.fetch(long)
        #expect(!first.fromCache && first.expiresAt == first.fetchedAt.addingTimeInterval(3600), "max-age capped at the 1 h ceiling")
        #expect(try await fetcher.fetch(long).fromCache && server.connections == 1)
        clock.advance(by: 3599)
        #expect(try await fetcher.fetch(long).fromCache && server.connections == 1)
        clock.advance(by: 2)
        #expect(try await !fetcher.fetch(long).fromCache && server.connections == 2)

        _ = try await fetcher.fetch(noStore)
        #expect(try await fetcher.fetch(noStore).fromCache && server.connections == 3, "no-store is held for the 60 s floor")
        clock.advance(by: 61)
        #expect(try await !fetcher.fetch(noStore).fromCache && server.connections == 4)
        await server.close()
    }

    @Test("a failure is remembered for 10 s, then the URL is tried again")
    func negativeCache() async throws {
        let server = try await RecordingTLSServer(host: "127.0.0.1") { _ in
            .respond(status: 500, headers: [("Content-Type", "application/json")], body: Array("{}".utf8))
        }
        let clock = TestClock()
        let fetcher = try FetcherFixture.fetcher(resolver: ScriptedResolver(["docs.test": [["127.0.0.1"]]]), clock: clock, trusted: ["docs.test"])
        let url = server.url("/c.json", name: "docs.test")
        for _ in 0..<5 { await #expect(throws: GuardedFetcher.FetchError.status(500)) { try await fetcher.fetch(url) } }
        #expect(server.connections == 1)
        clock.advance(by: 11)
        await #expect(throws: GuardedFetcher.FetchError.status(500)) { try await fetcher.fetch(url) }
        #expect(server.connections == 2)
        await server.close()
    }

    @Test("concurrent requests for one URL share one fetch; a host has at most 2 fetches in flight")
    func concurrency() async throws {
        let server = try await RecordingTLSServer(host: "127.0.0.1") { path in
            path.hasPrefix("/slow") ? .stall : FetcherFixture.json()
        }
        // The fixture's generous deadline: a TLS handshake on a loaded
        // machine can take over a second, and these fetches must succeed.
        let fetcher = try FetcherFixture.fetcher(resolver: ScriptedResolver(["docs.test": [["127.0.0.1"]]]), trusted: ["docs.test"])
        // 20 callers, one URL: one connection.
        let same = server.url("/same.json", name: "docs.test")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { _ = try await fetcher.fetch(same) } }
            try await group.waitForAll()
        }
        #expect(server.connections == 1)
        // Two stalled fetches occupy the host (a short deadline of their own
        // ends them); a third URL on it is refused at once, long before it.
        let stalling = try FetcherFixture.fetcher(
            resolver: ScriptedResolver(["docs.test": [["127.0.0.1"]]]), trusted: ["docs.test"],
            timeout: .seconds(3))
        async let a: Void = { _ = try? await stalling.fetch(server.url("/slow-a.json", name: "docs.test")) }()
        async let b: Void = { _ = try? await stalling.fetch(server.url("/slow-b.json", name: "docs.test")) }()
        let occupied = ContinuousClock.now + .seconds(10)
        while await stalling.cacheCounts.inFlight < 2, ContinuousClock.now < occupied { try await Task.sleep(for: .milliseconds(20)) }
        let started = ContinuousClock.now
        await #expect(throws: GuardedFetcher.FetchError.busy(host: "docs.test")) {
            try await stalling.fetch(server.url("/third.json", name: "docs.test"))
        }
        #expect(ContinuousClock.now - started < .milliseconds(1500))
        _ = await (a, b)
        // Once they gave up, the host's slots are free again.
        _ = try await stalling.fetch(server.url("/fourth.json", name: "docs.test"))
        let counts = await stalling.cacheCounts
        #expect(counts.inFlight == 0 && counts.hosts == 0)
        await server.close()
    }

    @Test("the response cache is bounded; the least recently used entry goes first")
    func bounded() async throws {
        let server = try await RecordingTLSServer(host: "127.0.0.1") { _ in FetcherFixture.json() }
        let fetcher = try FetcherFixture.fetcher(resolver: ScriptedResolver(["docs.test": [["127.0.0.1"]]]), trusted: ["docs.test"], capacity: 3)
        let url = { (n: Int) in server.url("/\(n).json", name: "docs.test") }
        for n in 0..<3 { _ = try await fetcher.fetch(url(n)) }
        _ = try await fetcher.fetch(url(0))  // 0 is now the most recently used
        for n in 3..<10 { _ = try await fetcher.fetch(url(n)) }
        #expect(await fetcher.cacheCounts.entries == 3)
        let before = server.connections
        #expect(try await fetcher.fetch(url(9)).fromCache && server.connections == before)
        #expect(try await !fetcher.fetch(url(1)).fromCache && server.connections == before + 1)
        await server.close()
    }
}
