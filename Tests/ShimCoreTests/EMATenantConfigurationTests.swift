import ShimCore
import Testing

/// Entra's multi-tenant endpoints (`common`, `organizations`, `consumers`)
/// accept ID tokens of any tenant that can sign in to the application:
/// check-config requires every leg-1 rule to name the tenants it admits.
@Suite("Configuration: leg-1 rules name their tenants with a multi-tenant Entra upstream")
struct EMATenantConfigurationTests {
    static let home = "9188040d-6c67-4c5b-b112-36a304b66dad"

    /// The `ema.policy[i].tenants` problems of an Entra upstream with `tenant` and one rule with `tenants`.
    static func problems(tenant: String, tenants: [String]?) -> [String] {
        var rule: [String: ConfigValue] = [
            "clients": .list([.string("mcp-client")]), "audience": .string("https://as-b.example.com"),
            "resources": .list([.string("https://mcp-b.example.com/mcp")]), "scopes": .list([.string("mcp")]),
            "client_id": .string("client-at-b"),
        ]
        if let tenants { rule["tenants"] = .list(tenants.map { .string($0) }) }
        guard
            case .map(var root) = EMAConfigurationTests.tree([
                "clients": .list([EMAConfigurationTests.client]), "issuer": .map(["enabled": .string("true")]), "policy": .list([.map(rule)]),
            ])
        else { return ["not a map"] }
        root["upstream"] = .map([
            "preset": .string("entra"), "tenant": .string(tenant), "client_id": .string("static"),
            "client_secret": .string("file-secret"), "scopes": .list([.string("openid")]),
        ])
        switch ConfigurationTests.load(.map(root)) {
        case .success: return []
        case .failure(let failure): return failure.problems.filter { $0.hasPrefix("ema.policy[0].tenants:") }
        }
    }

    @Test(
        "common, organizations, consumers: a rule without tenants is refused, naming the rule and the fix",
        arguments: ["common", "organizations", "consumers"])
    func multiTenant(_ tenant: String) {
        let problems = Self.problems(tenant: tenant, tenants: nil)
        #expect(problems.count == 1 && problems[0].contains("upstream.tenant") && problems[0].contains("Directory (tenant) IDs"), "\(problems)")
        #expect(Self.problems(tenant: tenant, tenants: [Self.home]).isEmpty)
        #expect(Self.problems(tenant: tenant, tenants: ["contoso.onmicrosoft.com"]).count == 1)
    }

    @Test("one tenant, by ID or by domain (pinned to its GUID issuer at start): tenants stay optional")
    func singleTenant() {
        #expect(Self.problems(tenant: Self.home, tenants: nil).isEmpty)
        #expect(Self.problems(tenant: "contoso.onmicrosoft.com", tenants: nil).isEmpty)
    }

    @Test(
        "what upstream.tenant names",
        arguments: [
            ("9188040D-6C67-4C5B-B112-36A304B66DAD", EntraTenant.id("9188040d-6c67-4c5b-b112-36a304b66dad")),
            ("contoso.onmicrosoft.com", .domain("contoso.onmicrosoft.com")),
            ("Common", .multiTenant("common")), ("organizations", .multiTenant("organizations")), ("consumers", .multiTenant("consumers")),
            ("9188040d-6c67-4c5b-b112-36a304b66dax", .domain("9188040d-6c67-4c5b-b112-36a304b66dax")),
            ("9188040d06c67-4c5b-b112-36a304b66dad", .domain("9188040d06c67-4c5b-b112-36a304b66dad")),
        ])
    func kinds(_ tenant: String, _ kind: EntraTenant) {
        #expect(EntraTenant(tenant) == kind)
    }

    @Test("the tenant GUID of an Entra v2 issuer, and only of that shape")
    func issuerTenant() {
        #expect(EntraTenant.tenantID(ofIssuer: "https://login.microsoftonline.com/\(Self.home)/v2.0") == Self.home)
        #expect(EntraTenant.tenantID(ofIssuer: "https://login.microsoftonline.com/{tenantid}/v2.0") == nil)
        #expect(EntraTenant.tenantID(ofIssuer: "https://login.microsoftonline.com/contoso.com/v2.0") == nil)
        #expect(EntraTenant.tenantID(ofIssuer: "https://login.microsoftonline.com/\(Self.home)/v2.0/") == nil)
        #expect(EntraTenant.tenantID(ofIssuer: "https://login.microsoftonline.com/x/\(Self.home)/v2.0") == nil)
        #expect(EntraTenant.tenantID(ofIssuer: "https://sts.windows.net/\(Self.home)/") == nil)
    }
}
