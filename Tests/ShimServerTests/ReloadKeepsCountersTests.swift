import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ShimCore
import ShimServer
import ShimTesting
import Testing

/// A reload (SIGHUP, or the file watch) builds the endpoints again from the
/// new configuration; the per-address counts are made once and handed to
/// every rebuild (`AddressRateCounters`), so a client at its limit gets no
/// fresh budget from a reload, and a changed limit applies to the counts so far.
@Suite("Reload: the per-address rate counts outlive the rebuilt endpoints")
struct ReloadKeepsCountersTests {
    static let keys = KeyMaterial(encryptionKey: Data((0..<32).map { UInt8($0) }), cookieKey: Data((0..<32).map { UInt8(200 - $0) }))

    /// The router a reload builds for `registration.rate_limit: limit`, with the
    /// process's counts (as RunningParts hands them to every rebuild).
    static func responder(_ harness: ShimHarness, rateLimit: String, counters: AddressRateCounters) throws -> RouterResponder<ShimRequestContext> {
        let config = try ShimHarness.configuration(
            consent: "always", refreshGrace: "45s", overrides: ["registration": .map(["rate_limit": .string(rateLimit)])])
        let services = try ShimServices(
            config: config, store: harness.store, upstream: harness.upstream, clock: harness.clock, keys: keys, counters: counters)
        return ShimRouter.build(services).buildResponder()
    }

    @Test("a client at registration.rate_limit is still refused after a reload; a raised limit counts what came before it")
    func registrationLimitSurvivesReload() async throws {
        let harness = try ShimHarness()
        let counters = AddressRateCounters()
        let reloadable = ReloadableResponder(try Self.responder(harness, rateLimit: "2", counters: counters))
        try await Application(responder: reloadable).test(.router) { http in
            let client = ShimClient(http: http, harness: harness)
            let body = #"{"redirect_uris":["\#(ShimHarness.loopbackRedirect)"]}"#
            #expect(try await client.registerRaw(body).status == .created)
            #expect(try await client.registerRaw(body).status == .created)
            #expect(try await client.registerRaw(body).status == .tooManyRequests)
            // The reload: the same configuration built again with the same counts.
            reloadable.replace(with: try Self.responder(harness, rateLimit: "2", counters: counters))
            let refused = try await client.registerRaw(body)
            #expect(refused.status == .tooManyRequests, "the reload gave the client a fresh budget")
            #expect(refused.headers[.retryAfter] != nil)
            // A raised limit applies to the two already counted: one more in this window.
            reloadable.replace(with: try Self.responder(harness, rateLimit: "3", counters: counters))
            #expect(try await client.registerRaw(body).status == .created)
            #expect(try await client.registerRaw(body).status == .tooManyRequests)
            // A lowered one refuses at once.
            reloadable.replace(with: try Self.responder(harness, rateLimit: "1", counters: counters))
            #expect(try await client.registerRaw(body).status == .tooManyRequests)
            // The window ends as it would have without the reloads.
            harness.clock.advance(by: 61)
            #expect(try await client.registerRaw(body).status == .created)
        }
    }

}
