import ShimCore
import ShimTesting
import Testing

@testable import ShimUpstream

/// Every IdP error reaches the operator as a sentence that says what to
/// fix (threat T25): Entra's common AADSTS codes each with the portal step,
/// and a message the user can act on that never repeats the IdP's own text.
@Suite("Entra AADSTS errors: the client's message and the operator's fix")
struct EntraErrorTests {
    static let context = FailureContext(
        config: UpstreamConfiguration(
            preset: .entra, tenant: "contoso.onmicrosoft.com", issuer: nil, authorizationEndpoint: nil, tokenEndpoint: nil,
            revocationEndpoint: nil, clientID: "11111111-1111-1111-1111-111111111111", clientSecret: "s",
            tokenEndpointAuthMethod: "client_secret_post", scopes: [], extraAuthorizeParams: [:], extraTokenParams: [:], timeoutSeconds: 10),
        callbackURL: "https://auth.example.com/callback")

    /// (code, phase, error, the client's OAuth error, words the fix must contain)
    static let cases: [(Int, UpstreamErrorReport.Phase, String, OAuthError.Code, [String])] = [
        (50011, .authorization, "invalid_request", .serverError, ["Authentication", "Web", "Redirect URIs", "https://auth.example.com/callback"]),
        (65001, .authorization, "consent_required", .accessDenied, ["API permissions", "Grant admin consent"]),
        (65001, .codeExchange, "invalid_grant", .accessDenied, ["API permissions", "Grant admin consent"]),
        (70011, .authorization, "invalid_scope", .serverError, ["fully qualified", ".default", "Expose an API"]),
        (28000, .codeExchange, "invalid_request", .serverError, ["one API"]),
        (9_010_010, .authorization, "invalid_request", .serverError, ["resource", "extra_authorize_params"]),
        (901002, .codeExchange, "invalid_request", .serverError, ["resource", "extra_token_params"]),
        (700016, .authorization, "unauthorized_client", .serverError, ["Application (client) ID", "Directory (tenant) ID", "Overview"]),
        (7_000_215, .codeExchange, "invalid_client", .serverError, ["Certificates & secrets", "Value", "Secret ID"]),
        (7_000_215, .refresh, "invalid_client", .serverError, ["Certificates & secrets"]),
        (7_000_222, .refresh, "invalid_client", .serverError, ["expired", "New client secret"]),
        (50076, .refresh, "invalid_grant", .invalidGrant, ["Conditional Access"]),
        (50079, .refresh, "invalid_grant", .invalidGrant, ["https://aka.ms/mfasetup"]),
        (700082, .refresh, "invalid_grant", .invalidGrant, ["90 days", "tokens.refresh_ttl"]),
        (70008, .codeExchange, "invalid_grant", .accessDenied, ["10 minutes", "clock"]),
        (70008, .refresh, "invalid_grant", .invalidGrant, ["signs in again"]),
        (90009, .codeExchange, "invalid_request", .serverError, ["api://11111111-1111-1111-1111-111111111111/", "separate app registration"]),
        (50194, .authorization, "invalid_request", .serverError, ["upstream.tenant", "Supported account types"]),
        (90002, .authorization, "invalid_request", .serverError, ["contoso.onmicrosoft.com", "verified domain"]),
    ]

    @Test("each AADSTS code: the client's error, and the fix with its portal step", arguments: 0..<cases.count)
    func catalogue(_ index: Int) {
        let (code, phase, error, clientCode, words) = Self.cases[index]
        let idpText = "AADSTS\(code): something Entra said. Trace ID: 0b1c Correlation ID: 9f2e Timestamp: 2026-11-30"
        let report = UpstreamErrorReport(
            phase: phase, status: phase == .authorization ? nil : 400, error: error,
            description: idpText, providerCodes: index.isMultiple(of: 2) ? [code] : [])
        let failure = IdPProfile.of(.entra).explain(report, context: Self.context)
        #expect(failure.providerCode == "AADSTS\(code)")
        #expect(failure.error.code == clientCode)
        #expect(failure.operatorHint.hasPrefix("Entra AADSTS\(code): "))
        for word in words { #expect(failure.operatorHint.contains(word), "AADSTS\(code) fix lacks \(word): \(failure.operatorHint)") }
        // The client never sees the IdP's own text, nor the operator's hint.
        #expect(!failure.error.description.contains("AADSTS") && !failure.error.description.contains("Trace ID"))
        #expect(!failure.error.description.contains("Certificates"))
        #expect(failure.error.detail?.contains("AADSTS\(code)") == true)
    }

    @Test("the code is read from error_codes, else from \"AADSTS<n>:\" in the description; an unknown code still gets a lookup link")
    func codeParsing() {
        #expect(EntraErrors.code(of: UpstreamErrorReport(phase: .refresh, status: 400, error: "x", description: "", providerCodes: [50076])) == 50076)
        #expect(
            EntraErrors.code(
                of: UpstreamErrorReport(phase: .refresh, status: 400, error: "x", description: "AADSTS700082: The refresh token has expired"))
                == 700082)
        #expect(EntraErrors.code(of: UpstreamErrorReport(phase: .refresh, status: 400, error: "x", description: "no code here")) == nil)
        #expect(EntraErrors.code(of: UpstreamErrorReport(phase: .refresh, status: 400, error: "x", description: "AADSTS")) == nil)
        let unknown = IdPProfile.of(.entra).explain(
            UpstreamErrorReport(phase: .codeExchange, status: 400, error: "invalid_client", description: "AADSTS123456: new"), context: Self.context)
        #expect(unknown.providerCode == "AADSTS123456")
        #expect(unknown.operatorHint.contains("https://login.microsoftonline.com/error?code=123456"))
        #expect(unknown.operatorHint.contains("Certificates & secrets"))  // the generic invalid_client fix, in Entra's words
        #expect(unknown.error.code == .serverError)
    }

    @Test("5xx from Entra is temporarily_unavailable whatever the body says")
    func unavailable() {
        let failure = IdPProfile.of(.entra).explain(
            UpstreamErrorReport(phase: .refresh, status: 503, error: "temporarily_unavailable", description: ""), context: Self.context)
        #expect(failure.error.code == .temporarilyUnavailable)
    }
}
