import Foundation
import ShimCore
import ShimTesting
import ShimUpstream

/// Client ID Metadata Documents held in memory, standing in for the guarded
/// fetcher in router tests (the fetcher itself is tested against real TLS
/// listeners in ShimUpstreamTests, and the whole path end to end in e2e/).
/// A document is served "from the cache" after its first fetch until the
/// test replaces it.
final class FakeDocuments: DocumentFetching {
    struct Entry: Sendable {
        var body: String
        var failure: GuardedFetcher.FetchError?
        var served = false
    }

    private let entries = Locked<[String: Entry]>([:])
    private let fetches = Locked<[String]>([])
    let clock: any ShimClock

    init(clock: any ShimClock) {
        self.clock = clock
    }

    /// Serves `body` at `url` (the next fetch counts as a network fetch).
    func publish(_ url: String, _ body: String) {
        entries.withLock { $0[url] = Entry(body: body) }
    }

    func fail(_ url: String, _ error: GuardedFetcher.FetchError) {
        entries.withLock { $0[url] = Entry(body: "", failure: error) }
    }

    var fetched: [String] { fetches.current }

    func fetch(_ url: String, clientAddress: String?) async throws(GuardedFetcher.FetchError) -> GuardedFetcher.Document {
        fetches.withLock { $0.append(url) }
        let entry = entries.withLock { table -> Entry? in
            let found = table[url]
            table[url]?.served = true
            return found
        }
        guard let entry else { throw .resolution(host: RedirectURI(url)?.host ?? url) }
        if let failure = entry.failure { throw failure }
        let now = clock.now()
        return GuardedFetcher.Document(
            url: url, body: Data(entry.body.utf8), address: NetworkAddress("93.184.216.34")!,
            fetchedAt: now, expiresAt: now.addingTimeInterval(600), fromCache: entry.served)
    }

    /// A document for `url` with the given redirect URIs and extra members.
    static func document(
        _ url: String, name: String = "Doc Client", redirects: [String] = [ShimHarness.loopbackRedirect],
        extra: String = ""
    ) -> String {
        let list = redirects.map { "\"\($0)\"" }.joined(separator: ",")
        return
            #"{"client_id":"\#(url)","client_name":"\#(name)","redirect_uris":[\#(list)],"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none"\#(extra)}"#
    }
}
