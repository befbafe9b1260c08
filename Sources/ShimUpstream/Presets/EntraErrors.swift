import Foundation

/// Microsoft Entra ID's AADSTS codes the shim meets, each with the portal
/// step that fixes it. Codes and texts:
/// https://learn.microsoft.com/entra/identity-platform/reference-error-codes
/// (the console is the Microsoft Entra admin center, https://entra.microsoft.com;
/// "the app" is the registration whose client id is `upstream.client_id`).
///
/// Entra answers `{"error": …, "error_description": "AADSTS50011: …",
/// "error_codes": [50011], …}` at its token endpoint and `error`,
/// `error_description` on its redirect; some (50011, 700016) it shows on its
/// own page and never redirects: `dcr-shim doctor` finds those.
enum EntraErrors {
    struct Entry: Sendable {
        var code: Int
        var kind: FailureKind
        var message: String?
        /// The fix; `{callback}`, `{client}` and `{tenant}` are filled in.
        var fix: String
    }

    static let app = "Entra admin center → App registrations → the app ({client})"

    static let table: [Entry] = [
        Entry(
            code: 50011, kind: .configuration, message: nil,
            fix: "the redirect URI is not registered: \(app) → Authentication → Add a platform → Web → Redirect URIs: add exactly {callback}"),
        Entry(
            code: 500113, kind: .configuration, message: nil,
            fix: "no reply address is registered: \(app) → Authentication → Add a platform → Web → add {callback}"),
        Entry(
            code: 65001, kind: .consent, message: nil,
            fix:
                "consent is missing: \(app) → API permissions → add the API's scope and openid, profile, offline_access → Grant admin consent for the tenant (or the user consents at sign-in, if the tenant allows it)"
        ),
        Entry(
            code: 70011, kind: .configuration, message: nil,
            fix:
                "a scope is invalid: each resources[].scopes entry must be fully qualified (api://<Application ID URI>/<scope>, from the API app's Expose an API), of ONE API, and .default must not be mixed with named scopes"
        ),
        Entry(
            code: 28000, kind: .configuration, message: nil,
            fix:
                "the scopes name more than one resource: each resources[] entry must list scopes of one API only (openid, profile, offline_access aside)"
        ),
        Entry(
            code: 28003, kind: .configuration, message: nil,
            fix: "the scope is empty: give resources[].scopes for the resource (api://<Application ID URI>/<scope>)"),
        Entry(
            code: 901002, kind: .configuration, message: nil,
            fix:
                "Entra's v2 endpoints refuse the `resource` parameter: remove it from upstream.extra_authorize_params / extra_token_params; the API is named by its scopes"
        ),
        Entry(
            code: 9_010_010, kind: .configuration, message: nil,
            fix:
                "`resource` does not match the scopes: remove `resource` from upstream.extra_authorize_params / extra_token_params; the API is named by its scopes"
        ),
        Entry(
            code: 700016, kind: .configuration, message: nil,
            fix:
                "the application is not found in the tenant: upstream.client_id must be the Application (client) ID and upstream.tenant the Directory (tenant) ID shown on \(app) → Overview"
        ),
        Entry(
            code: 7_000_215, kind: .configuration, message: nil,
            fix:
                "the client secret is wrong: \(app) → Certificates & secrets → New client secret; put its Value (not its Secret ID) in upstream.client_secret_file"
        ),
        Entry(
            code: 7_000_222, kind: .configuration, message: nil,
            fix: "the client secret has expired: \(app) → Certificates & secrets → New client secret; update upstream.client_secret_file"),
        // https://learn.microsoft.com/entra/identity-platform/reference-error-codes: client assertions.
        Entry(
            code: 700027, kind: .configuration, message: nil,
            fix:
                "the client assertion failed validation: the certificate is not registered on the app (\(app) → Certificates & secrets → Certificates, or az ad app credential reset --id <client_id> --cert @cert.pem --append), or the key is not the certificate's"
        ),
        Entry(
            code: 700024, kind: .configuration, message: nil,
            fix: "the client assertion is outside its valid time range: the shim's clock is wrong (check NTP), or the federated token expired"),
        Entry(
            code: 700023, kind: .configuration, message: nil,
            fix: "the client assertion's audience is wrong: it must be the token endpoint (private_key_jwt) or api://AzureADTokenExchange (federated)"
        ),
        Entry(
            code: 70021, kind: .configuration, message: nil,
            fix:
                "no federated credential on the app matches the token's issuer, subject and audience: \(app) → Certificates & secrets → Federated credentials (az ad app federated-credential list --id <client_id>)"
        ),
        Entry(
            code: 700212, kind: .configuration, message: nil,
            fix: "the federated token has no audience Entra accepts: it must be api://AzureADTokenExchange"),
        Entry(
            code: 50076, kind: .signInAgain, message: "the identity provider requires multi-factor authentication; sign in again",
            fix:
                "a Conditional Access policy now requires MFA: the user signs in again (nothing to fix unless the policy should not apply: Entra admin center → Protection → Conditional Access)"
        ),
        Entry(
            code: 50079, kind: .signInAgain, message: "the identity provider requires you to set up multi-factor authentication; sign in again",
            fix: "the user must register for MFA (https://aka.ms/mfasetup), then sign in again"),
        Entry(
            code: 700082, kind: .signInAgain, message: "your sign-in has expired after a long inactivity; sign in again",
            fix: "Entra's refresh token expired after 90 days of inactivity: the user signs in again (tokens.refresh_ttl can end grants earlier)"),
        Entry(
            code: 70008, kind: .signInAgain, message: nil,
            fix:
                "the code or refresh token expired: for a code, the callback came too late (the sign-in took over 10 minutes, or the shim's clock is wrong); for a refresh, the user signs in again"
        ),
        Entry(
            code: 54005, kind: .signInAgain, message: nil,
            fix: "the code was already redeemed: a replayed callback; the user starts again"),
        Entry(
            code: 50148, kind: .configuration, message: nil,
            fix:
                "PKCE verifier mismatch: the callback reached the wrong shim replica or its store lost the transaction; check that replicas share storage.url"
        ),
        Entry(
            code: 90009, kind: .configuration, message: nil,
            fix:
                "the app asks a token for itself: the MCP API is exposed by this same app registration; name its scopes by the GUID form (api://{client}/<scope>) or expose the API from a separate app registration"
        ),
        Entry(
            code: 50194, kind: .configuration, message: nil,
            fix:
                "the app is single-tenant but upstream.tenant is common/organizations: set upstream.tenant to the Directory (tenant) ID, or make the app multi-tenant (\(app) → Authentication → Supported account types)"
        ),
        Entry(
            code: 90002, kind: .configuration, message: nil,
            fix:
                "tenant {tenant} is not found: upstream.tenant must be the Directory (tenant) ID or a verified domain such as contoso.onmicrosoft.com"
        ),
        Entry(
            code: 500011, kind: .configuration, message: nil,
            fix:
                "the API named by resources[].scopes is not in the tenant: check its Application ID URI (API app → Expose an API) and grant admin consent in this tenant"
        ),
        Entry(
            code: 650057, kind: .configuration, message: nil,
            fix:
                "the app has no permission for the API: \(app) → API permissions → Add a permission → My APIs → the API → its scope; then grant admin consent"
        ),
        Entry(
            code: 50105, kind: .consent, message: "your account is not assigned to this application; ask an administrator",
            fix:
                "the user is not assigned: Entra admin center → Enterprise applications → the app → Users and groups → Add user/group (or turn off Assignment required)"
        ),
    ]

    static func entry(_ code: Int) -> Entry? { table.first { $0.code == code } }

    /// The AADSTS code of a report: `error_codes[0]`, else "AADSTS<n>" in the description.
    static func code(of report: UpstreamErrorReport) -> Int? {
        if let first = report.providerCodes.first { return first }
        guard let range = report.description.range(of: "AADSTS") else { return nil }
        let digits = report.description[range.upperBound...].prefix { $0.isASCII && $0.isNumber }
        return Int(digits.prefix(9))
    }

    static func explain(_ report: UpstreamErrorReport, context: FailureContext) -> UpstreamFailure? {
        guard let code = code(of: report) else { return nil }
        let name = "AADSTS\(code)"
        let detail = "upstream \(report.phase.rawValue): \(name) (\(report.error))"
        guard let entry = entry(code) else {
            let kind = GenericErrors.kind(report)
            return UpstreamFailure(
                providerCode: name, error: kind.clientError(report.phase, message: nil, detail: detail),
                operatorHint: "Entra \(name): look it up at https://login.microsoftonline.com/error?code=\(code) — "
                    + GenericErrors.fix(report, context: context))
        }
        let fix = entry.fix.replacingOccurrences(of: "{callback}", with: context.callbackURL)
            .replacingOccurrences(of: "{client}", with: context.clientID).replacingOccurrences(of: "{tenant}", with: context.tenant ?? "")
        return UpstreamFailure(
            providerCode: name, error: entry.kind.clientError(report.phase, message: entry.message, detail: detail),
            operatorHint: "Entra \(name): \(fix)")
    }
}
