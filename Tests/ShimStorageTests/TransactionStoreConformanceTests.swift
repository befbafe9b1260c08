import Foundation
import ShimCore
import ShimStorage
import Testing

/// ClientStore, TransactionStore and ConsentStore semantics (ShimStore.swift),
/// run against MemoryStore and SQLiteStore alike.
@Suite("Store conformance: clients, pending consents, transactions, consents")
struct TransactionStoreConformanceTests {
    typealias F = StoreFixtures

    @Test("a registered client is found by its id; an unknown id is not", arguments: StoreKind.available)
    func insertAndFindClient(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            try await store.insertClient(F.client("client-1"))
            #expect(try await store.client(id: "client-1") == F.client("client-1"))
            #expect(try await store.client(id: "client-2") == nil)
            #expect(try await store.countClients() == 1)
        }
    }

    @Test("markClientUsed records the first use only", arguments: StoreKind.available)
    func markClientUsedOnce(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            try await store.insertClient(F.client())
            try await store.markClientUsed(id: "client-1", at: F.t0.addingTimeInterval(10))
            try await store.markClientUsed(id: "client-1", at: F.t0.addingTimeInterval(20))
            #expect(try await store.client(id: "client-1")?.usedAt == F.t0.addingTimeInterval(10))
        }
    }

    @Test("only never-used registrations older than the cut-off are purged", arguments: StoreKind.available)
    func purgeUnusedClients(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            try await store.insertClient(F.client("unused"))
            try await store.insertClient(F.client("used"))
            try await store.markClientUsed(id: "used", at: F.t0)
            #expect(try await store.purgeUnusedClients(createdBefore: F.t0) == 0)
            #expect(try await store.purgeUnusedClients(createdBefore: F.t0.addingTimeInterval(1)) == 1)
            #expect(try await store.client(id: "unused") == nil)
            #expect(try await store.client(id: "used") != nil)
        }
    }

    // Rule 4: the consent page may be rendered again (peek), the decision consumes it once.
    @Test("pending consent: peek does not consume; consume works once", arguments: StoreKind.available)
    func pendingPeekThenConsume(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            try await store.savePending(F.pending(), id: "p1", expiresAt: F.t0.addingTimeInterval(600))
            let now = F.t0.addingTimeInterval(1)
            #expect(try await store.pending(id: "p1", now: now) == F.pending())
            #expect(try await store.pending(id: "p1", now: now) == F.pending())
            #expect(try await store.consumePending(id: "p1", now: now) == F.pending())
            #expect(try await store.consumePending(id: "p1", now: now) == nil)
            #expect(try await store.pending(id: "p1", now: now) == nil)
            #expect(try await store.consumePending(id: "unknown", now: now) == nil)
        }
    }

    @Test("an expired pending consent is neither shown nor consumed", arguments: StoreKind.available)
    func pendingExpired(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            try await store.savePending(F.pending(), id: "p1", expiresAt: F.t0.addingTimeInterval(600))
            let late = F.t0.addingTimeInterval(600)
            #expect(try await store.pending(id: "p1", now: late) == nil)
            #expect(try await store.consumePending(id: "p1", now: late) == nil)
        }
    }

    // Rule 5: transactions are single use and live at most 10 minutes.
    @Test("an upstream transaction is consumed once", arguments: StoreKind.available)
    func transactionConsumedOnce(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            try await store.saveTransaction(F.transaction(), id: "t1", expiresAt: F.t0.addingTimeInterval(600))
            let now = F.t0.addingTimeInterval(599)
            #expect(try await store.consumeTransaction(id: "t1", now: now) == F.transaction())
            #expect(try await store.consumeTransaction(id: "t1", now: now) == nil)
        }
    }

    @Test("an expired upstream transaction is not returned", arguments: StoreKind.available)
    func transactionExpired(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            try await store.saveTransaction(F.transaction(), id: "t1", expiresAt: F.t0.addingTimeInterval(600))
            #expect(try await store.consumeTransaction(id: "t1", now: F.t0.addingTimeInterval(601)) == nil)
        }
    }

    @Test("20 concurrent consumers of one transaction: exactly one gets it", arguments: StoreKind.available)
    func transactionConcurrentConsume(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            try await store.saveTransaction(F.transaction(), id: "t1", expiresAt: F.t0.addingTimeInterval(600))
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await store.consumeTransaction(id: "t1", now: F.t0) != nil }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
        }
    }

    // Rule 4: consent is remembered per (browser, client_id, redirect_uri).
    @Test("a remembered consent is found only for its own browser, client and redirect_uri", arguments: StoreKind.available)
    func consentPerBrowserClientRedirect(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            try await store.saveConsent(F.consent())
            #expect(
                try await store.consent(browser: "browser-1", clientID: "client-1", redirectURI: "https://app.example.com/cb")
                    == F.consent())
            #expect(try await store.consent(browser: "browser-2", clientID: "client-1", redirectURI: "https://app.example.com/cb") == nil)
            #expect(try await store.consent(browser: "browser-1", clientID: "client-2", redirectURI: "https://app.example.com/cb") == nil)
            #expect(try await store.consent(browser: "browser-1", clientID: "client-1", redirectURI: "https://app.example.com/other") == nil)
            // Saving again for the same key replaces the record.
            try await store.saveConsent(F.consent(scope: "mcp.read mcp.write"))
            #expect(
                try await store.consent(browser: "browser-1", clientID: "client-1", redirectURI: "https://app.example.com/cb")?.scope
                    == ScopeSet("mcp.read mcp.write"))
        }
    }

    @Test("purgeExpired removes expired pending consents, transactions and codes only", arguments: StoreKind.available)
    func purgeExpired(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            try await store.savePending(F.pending(), id: "old", expiresAt: F.t0.addingTimeInterval(10))
            try await store.savePending(F.pending(), id: "new", expiresAt: F.t0.addingTimeInterval(1000))
            try await store.saveTransaction(F.transaction(), id: "old", expiresAt: F.t0.addingTimeInterval(10))
            try await store.saveCode(F.code(lifetime: 10), hash: "old")
            try await store.purgeExpired(now: F.t0.addingTimeInterval(100))
            // Looked up at t0 so only the purge can explain a missing record.
            #expect(try await store.pending(id: "old", now: F.t0) == nil)
            #expect(try await store.pending(id: "new", now: F.t0) != nil)
            #expect(try await store.consumeTransaction(id: "old", now: F.t0) == nil)
            #expect(try await store.redeemCode(hash: "old", now: F.t0) == .invalid)
        }
    }
}
