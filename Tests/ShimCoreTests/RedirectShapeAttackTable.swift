import ShimCore
import Testing

/// Attacks that the shape half of rule 1 must refuse on its own, even for a
/// URI the operator wrote into `redirects.allow` (`checkShape(operatorListed: true)`,
/// the most lenient mode), and loopback look-alikes that even the `loopback`
/// bundle (any http URI on a loopback host) must refuse.
///
/// RFC 6749 §3.1.2 (no fragment), RFC 3986 §3.2.1 and RFC 9700 §4.1.3
/// (userinfo hides the real host), RFC 3986 §5.2.4 (dot-segments), RFC 8252
/// §7.1 (private-use schemes), §7.3 and §8.3 (loopback by IP literal).
enum RedirectShapeAttacks {
    struct Base {
        var scheme: String, host: String, port: String, path: String
        var text: String { scheme + "://" + host + port + path }
    }

    /// One base per kind of redirect a client may legitimately register.
    static let bases = [
        Base(scheme: "https", host: "app.example.com", port: "", path: "/oauth/cb"),
        Base(scheme: "http", host: "127.0.0.1", port: ":8080", path: "/cb"),
        Base(scheme: "http", host: "localhost", port: "", path: "/cb"),
        Base(scheme: "http", host: "[::1]", port: ":9", path: "/cb"),
        Base(scheme: "com.example.app", host: "oauth", port: "", path: "/cb"),
    ]

    static var mutations: [(Base) -> String] {
        var m: [(Base) -> String] = []
        // fragments (RFC 6749 §3.1.2: "MUST NOT include a fragment component")
        for f in ["#", "#x", "#@evil.example", "#/../x"] { m.append { $0.text + f } }
        // userinfo
        for u in ["u@", "u:p@", "evil.example@", "@", ":@", "app.example.com@", "%40@"] {
            m.append { b in b.scheme + "://" + u + b.host + b.port + b.path }
        }
        // wildcards
        m.append { b in b.scheme + "://*." + b.host + b.port + b.path }
        m.append { $0.text + "/*" }
        m.append { $0.text + "?next=*" }
        // dot-segments, plain and percent-encoded, also with encoded separators
        for p in [
            "/..", "/.", "/../cb", "/./cb", "/%2e%2e/cb", "/%2E%2E/cb", "/%2e./cb", "/.%2E/cb", "/%2e/cb", "/%2E",
            "/cb/%2e%2e", "/cb%2f..%2fx", "/cb%2F..%2Fx", "/cb%2f%2e%2e%2fx", "/cb%5c..%5cx", "/cb%5C..", "/x/../../cb",
        ] {
            m.append { b in b.scheme + "://" + b.host + b.port + b.path + p }
        }
        // backslashes, which WHATWG parsers read as "/"
        m.append { $0.text + "\\x" }
        m.append { b in b.scheme + "://" + b.host + b.port + "\\" + b.path }
        m.append { b in b.scheme + "://" + b.host + "\\@evil.example" + b.path }
        m.append { b in b.scheme + ":\\\\" + b.host + b.port + b.path }
        // whitespace and control characters anywhere
        for c in [" ", "\t", "\n", "\r", "\r\n", "\u{0}", "\u{7}", "\u{b}", "\u{c}", "\u{1b}", "\u{7f}"] {
            m.append { $0.text + c }
            m.append { c + $0.text }
            m.append { b in b.scheme + "://" + b.host + c + b.port + b.path }
        }
        // non-ASCII: invisible, look-alike separators, IDN and homoglyphs (IDN must come as punycode)
        for c in ["\u{a0}", "\u{200b}", "\u{feff}", "\u{2028}", "\u{202e}", "é", "\u{ff0f}", "\u{2215}", "\u{ff0e}", "а"] {
            m.append { $0.text + c }
            m.append { b in b.scheme + "://" + b.host + c + b.port + b.path }
        }
        // ports that are not ports
        for p in [":65536", ":99999", ":123456", ":-1", ":", ":8o", ":1:2", ":0x50", ":+80", ": 80", ":８０"] {
            m.append { b in b.scheme + "://" + b.host + p + b.path }
        }
        // hosts that are not hosts
        for h in ["", "%2e", ".", "-x", "a_b", "a%00b", "[", "[]", "[x]", "[::1", "::1"] {
            m.append { b in b.scheme + "://" + (h.hasPrefix("%") || h.hasPrefix("a") ? b.host + h : h) + b.port + b.path }
        }
        return m
    }

    static var generated: [String] { bases.flatMap { base in mutations.map { $0(base) } } }

    /// Refused whatever the allowlist says, even when the operator lists them.
    static let schemes: [String] = [
        "javascript:alert(1)", "javascript://x/%0aalert(1)", "JAVASCRIPT://x/y", "jAvAsCrIpT://x/y", "data://x/y",
        "data:text/html;base64,PHNjcmlwdD4=", "file:///etc/passwd", "file://host/etc/passwd", "vbscript://x/y", "about:blank",
        "about://blank", "blob://x/y", "ftp://x/y", "ws://x/y", "wss://x/y", "mailto://x", "tel://1", "chrome://settings/",
        "view-source://x/y", "java\tscript://x/y", " javascript://x/y", "javascript ://x/y", "1https://x/y", "+https://x/y",
        "-x.y://z/", ".x.y://z/", "ht tp://x/y", "https//x/y", "https:x/y", "https:/x/y", "://x/y", "https:///x", "exampleapp:/cb",
        "", " ",
    ]

    /// Not loopback to rule 1 (RFC 8252 §8.3: use the IP literal; this shim
    /// also accepts exactly `localhost`), so plain http is refused, even by the
    /// `loopback` bundle.
    static let loopbackLookAlikes: [String] = [
        "http://localhost./cb", "http://localhost../cb", "http://.localhost/cb", "http://localhost.evil.example/cb",
        "http://evil.localhost/cb", "http://localhost6/cb", "http://ip6-localhost/cb", "http://localhost.localdomain/cb",
        "http://127.1/cb", "http://127.0.1/cb", "http://127.0.0/cb", "http://127.0.0.1.1/cb", "http://127.0.0.1./cb",
        "http://2130706433/cb", "http://017700000001/cb", "http://0x7f000001/cb", "http://0x7f.0.0.1/cb", "http://0177.0.0.1/cb",
        "http://0127.0.0.1/cb", "http://127.0.0.01/cb", "http://127.000.000.001/cb", "http://127.0.0.256/cb",
        "http://127.0.0.-1/cb", "http://127.0.0.1e0/cb", "http://1.0.0.127/cb", "http://128.0.0.1/cb", "http://126.255.255.255/cb",
        "http://0.0.0.0/cb", "http://0/cb", "http://10.0.0.1/cb", "http://192.168.0.1/cb", "http://169.254.169.254/latest/meta-data",
        "http://[::]/cb", "http://[::ffff:127.0.0.1]/cb", "http://[::ffff:7f00:1]/cb", "http://[0:0:0:0:0:0:0:1]/cb",
        "http://[0::1]/cb", "http://[::01]/cb", "http://[::1%25lo]/cb", "http://[::1%lo]/cb", "http://[::1]]/cb",
        "http://[[::1]]/cb", "http://[::1/cb", "http://::1/cb", "http://[fe80::1]/cb", "http://127.0.0.1.nip.io/cb",
        "http://localtest.me/cb", "http://lvh.me/cb", "http://127.0.0.1%2eevil.example/cb", "http://localhost%00.evil.example/cb",
        "http://lоcalhost/cb", "http://locaIhost/cb", "http://xn--localhost-/cb", "http://localhost:99999/cb",
        "http://localhost:-1/cb", "http://127.0.0.1:0x50/cb", "http://localhost@evil.example/cb", "http://evil.example@localhost/cb",
        "http://localhost#@evil.example/", "http://localhost\\@evil.example/", "http://localhost\\.evil.example/",
        "http://127.0.0.1\\evil.example/", "https://127.0.0.1/cb", "https://localhost/cb", "https://[::1]/cb", "ws://127.0.0.1/cb",
        "ftp://127.0.0.1/cb", "HTTP://evil.example/cb", "hTtP://10.0.0.1/cb", "http:/127.0.0.1/cb", "http:127.0.0.1/cb",
        "http:\\\\127.0.0.1/cb", "//127.0.0.1/cb", "http:///127.0.0.1/cb", "http://127.0.0.1/../cb", "http://127.0.0.1/%2e%2e/cb",
        "http://127.0.0.1/cb#x", "http://127.0.0.1/*", "http://127.0.0.1:8080/cb/%2E%2E%2Fx", "http://u:p@127.0.0.1/cb",
    ]
}

@Suite("Rule 1: redirect attack table")
struct RedirectAttackTableTests {
    typealias F = RedirectFixtures

    /// A group of attack strings and the policies that must each refuse every one.
    struct Group {
        var name: String
        var attacks: [String]
        var refusers: [(String, (String) throws(OAuthError) -> Void)]
    }

    static var groups: [Group] {
        [
            Group(
                name: "allowlist near-misses (every bundle + one exact URI)", attacks: unique(RedirectAttacks.all),
                refusers: [("allBundles", F.allBundles.checkRegistration)]),
            Group(
                name: "shape, generated", attacks: unique(RedirectShapeAttacks.generated),
                refusers: [
                    (
                        "checkShape(operatorListed: true)",
                        { (uri: String) throws(OAuthError) in try RedirectPolicy.checkShape(uri, operatorListed: true) }
                    ),
                    ("loopback bundle", F.loopbackOnly.checkRegistration), ("allBundles", F.allBundles.checkRegistration),
                ]),
            Group(
                name: "schemes", attacks: RedirectShapeAttacks.schemes,
                refusers: [
                    (
                        "checkShape(operatorListed: true)",
                        { (uri: String) throws(OAuthError) in try RedirectPolicy.checkShape(uri, operatorListed: true) }
                    ),
                    ("loopback bundle", F.loopbackOnly.checkRegistration),
                ]),
            Group(
                name: "loopback look-alikes", attacks: RedirectShapeAttacks.loopbackLookAlikes,
                refusers: [
                    ("loopback bundle", F.loopbackOnly.checkRegistration), ("allBundles", F.allBundles.checkRegistration),
                ]),
        ]
    }

    @Test("at least 300 attack strings, every one refused with invalid_redirect_uri (RFC 7591 §3.2.2)")
    func everyAttackIsRefused() {
        var checked = 0
        for group in Self.groups {
            for uri in group.attacks {
                for (who, check) in group.refusers {
                    checked += 1
                    do {
                        try check(uri)
                        Issue.record("\(group.name): \(who) accepted \(uri.debugDescription)")
                    } catch {
                        #expect(error.code == .invalidRedirectURI, "\(uri.debugDescription): \(error.code)")
                    }
                }
            }
            print("  \(group.name): \(group.attacks.count) strings")
        }
        let strings = Self.groups.map(\.attacks.count).reduce(0, +)
        #expect(strings >= 300)
        print("redirect attack cases checked: \(strings) strings, \(checked) checks")
    }

    /// Order-keeping de-duplication, so generated lists do not inflate the count.
    static func unique(_ list: [String]) -> [String] {
        var seen: Set<String> = []
        return list.filter { seen.insert($0).inserted }
    }

    @Test("no attack list names an allowed URI (a mistake in a list would read as a refusal that cannot happen)")
    func listsAreHonest() {
        for group in Self.groups {
            #expect(Set(group.attacks).isDisjoint(with: F.exactURIs), "\(group.name) lists an allowed URI")
            #expect(Set(group.attacks).count == group.attacks.count, "\(group.name) has duplicates")
        }
    }
}
