import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import ShimStorage
import ShimTesting
import Testing

/// The flow against the durable default store, so that records survive the
/// SQLite round trip exactly as the server writes them.
@Suite("Full flow on SQLiteStore")
struct SQLiteFlowTests {
    static func withSQLiteHarness(refreshGrace: String = "45s", _ body: (ShimHarness) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dcr-shim-flow-\(UUID().uuidString).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let store = try await SQLiteStore.open(path: path, logger: Logger(label: "sqlite-test") { _ in SwiftLogNoOpLogHandler() })
        do {
            try await body(try ShimHarness(refreshGrace: refreshGrace, store: store))
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
    }

    @Test("sign in, refresh, reuse within and after the grace window, code replay, revoke")
    func flowOnSQLite() async throws {
        try await Self.withSQLiteHarness(refreshGrace: "45s") { harness in
            harness.upstream.state.withLock { $0.accessTokenLifetime = 30 }
            try await harness.run { client async throws in
                let signedIn = try await client.signIn()
                let first = try #require(signedIn.refreshToken)
                let rotated = try await client.refresh(first, app: signedIn.app)
                #expect(rotated.status == .ok, "\(rotated.text)")
                let second = try #require(rotated.json["refresh_token"] as? String)
                let inGrace = try await client.refresh(first, app: signedIn.app)
                #expect(inGrace.json["refresh_token"] as? String == second)
                #expect(harness.upstream.state.current.refreshCalls.count == 1)
                harness.clock.advance(by: 46)
                CodeTests.expectInvalidGrant(try await client.refresh(first, app: signedIn.app), "reuse after grace")
                CodeTests.expectInvalidGrant(try await client.refresh(second, app: signedIn.app), "successor after reuse")

                let again = try await client.signIn(signedIn.app)
                CodeTests.expectInvalidGrant(try await client.exchange(code: again.code, app: again.app), "code replay")
                CodeTests.expectInvalidGrant(try await client.refresh(try #require(again.refreshToken), app: again.app), "after replay")

                let third = try await client.signIn(signedIn.app)
                #expect(try await client.revoke(try #require(third.refreshToken), app: third.app).status == .ok)
                CodeTests.expectInvalidGrant(try await client.refresh(try #require(third.refreshToken), app: third.app), "after revoke")
            }
        }
    }

    @Test("10 concurrent refreshes on SQLite: one successor, one upstream refresh")
    func concurrentRefreshesOnSQLite() async throws {
        try await Self.withSQLiteHarness { harness in
            harness.upstream.state.withLock {
                $0.accessTokenLifetime = 30
                $0.refreshDelay = .milliseconds(100)
            }
            try await harness.run { client async throws in
                let signedIn = try await client.signIn()
                let token = try #require(signedIn.refreshToken)
                let app = signedIn.app
                let results = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                    for _ in 0..<10 {
                        group.addTask {
                            let response = try await client.refresh(token, app: app)
                            return (Int(response.status.code), response.json["refresh_token"] as? String)
                        }
                    }
                    return try await group.reduce(into: [(Int, String?)]()) { $0.append($1) }
                }
                #expect(results.map(\.0) == Array(repeating: 200, count: 10))
                #expect(Set(results.compactMap(\.1)).count == 1)
                #expect(harness.upstream.state.current.refreshCalls.count == 1)
            }
        }
    }
}
