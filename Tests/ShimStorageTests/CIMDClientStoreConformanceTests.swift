import Foundation
import ShimCore
import ShimStorage
import Testing

/// CIMDClientStore semantics (ShimStore.swift) on every store: one record per
/// document URL, firstSeen kept across updates, the previous record returned
/// (so the server can audit a new or changed document), listing newest first,
/// deletion and purge by last fetch.
@Suite("CIMDClientStore conformance")
struct CIMDClientStoreConformanceTests {
    static func record(
        _ url: String = "https://app.example.com/client.json", name: String = "App", hash: String = "aaaa1111",
        fetched: TimeInterval = 0
    ) -> CIMDClientRecord {
        let at = StoreFixtures.t0.addingTimeInterval(fetched)
        return CIMDClientRecord(
            url: url, host: "app.example.com", clientName: name, redirectURIs: ["http://127.0.0.1/callback"],
            documentHash: hash, firstSeen: at, lastFetched: at)
    }

    @Test("first record is new; an update returns the previous one and keeps firstSeen", arguments: StoreKind.available)
    func upsert(_ kind: StoreKind) async throws {
        try await kind.with { (store: any ShimStore) async throws in
            #expect(try await store.recordCIMDClient(Self.record()) == nil)
            #expect(try await store.cimdClient(url: Self.record().url) == Self.record())
            let changed = Self.record(name: "App v2", hash: "bbbb2222", fetched: 600)
            let previous = try await store.recordCIMDClient(changed)
            #expect(previous == Self.record())
            let stored = try #require(try await store.cimdClient(url: changed.url))
            #expect(stored.clientName == "App v2" && stored.documentHash == "bbbb2222")
            #expect(stored.firstSeen == StoreFixtures.t0 && stored.lastFetched == StoreFixtures.t0.addingTimeInterval(600))
            // The same document fetched again: the previous record equals what is stored.
            #expect(try await store.recordCIMDClient(changed)?.documentHash == "bbbb2222")
            #expect(try await store.cimdClient(url: "https://app.example.com/other.json") == nil)
        }
    }

    @Test("URLs are compared byte for byte: :443 and a trailing slash are other clients", arguments: StoreKind.available)
    func exactKeys(_ kind: StoreKind) async throws {
        try await kind.with { (store: any ShimStore) async throws in
            for url in ["https://app.example.com/c", "https://app.example.com:443/c", "https://app.example.com/c/", "https://App.example.com/c"] {
                #expect(try await store.recordCIMDClient(Self.record(url)) == nil, "\(url)")
            }
            #expect(try await store.listCIMDClients(limit: 10).count == 4)
        }
    }

    @Test("listing is newest fetch first and limited; delete and purge", arguments: StoreKind.available)
    func listDeletePurge(_ kind: StoreKind) async throws {
        try await kind.with { (store: any ShimStore) async throws in
            for n in 0..<5 {
                try await store.recordCIMDClient(Self.record("https://app.example.com/\(n).json", fetched: TimeInterval(n * 100)))
            }
            let listed = try await store.listCIMDClients(limit: 3).map(\.url)
            #expect(listed == (2...4).reversed().map { "https://app.example.com/\($0).json" })
            #expect(try await store.deleteCIMDClient(url: "https://app.example.com/4.json"))
            #expect(try await !store.deleteCIMDClient(url: "https://app.example.com/4.json"))
            #expect(try await store.purgeCIMDClients(lastFetchedBefore: StoreFixtures.t0.addingTimeInterval(250)) == 3)
            #expect(try await store.listCIMDClients(limit: 10).map(\.url) == ["https://app.example.com/3.json"])
        }
    }

    @Test("concurrent records of one URL leave one row, with the earliest firstSeen", arguments: StoreKind.available)
    func concurrent(_ kind: StoreKind) async throws {
        try await kind.with { (store: any ShimStore) async throws in
            try await withThrowingTaskGroup(of: CIMDClientRecord?.self) { group in
                for n in 0..<10 { group.addTask { try await store.recordCIMDClient(Self.record(fetched: TimeInterval(n))) } }
                var new = 0
                for try await previous in group where previous == nil { new += 1 }
                #expect(new == 1, "exactly one caller saw a new client")
            }
            #expect(try await store.listCIMDClients(limit: 10).count == 1)
            #expect(try await store.cimdClient(url: Self.record().url)?.firstSeen == StoreFixtures.t0)
        }
    }
}
