import Foundation
import ShimCore
import ShimStorage
import Testing

/// SQLite is the durable default; what was acknowledged survives a restart.
@Suite("SQLiteStore persistence")
struct SQLitePersistenceTests {
    typealias F = StoreFixtures

    @Test("records written before close are there after reopening the same file")
    func reopenKeepsRecords() async throws {
        let path = F.temporaryDatabasePath()
        defer { F.removeDatabase(at: path) }

        let first = try await SQLiteStore.open(path: path, logger: F.quietLogger)
        try await first.insertClient(F.client())
        try await first.markClientUsed(id: "client-1", at: F.t0.addingTimeInterval(1))
        try await first.savePending(F.pending(), id: "p1", expiresAt: F.t0.addingTimeInterval(600))
        try await first.saveTransaction(F.transaction(), id: "t1", expiresAt: F.t0.addingTimeInterval(600))
        try await first.saveConsent(F.consent())
        try await first.saveCode(F.code(), hash: "used-code")
        try await first.saveCode(F.code(grantID: "grant-2"), hash: "fresh-code")
        #expect(try await first.redeemCode(hash: "used-code", now: F.t0) == .redeemed(F.code()))
        #expect(try await first.createGrant(F.grant(), refreshTokenHash: "r1", refreshToken: F.refresh()))
        #expect(
            try await first.rotate(
                oldHash: "r1", rotatedAt: F.t0, sealedSuccessor: "sealed-r2", successorHash: "r2",
                successor: F.refresh(), upstream: F.upstream("2")))
        try await first.revokeGrant(id: "tombstoned", at: F.t0)
        try await first.close()

        let second = try await SQLiteStore.open(path: path, logger: F.quietLogger)
        var expectedClient = F.client()
        expectedClient.usedAt = F.t0.addingTimeInterval(1)
        #expect(try await second.client(id: "client-1") == expectedClient)
        #expect(try await second.pending(id: "p1", now: F.t0) == F.pending())
        #expect(try await second.consumeTransaction(id: "t1", now: F.t0) == F.transaction())
        #expect(try await second.consent(browser: "browser-1", clientID: "client-1", redirectURI: "https://app.example.com/cb") == F.consent())
        // The used mark survived: a replay after a restart is still a replay.
        #expect(try await second.redeemCode(hash: "used-code", now: F.t0) == .replayed(F.code()))
        #expect(try await second.redeemCode(hash: "fresh-code", now: F.t0) == .redeemed(F.code(grantID: "grant-2")))
        #expect(try await second.grant(id: "grant-1")?.upstream == F.upstream("2"))
        #expect(try await second.refreshToken(hash: "r1")?.rotatedAt == F.t0)
        #expect(try await second.refreshToken(hash: "r2") == F.refresh())
        #expect(
            try await second.rotate(
                oldHash: "r1", rotatedAt: F.t0, sealedSuccessor: "x", successorHash: "r3",
                successor: F.refresh(), upstream: F.upstream("3")) == false)
        #expect(try await second.createGrant(F.grant("tombstoned"), refreshTokenHash: "r9", refreshToken: F.refresh()) == false)
        try await second.close()
    }
}
