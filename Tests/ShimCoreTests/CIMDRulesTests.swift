import Foundation
import ShimCore
import Testing

/// Client ID Metadata Documents (SEP-991, draft-ietf-oauth-client-id-metadata-document):
/// which client_ids are document URLs, the operator's host policy, and how
/// long a fetched document is reused.
@Suite("CIMD: client_id URL, host policy, cache lifetime")
struct CIMDRulesTests {
    @Test(
        "§3: an https URL with a path is a Client Identifier URL",
        arguments: [
            ("https://claude.ai/oauth/claude-code-client-metadata", "claude.ai", nil as Int?),
            ("https://app.example.com/client.json", "app.example.com", nil),
            ("https://App.Example.COM/client.json", "app.example.com", nil),
            ("https://app.example.com:8443/oauth/client.json", "app.example.com", 8443),
            ("https://app.example.com/client.json?v=2", "app.example.com", nil),
            ("https://[2606:4700::1]/c.json", "2606:4700::1", nil),
            ("https://93.184.216.34/c.json", "93.184.216.34", nil),
        ])
    func valid(_ url: String, _ host: String, _ port: Int?) throws {
        let id = try CIMDClientID(validating: url)
        #expect(id.url == url && id.host == host && id.port == port)
        #expect(CIMDClientID.isCandidate(url))
    }

    @Test(
        "§3: everything else is refused with invalid_client",
        arguments: [
            "https://app.example.com", "https://app.example.com/", "http://app.example.com/client.json",
            "https://user@app.example.com/client.json", "https://user:pw@app.example.com/client.json",
            "https://app.example.com/client.json#frag", "https://app.example.com/a/../client.json",
            "https://app.example.com/./client.json", "https://app.example.com/%2e%2e/client.json",
            "https://app.example.com/a/%2E/client.json", "https://app.example.com\\@evil.example/c.json",
            "https://app.example.com./client.json", "https://app_example.com/client.json", "https://%61pp.example.com/c.json",
            "https://app.example.com/client json", "https://app.exämple.com/client.json", "https:///client.json",
            "https://app.example.com:99999/c.json", "https://-app.example.com/c.json",
            "https://app.example.com/" + String(repeating: "a", count: 600),
        ])
    func invalid(_ url: String) {
        #expect(throws: OAuthError.self, "\(url)") { try CIMDClientID(validating: url) }
        do { _ = try CIMDClientID(validating: url) } catch { #expect(error.code == .invalidClient && error.status == 400) }
    }

    @Test("the shim's own client ids are never candidates")
    func notCandidates() {
        for id in ["Yp3k2Wm9Q0xL4vB7nZ1aFg", "http://app.example.com/c.json", "HTTPS://app.example.com/c.json", " https://a.example/c", ""] {
            #expect(!CIMDClientID.isCandidate(id), "\(id)")
        }
    }

    @Test(
        "host patterns: exact hosts, and *.suffix matching subdomains only",
        arguments: [
            ("claude.ai", "claude.ai", true), ("claude.ai", "www.claude.ai", false), ("claude.ai", "claude.ai.evil.example", false),
            ("Claude.AI", "claude.ai", true), ("*.example.com", "a.example.com", true), ("*.example.com", "a.b.example.com", true),
            ("*.example.com", "example.com", false), ("*.example.com", "evilexample.com", false),
            ("*.example.com", "a.example.com.evil.net", false), ("localhost", "localhost", true), ("127.0.0.1", "127.0.0.1", true),
        ])
    func patterns(_ pattern: String, _ host: String, _ expected: Bool) throws {
        #expect(try #require(HostPattern(pattern)).matches(host) == expected, "\(pattern) vs \(host)")
    }

    // An IP-literal entry names an address, not a spelling: every URL host that
    // resolves to that address without DNS must match it.
    @Test(
        "IP-literal host patterns match the address however the URL spells it",
        arguments: [
            ("[2001:db8::1]", "2001:db8::1", true), ("2001:DB8:0:0::1", "2001:db8::1", true), ("2001:db8::1", "2001:db8:0::0:1", true),
            ("93.184.216.34", "::ffff:93.184.216.34", true), ("93.184.216.34", "::ffff:5db8:d822", true),
            ("93.184.216.34", "1572395042", true), ("93.184.216.34", "0x5db8d822", true), ("93.184.216.34", "93.184.55330", true),
            ("93.184.216.34", "0135.0270.0330.042", true), ("93.184.216.34", "93.184.216.35", false), ("2001:db8::1", "2001:db8::2", false),
            ("93.184.216.34", "93.184.216.34.example.com", false),
        ])
    func addressPatterns(_ pattern: String, _ host: String, _ expected: Bool) throws {
        #expect(try #require(HostPattern(pattern)).matches(host) == expected, "\(pattern) vs \(host)")
    }

    @Test(
        "host patterns that could not mean what they say are refused",
        arguments: [
            "*", "*.com", "*.", "a.*.example.com", "*example.com", "**.example.com", "example.com.", "exa mple.com",
            "https://example.com", "example.com/path", "", "-bad.example", "ex_ample.com",
        ])
    func badPatterns(_ text: String) {
        #expect(HostPattern(text) == nil, "\(text)")
    }

    @Test("policy: disabled, blocked, not allowed; blocked wins over allowed")
    func policy() throws {
        let id = try CIMDClientID(validating: "https://app.example.com/client.json")
        #expect(throws: OAuthError.self) { try CIMDPolicy(enabled: false).check(id) }
        #expect(throws: Never.self) { try CIMDPolicy().check(id) }
        let blocked = CIMDPolicy(allowedHosts: [HostPattern("*.example.com")!], blockedHosts: [HostPattern("app.example.com")!])
        #expect(throws: OAuthError.self) { try blocked.check(id) }
        #expect(throws: OAuthError.self) { try CIMDPolicy(allowedHosts: [HostPattern("claude.ai")!]).check(id) }
        #expect(throws: Never.self) { try CIMDPolicy(allowedHosts: [HostPattern("*.example.com")!]).check(id) }
    }

    @Test(
        "a document URL on a port other than 443 is refused unless the operator named its host (no port probing from the shim)",
        arguments: [
            ("https://app.example.com:8443/c.json", CIMDPolicy(), false),
            ("https://app.example.com:22/c.json", CIMDPolicy(), false),
            ("https://app.example.com:443/c.json", CIMDPolicy(), true),
            ("https://app.example.com/c.json", CIMDPolicy(), true),
            ("https://app.example.com:8443/c.json", CIMDPolicy(allowedHosts: [HostPattern("app.example.com")!]), true),
            ("https://app.example.com:8443/c.json", CIMDPolicy(insecurePrivateHosts: [HostPattern("app.example.com")!]), true),
        ])
    func portRule(url: String, policy: CIMDPolicy, accepted: Bool) throws {
        let id = try CIMDClientID(validating: url)
        if accepted {
            #expect(throws: Never.self) { try policy.check(id) }
        } else {
            let error = #expect(throws: OAuthError.self) { try policy.check(id) }
            #expect(error?.code == .invalidClient && error?.description.contains("port 443") == true)
        }
    }

    @Test("GHSA-6x8h-498w-gv8c: a remembered consent skips the page only for an allowed host")
    func rememberedConsent() {
        #expect(!CIMDPolicy().mayRememberConsent(host: "app.example.com"))
        let policy = CIMDPolicy(allowedHosts: [HostPattern("claude.ai")!, HostPattern("*.example.com")!])
        #expect(policy.mayRememberConsent(host: "claude.ai"))
        #expect(policy.mayRememberConsent(host: "app.example.com"))
        #expect(!policy.mayRememberConsent(host: "evil.example"))
        #expect(!policy.mayRememberConsent(host: "example.com"))
    }

    @Test(
        "cache lifetime: max-age within [floor, ceiling]; no-store is the floor; none is the fallback",
        arguments: [
            (nil as String?, 600), ("max-age=300", 300), ("public, max-age=120", 120), ("max-age=5", 60),
            ("max-age=999999", 3600), ("max-age=99999999999999999999", 3600), ("no-store", 60), ("no-cache, max-age=900", 60),
            ("max-age=\"200\"", 200), ("max-age=abc", 600), ("max-age=-5", 600), ("max-age=", 600), ("private", 600),
            ("max-age=100, max-age=200", 100), ("MAX-AGE=250", 250), ("  max-age = 240 ", 240),
        ])
    func cacheLifetime(_ header: String?, _ expected: Int) {
        #expect(CacheLifetime.seconds(cacheControl: header, floor: 60, ceiling: 3600, fallback: 600) == expected, "\(header ?? "nil")")
    }
}
