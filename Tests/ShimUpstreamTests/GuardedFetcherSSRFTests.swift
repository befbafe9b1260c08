import Foundation
import ShimCore
import ShimTesting
import ShimUpstream
import Testing

/// Rule 11's SSRF table (threat C1), against real HTTPS listeners on loopback
/// addresses that count every connection they accept. Each refused case
/// asserts the reason AND that the listener it aimed at saw no connection;
/// the allowed cases prove the listeners do record connections.
///
/// Names other than `localhost` are resolved by `ScriptedResolver` (the
/// documented test hook): nothing here depends on the machine's DNS.
@Suite("Rule 11: SSRF table against real listeners", .serialized)
struct GuardedFetcherSSRFTests {
    typealias Error = GuardedFetcher.FetchError

    /// 127.0.0.1 serves the documents, 127.0.0.2 and [::1] are the targets
    /// an attacker wants reached.
    static func listeners(
        _ behaviour: @escaping @Sendable (String) -> RecordingTLSServer.Answer = { _ in FetcherFixture.json() }
    )
        async throws -> (docs: RecordingTLSServer, target: RecordingTLSServer, v6: RecordingTLSServer)
    {
        (
            try await RecordingTLSServer(host: "127.0.0.1", behaviour: behaviour),
            try await RecordingTLSServer(host: "127.0.0.2") { _ in FetcherFixture.json(#"{"secret":"internal"}"#) },
            try await RecordingTLSServer(host: "::1") { _ in FetcherFixture.json(#"{"secret":"internal"}"#) }
        )
    }

    func refused(_ fetcher: GuardedFetcher, _ url: String) async -> Error? {
        do {
            _ = try await fetcher.fetch(url)
            return nil
        } catch {
            return error
        }
    }

    @Test("loopback, private, link-local, CGNAT and IPv4-in-IPv6 destinations are refused before any connection")
    func forbiddenDestinations() async throws {
        let (docs, target, v6) = try await Self.listeners()
        let resolver = ScriptedResolver([
            "private.test": [["10.0.0.7"]], "metadata.test": [["169.254.169.254"]], "cgnat.test": [["100.64.1.1"]],
            "mixed.test": [["93.184.216.34", "127.0.0.2"]], "mapped.test": [["::ffff:127.0.0.2"]],
            "nat64.test": [["64:ff9b::7f00:2"]], "sixtofour.test": [["2002:7f00:2::1"]], "ula.test": [["fd00::2"]],
            "linklocal6.test": [["fe80::1"]],
        ])
        let fetcher = try FetcherFixture.fetcher(resolver: resolver)
        let cases: [(String, IPAddressPolicy.SpecialUse)] = [
            (target.url("/c.json"), .loopback),  // an IP literal
            (v6.url("/c.json"), .loopback),  // [::1]
            (docs.url("/c.json", name: "localhost"), .loopback),  // a name resolving to loopback (system resolver)
            (target.url("/c.json", name: "mixed.test"), .loopback),  // one public and one loopback address
            (target.url("/c.json", name: "mapped.test"), .loopback),  // ::ffff:127.0.0.2
            (target.url("/c.json", name: "nat64.test"), .loopback),  // 64:ff9b::127.0.0.2
            (target.url("/c.json", name: "sixtofour.test"), .loopback),  // 6to4 of 127.0.0.2
            ("https://private.test/c.json", .privateUse),
            ("https://metadata.test/latest/meta-data/", .linkLocal),
            ("https://cgnat.test/c.json", .sharedAddressSpace),
            ("https://ula.test/c.json", .uniqueLocal),
            ("https://linklocal6.test/c.json", .linkLocal),
        ]
        for (url, use) in cases {
            let error = await refused(fetcher, url)
            guard case .forbiddenAddress(_, _, let got)? = error else {
                Issue.record("\(url): expected a forbidden address, got \(String(describing: error))")
                continue
            }
            #expect(got == use, "\(url)")
        }
        // Other spellings of loopback fail one way or another, never with a connection.
        for url in [
            "https://127.0.0.1.:\(docs.port)/c.json", "https://127.1:\(docs.port)/c.json", "https://2130706433:\(docs.port)/c.json",
            "https://[::ffff:127.0.0.2]:\(target.port)/c.json", "https://[0:0:0:0:0:0:0:1]:\(v6.port)/c.json",
        ] {
            #expect(await refused(fetcher, url) != nil, "\(url)")
        }
        #expect(docs.connections == 0 && target.connections == 0 && v6.connections == 0)
        await docs.close()
        await target.close()
        await v6.close()
    }

    @Test("http, userinfo, fragments and hosts that are not plain names are refused without resolving anything")
    func notHTTPS() async throws {
        let (docs, target, v6) = try await Self.listeners()
        let resolver = ScriptedResolver(["docs.test": [["127.0.0.1"]]])
        let fetcher = try FetcherFixture.fetcher(resolver: resolver, trusted: ["docs.test"])
        for url in [
            "http://docs.test:\(docs.port)/c.json", "https://user@docs.test:\(docs.port)/c.json",
            "https://docs.test:\(docs.port)/c.json#x", "ftp://docs.test/c.json", "docs.test/c.json",
            "https://%64ocs.test:\(docs.port)/c.json", "https://docs.test.:\(docs.port)/c.json", "https://docs_test:\(docs.port)/c.json",
        ] {
            guard case .invalidURL? = await refused(fetcher, url) else {
                Issue.record("\(url) was not refused as a URL")
                continue
            }
        }
        #expect(resolver.lookups("docs.test") == 0 && docs.connections == 0)
        await docs.close()
        await target.close()
        await v6.close()
    }

    @Test("the operator's relaxation opens loopback for the named host only, and never link-local")
    func relaxationIsNarrow() async throws {
        let (docs, target, v6) = try await Self.listeners()
        let resolver = ScriptedResolver(["docs.test": [["127.0.0.1"]], "other.test": [["127.0.0.2"]], "meta.test": [["169.254.169.254"]]])
        let fetcher = try FetcherFixture.fetcher(resolver: resolver, trusted: ["docs.test", "meta.test"])
        let document = try await fetcher.fetch(docs.url("/c.json", name: "docs.test"))
        #expect(String(decoding: document.body, as: UTF8.self) == #"{"ok":true}"# && document.address == NetworkAddress("127.0.0.1"))
        // The listener records connections; the request carried the original name as Host.
        #expect(docs.connections == 1 && docs.requestLog == ["docs.test:\(docs.port) /c.json"])
        guard case .forbiddenAddress? = await refused(fetcher, target.url("/c.json", name: "other.test")) else {
            Issue.record("an unlisted name reached loopback")
            return
        }
        guard case .forbiddenAddress(_, _, .linkLocal)? = await refused(fetcher, "https://meta.test/c.json") else {
            Issue.record("the relaxation opened link-local")
            return
        }
        #expect(target.connections == 0)
        await docs.close()
        await target.close()
        await v6.close()
    }

    @Test("a redirect to a private address is not followed; the private listener sees nothing")
    func redirectToPrivate() async throws {
        let target = try await RecordingTLSServer(host: "127.0.0.2") { _ in FetcherFixture.json(#"{"secret":"internal"}"#) }
        let docs = try await RecordingTLSServer(host: "127.0.0.1") { _ in
            .respond(status: 302, headers: [("Location", target.url("/internal"))], body: [])
        }
        let fetcher = try FetcherFixture.fetcher(resolver: ScriptedResolver(["docs.test": [["127.0.0.1"]]]), trusted: ["docs.test"])
        let error = await refused(fetcher, docs.url("/c.json", name: "docs.test"))
        #expect(error == .redirectRefused(status: 302))
        #expect(docs.connections == 1 && target.connections == 0)
        await docs.close()
        await target.close()
    }

    @Test("a 6 KB document, a stalled server, a wrong content type, a 404 and an untrusted certificate are refused")
    func badResponses() async throws {
        let sixKB = #"{"pad":""# + String(repeating: "x", count: 6 * 1024) + #""}"#
        let docs = try await RecordingTLSServer(host: "127.0.0.1") { path in
            switch path {
            case "/big.json": FetcherFixture.json(sixKB)
            case "/big-chunked.json":
                .respond(
                    status: 200, headers: [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")],
                    body: Array(sixKB.utf8))
            case "/stall.json": .stall
            case "/page.html": .respond(status: 200, headers: [("Content-Type", "text/html")], body: Array("<html>".utf8))
            case "/untyped.json": .respond(status: 200, headers: [], body: Array("{}".utf8))
            case "/missing.json": .respond(status: 404, headers: [("Content-Type", "application/json")], body: Array("{}".utf8))
            default: FetcherFixture.json()
            }
        }
        let untrusted = try await RecordingTLSServer(
            host: "127.0.0.3", certificatePEM: TestCertificates.untrustedPEM,
            keyPEM: TestCertificates.untrustedKeyPEM
        ) { _ in FetcherFixture.json() }
        let resolver = ScriptedResolver(["docs.test": [["127.0.0.1"]], "self-signed.test": [["127.0.0.3"]]])
        let fetcher = try FetcherFixture.fetcher(resolver: resolver, trusted: ["docs.test", "self-signed.test"])
        let url = { (path: String) in docs.url(path, name: "docs.test") }
        #expect(await refused(fetcher, url("/big.json")) == .tooLarge(limit: 5 * 1024))
        // Without a Content-Length the cap applies while streaming.
        #expect(await refused(fetcher, url("/big-chunked.json")) == .tooLarge(limit: 5 * 1024))
        // Only the stall gets a short deadline: the other cases assert a reason,
        // which a slow handshake on a busy machine must not turn into a timeout.
        let impatient = try FetcherFixture.fetcher(resolver: resolver, trusted: ["docs.test"], timeout: .seconds(1))
        let started = ContinuousClock.now
        #expect(await refused(impatient, url("/stall.json")) == .timeout(seconds: 1))
        #expect(ContinuousClock.now - started < .seconds(3), "the deadline bounds a stalled server")
        #expect(await refused(fetcher, url("/page.html")) == .contentType("text/html"))
        #expect(await refused(fetcher, url("/untyped.json")) == .contentType(nil))
        #expect(await refused(fetcher, url("/missing.json")) == .status(404))
        let selfSigned = await refused(fetcher, untrusted.url("/c.json", name: "self-signed.test"))
        guard case .connection(_, let why)? = selfSigned, why.contains("CERTIFICATE_VERIFY_FAILED") else {
            Issue.record("a certificate from an unknown CA: \(String(describing: selfSigned))")
            return
        }
        // Without the operator's extra CA, the test CA's certificate is not trusted either.
        let strict = try FetcherFixture.fetcher(resolver: resolver, trusted: ["docs.test"], extraCA: nil)
        guard case .connection? = await refused(strict, url("/ok.json")) else {
            Issue.record("the test CA was trusted by default")
            return
        }
        await docs.close()
        await untrusted.close()
    }
}
