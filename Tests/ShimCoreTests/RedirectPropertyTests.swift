import PropertyBased
import ShimCore
import Testing

/// Rule 1 as a property: whatever URI is assembled from allowed-looking
/// pieces, `RedirectAllowlist.permits` (and `checkRegistration`) admits it if
/// and only if it is literally an allowed URI, an http loopback port variant
/// of one (RFC 8252 §7.3), or a ChatGPT connector id of one safe segment.
///
/// The oracle below is written with plain string operations and the
/// hand-copied list of the clients' callbacks, not with `RedirectURI`, so it cannot share a
/// parser bug with the code under test.
@Suite("Rule 1: allowlist property")
struct RedirectPropertyTests {
    typealias F = RedirectFixtures

    static let allowlist = RedirectAllowlist(clients: F.allClients, allow: [F.operatorURI])
    static let policy = RedirectPolicy(allowlist: allowlist)

    static let schemes = [
        "https", "http", "HTTPS", "Http", "cursor", "Cursor", "com.example.app", "javascript", "data", "file",
        "ftp", "wss", "https:", "",
    ]
    static let userinfo = ["", "", "", "", "claude.ai@", "u:p@", "@", "localhost@"]
    static let hosts = [
        "claude.ai", "claude.com", "chatgpt.com", "vscode.dev", "insiders.vscode.dev", "www.cursor.com",
        "anysphere.cursor-mcp", "app.example.com", "127.0.0.1", "localhost", "[::1]", "127.0.0.2",
        "claude.ai.evil.example", "evil.example", "CLAUDE.AI", "claude.ai.", "localhost.", "127.1", "2130706433",
        "[::ffff:127.0.0.1]", "xn--claude-2ya.ai", "clаude.ai", "", "*.claude.ai", "claude.ai%2e", "chatgpt.com\\",
    ]
    static let ports = [
        "", "", "", "", ":443", ":80", ":6274", ":33418", ":8787", ":0", ":1", ":65535", ":65536", ":99999",
        ":", ":-1", ":8o", ":0080",
    ]
    static let paths = [
        "/api/mcp/auth_callback", "/API/mcp/auth_callback", "/api/mcp/auth_callback/", "/api/mcp/./auth_callback",
        "/api/mcp/%2e%2e/auth_callback", "/api%2fmcp/auth_callback", "/connector/oauth/abc-1_Z", "/connector/oauth/a/b",
        "/connector/oauth/%61", "/connector/oauth/", "/connector/oauth/a.b", "/connector_platform_oauth_redirect",
        "/redirect", "/", "", "/oauth/callback", "/oauth/callback/debug", "/callback", "/agents/mcp/oauth/callback",
        "//oauth/callback", "/oauth\\callback", "/oauth/callback%00", "/oauth/call back", "/oauth/callback/..",
    ]
    static let suffixes = ["", "", "", "", "?", "?x=1", "?redirect=https://evil.example", "#", "#x", "#@evil.example", "*", "\u{0}"]

    /// The pieces, picked by index; even indices pick the first piece of each
    /// list, so about 1 in 64 URIs is the allowed Claude callback and many are
    /// one piece away from it. A failure shrinks toward the plainest pieces.
    static func assemble(_ p: [Int]) -> String {
        func pick(_ list: [String], _ i: Int) -> String { i % 2 == 0 ? list[0] : list[(i / 2) % list.count] }
        return pick(schemes, p[0]) + "://" + pick(userinfo, p[1]) + pick(hosts, p[2]) + pick(ports, p[3]) + pick(paths, p[4])
            + pick(suffixes, p[5])
    }

    /// "http://HOST:PORT/rest" → ("HOST", "/rest") when HOST is one of the three
    /// loopback spellings and PORT is absent or 1–5 digits up to 65535. The
    /// scheme is case-insensitive (RFC 3986 §3.1), so `HTTP://` is the same URI.
    static func loopbackParts(_ uri: String) -> (host: String, rest: String)? {
        guard uri.prefix(7).lowercased() == "http://" else { return nil }
        let afterScheme = uri.dropFirst("http://".count)
        for host in ["127.0.0.1", "localhost", "[::1]"] where afterScheme.hasPrefix(host) {
            var rest = afterScheme.dropFirst(host.count)
            if rest.hasPrefix(":") {
                let digits = rest.dropFirst().prefix { ("0"..."9").contains($0) }
                guard (1...5).contains(digits.count), Int(digits)! <= 65535 else { return nil }
                rest = rest.dropFirst(1 + digits.count)
            }
            guard rest.isEmpty || rest.hasPrefix("/") || rest.hasPrefix("?") else { return nil }
            return (host, String(rest))
        }
        return nil
    }

    static func isLegitimate(_ uri: String) -> Bool {
        if F.exactURIs.contains(where: { $0.utf8.elementsEqual(uri.utf8) }) { return true }
        if let asked = loopbackParts(uri), !asked.rest.contains("#"),
            F.exactURIs.contains(where: { loopbackParts($0).map { $0 == asked } ?? false })
        {
            return true
        }
        guard uri.hasPrefix(F.chatgptConnectorPrefix) else { return false }
        let id = uri.utf8.dropFirst(F.chatgptConnectorPrefix.utf8.count)
        return (1...128).contains(id.count)
            && id.allSatisfy { b in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
            }
    }

    @Test("assembled URIs: admitted exactly when literally allowed (or a loopback port variant, or a connector id)")
    func assembled() async {
        var admittedCount = 0
        await propertyCheck(count: 4000, input: Gen.int(in: 0...10_000).array(of: 6)) { picks in
            let uri = Self.assemble(picks)
            let admitted = (try? Self.policy.checkRegistration(uri)) != nil
            #expect(admitted == Self.isLegitimate(uri), "\(uri.debugDescription) admitted: \(admitted)")
            #expect(!admitted || Self.allowlist.permits(uri))
            if admitted { admittedCount += 1 }
        }
        print("redirect property cases checked: 4000 assembled, \(admittedCount) admitted")
    }

    static let mutations: [@Sendable (String) -> String] = [
        { $0 + "/" }, { $0 + "?" }, { $0 + "#" }, { $0 + "/.." }, { $0 + "%2e" }, { $0 + "x" }, { String($0.dropLast()) },
        { $0.uppercased() }, { $0.replacingFirst("://", with: "://a@") }, { $0.replacingFirst("://", with: ":///") },
        { $0.replacingFirst("https://", with: "http://") }, { $0.replacingFirst("http://", with: "https://") },
        { $0.replacingHost { $0 + ".evil.example" } }, { $0.replacingHost { $0 + ":444" } }, { $0.replacingHost { $0 + ":4321" } },
        { $0.replacingHost { $0 + "." } }, { $0.replacingLast("/", with: "//") }, { $0.replacingLast("/", with: "/%2E/") },
        { $0.replacingLast("/", with: "\\") }, { $0.replacingFirst(".", with: "%2e") }, { $0.replacingFirst("o", with: "о") },
        { $0.replacingFirst("127.0.0.1", with: "localhost") }, { $0.replacingFirst("localhost", with: "127.0.0.1") },
        { $0.replacingFirst("localhost", with: "[::1]") }, { $0.replacingFirst(":6274", with: "") },
    ]

    @Test("allowed URIs with 0–3 random mutations: admitted exactly when the result is still legitimate")
    func mutated() async {
        var admittedCount = 0
        let bases = F.exactURIs + [F.chatgptConnectorPrefix + "abc"]
        await propertyCheck(count: 4000, input: Gen.int(in: 0...10_000), Gen.int(in: 0...10_000).array(of: 0...3)) { base, steps in
            let uri = steps.reduce(bases[base % bases.count]) { uri, step in Self.mutations[step % Self.mutations.count](uri) }
            let admitted = (try? Self.policy.checkRegistration(uri)) != nil
            #expect(admitted == Self.isLegitimate(uri), "\(uri.debugDescription) admitted: \(admitted)")
            if admitted { admittedCount += 1 }
        }
        print("redirect property cases checked: 4000 mutated, \(admittedCount) admitted")
    }
}
