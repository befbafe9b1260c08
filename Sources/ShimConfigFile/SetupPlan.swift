public import ShimCore

/// What `dcr-shim init` asks, once every answer is in.
public struct SetupAnswers: Sendable, Equatable {
    /// Whether the shim fronts the MCP server (gateway: `resources[].upstream`)
    /// or only issues tokens the MCP server checks itself.
    public enum Mode: String, Sendable, Equatable, CaseIterable {
        case gateway, issue
    }

    public var preset: UpstreamPreset
    /// `upstream.tenant` (entra).
    public var tenant: String?
    /// `upstream.issuer` (every preset but entra, google and github).
    public var upstreamIssuer: String?
    /// `upstream.audience` (auth0).
    public var audience: String?
    public var clientID: String
    /// The shim's public base URL (`issuer`).
    public var issuer: String
    /// The MCP server's URL: the gateway's upstream, or the resource itself.
    public var mcpURL: String
    public var mode: Mode
    /// `resources[0].scopes`.
    public var scopes: [String]
    /// `redirects.clients`.
    public var clients: [String]
    /// `upstream.client_secret_file`: init writes the path, never the secret.
    public var secretFile: String

    public init(
        preset: UpstreamPreset, tenant: String? = nil, upstreamIssuer: String? = nil, audience: String? = nil, clientID: String,
        issuer: String, mcpURL: String, mode: Mode, scopes: [String], clients: [String], secretFile: String
    ) {
        self.preset = preset
        self.tenant = tenant
        self.upstreamIssuer = upstreamIssuer
        self.audience = audience
        self.clientID = clientID
        self.issuer = issuer
        self.mcpURL = mcpURL
        self.mode = mode
        self.scopes = scopes
        self.clients = clients
        self.secretFile = secretFile
    }

    /// The path a gateway resource is served at, below the issuer.
    public static let gatewayPath = "/mcp"

    /// `resources[0].resource`: the gateway's own URL, or the MCP server's.
    public var resource: String {
        mode == .gateway ? Self.trimmedSlash(issuer) + Self.gatewayPath : mcpURL
    }

    /// `tokens.access`: a gateway validates the shim's own tokens; Google's
    /// and GitHub's access tokens are not bound to the MCP server
    /// (docs/security-rules.md, audience binding), so those get issued ones too.
    public var accessTokens: String {
        mode == .gateway || [.google, .github].contains(preset) ? "issued" : "upstream"
    }

    /// Entra's scope for the API when none is given: the app's own
    /// Application ID URI (`api://<client id>`) and `access_as_user`.
    public static func defaultEntraScope(clientID: String) -> String {
        "api://\(clientID)/access_as_user"
    }

    /// Which questions a preset needs.
    public static func needsTenant(_ preset: UpstreamPreset) -> Bool { preset == .entra }
    public static func needsUpstreamIssuer(_ preset: UpstreamPreset) -> Bool { ![.entra, .google, .github].contains(preset) }
    public static func needsAudience(_ preset: UpstreamPreset) -> Bool { preset == .auth0 }

    static func trimmedSlash(_ url: String) -> String {
        url.hasSuffix("/") ? String(url.dropLast()) : url
    }
}

/// The configuration `dcr-shim init` writes and what it tells the operator
/// to register at the IdP: pure functions of the answers.
public enum SetupPlan {
    /// The commented YAML configuration.
    public static func yaml(_ a: SetupAnswers) -> String {
        var lines: [String] = [
            "# dcr-shim configuration written by `dcr-shim init`.",
            "# Check it with `dcr-shim check-config --config <this file>`; every key is in docs/configuration.md.",
            "",
            "# The shim's public base URL: clients discover it at <issuer>/.well-known/oauth-authorization-server.",
            "issuer: \(quoted(a.issuer))",
            "",
            "listen:",
            "  host: \"0.0.0.0\"",
            "  port: 8080",
            "",
            "# The identity provider the shim signs users in with.",
            "upstream:",
            "  preset: \(a.preset.rawValue)",
        ]
        if let tenant = a.tenant, SetupAnswers.needsTenant(a.preset) {
            lines.append("  # The Directory (tenant) ID or a verified domain of the tenant.")
            lines.append("  tenant: \(quoted(tenant))")
        }
        if let issuer = a.upstreamIssuer, SetupAnswers.needsUpstreamIssuer(a.preset) {
            lines.append("  # Discovery: <issuer>/.well-known/openid-configuration.")
            lines.append("  issuer: \(quoted(issuer))")
        }
        if let audience = a.audience, SetupAnswers.needsAudience(a.preset) {
            lines.append("  # The Identifier of your API in Auth0: Auth0 issues access tokens for it.")
            lines.append("  audience: \(quoted(audience))")
        }
        lines += [
            "  # The application registered at the IdP for the shim.",
            "  client_id: \(quoted(a.clientID))",
            "  # The client secret is read from this file (one line, mode 0600); init never writes the secret itself.",
            "  client_secret_file: \(quoted(a.secretFile))",
            "",
            "# The MCP server clients get tokens for.",
            "resources:",
            "  - resource: \(quoted(a.resource))",
            "    scopes: [\(a.scopes.map(quoted).joined(separator: ", "))]",
        ]
        if a.mode == .gateway {
            lines.append("    # Gateway mode: the shim serves \(SetupAnswers.gatewayPath) itself and forwards checked requests here.")
            lines.append("    upstream: \(quoted(a.mcpURL))")
        }
        lines += [
            "",
            "# Which MCP clients may register (their redirect URIs): see docs/configuration.md, redirects.clients.",
            "redirects:",
            "  clients: [\(a.clients.map(quoted).joined(separator: ", "))]",
            "",
            "tokens:",
        ]
        if a.accessTokens == "issued" {
            lines.append(
                a.mode == .gateway
                    ? "  # The gateway checks the shim's own access tokens (RFC 9068 JWTs, keys at <issuer>/jwks.json)."
                    : "  # The shim's own access tokens (RFC 9068 JWTs, keys at <issuer>/jwks.json): \(a.preset.rawValue)'s are not bound to the MCP server."
            )
        } else {
            lines.append("  # Clients get the IdP's access token for the API; the MCP server checks it against the IdP.")
        }
        lines += [
            "  access: \(a.accessTokens)",
            "",
            "# Grants and registrations; postgres://... for several replicas (docs/configuration.md, storage.url).",
            "storage:",
            "  url: \"sqlite://./dcr-shim.db\"",
            "",
        ]
        return lines.joined(separator: "\n")
    }

    /// A YAML double-quoted scalar (YAML 1.2 §7.3.1): any answer, written
    /// as text, never read as another type or as YAML syntax.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// The problems `check-config` would report for the generated text (no
    /// environment, no flags), with the secret file read as present: init
    /// writes its path before the operator puts the secret there.
    public static func problems(yaml text: String, secretFile: String, readFile: @escaping (String) throws -> String) -> [String] {
        let tree: ConfigValue
        do { tree = try YAMLConfiguration.tree(yaml: text) } catch { return error.problems }
        let read: (String) throws -> String = { path in path == secretFile ? "secret-to-come" : try readFile(path) }
        switch ShimConfiguration.load(file: tree, environment: [:], flags: [:], readFile: read) {
        case .success: return []
        case .failure(let problems): return problems.problems
        }
    }

    /// What to register at the IdP. `scopeID` is the new scope's id (a
    /// fresh UUID) for the Azure CLI commands.
    public static func registration(_ a: SetupAnswers, scopeID: String) -> String {
        let callback = SetupAnswers.trimmedSlash(a.issuer) + "/callback"
        var lines: [String] = []
        if a.preset == .entra {
            let api = a.scopes.first { $0.contains("://") }
            let slash = api?.lastIndex(of: "/")
            let applicationIDURI = slash.map { String(api![..<$0]) } ?? "api://\(a.clientID)"
            let scopeName = slash.map { String(api![api!.index(after: $0)...]) } ?? "access_as_user"
            let exposes = scopeName != ".default" && applicationIDURI == "api://\(a.clientID)"
            lines += [
                "Register at Microsoft Entra ID (app registration \(a.clientID), tenant \(a.tenant ?? "")):",
                "  Redirect URI (platform Web):  \(callback)",
                "  Application ID URI:           \(applicationIDURI)",
                "  Scope (Expose an API):        \(scopeName)  ->  \(api ?? applicationIDURI + "/" + scopeName)",
                "  API permissions (delegated):  \(applicationIDURI)/\(scopeName); Microsoft Graph openid, profile, offline_access",
                "  Client secret:                into \(a.secretFile) (one line, chmod 600)",
                "",
                "With the Azure CLI (after `az login --tenant \(a.tenant ?? "")`):",
                "  az ad app update --id \(a.clientID) --web-redirect-uris \(callback)",
            ]
            if exposes {
                let body =
                    #"{"api":{"requestedAccessTokenVersion":2,"oauth2PermissionScopes":[{"id":"\#(scopeID)","value":"\#(scopeName)","type":"User","isEnabled":true,"#
                    + #""adminConsentDisplayName":"Access the MCP server","adminConsentDescription":"Call the MCP server as the signed-in user.","#
                    + #""userConsentDisplayName":"Access the MCP server","userConsentDescription":"Call the MCP server as you."}]}}"#
                lines += [
                    "  az ad app update --id \(a.clientID) --identifier-uris \(applicationIDURI)",
                    "  az rest --method PATCH --uri \"https://graph.microsoft.com/v1.0/applications(appId='\(a.clientID)')\" --headers Content-Type=application/json --body '\(body)'",
                    "  az ad app permission add --id \(a.clientID) --api \(a.clientID) --api-permissions \(scopeID)=Scope",
                ]
            } else {
                lines.append(
                    "  (the API \(applicationIDURI) is another app registration: add its \(scopeName) permission with az ad app permission add --api <its app id>)"
                )
            }
            lines += [
                // Microsoft Graph's delegated permission ids: openid, profile, offline_access.
                "  az ad app permission add --id \(a.clientID) --api 00000003-0000-0000-c000-000000000000 --api-permissions 37f7f235-527c-4136-accd-4a02d197296e=Scope 14dad69e-099b-42c9-810b-d002981feec1=Scope 7427e0e9-2fba-42fe-b0c0-848c9e6a8182=Scope",
                "  az ad sp create --id \(a.clientID)    # once: the app's service principal in the tenant (fails harmlessly if it exists)",
                "  az ad app permission admin-consent --id \(a.clientID)",
                "  (umask 077; az ad app credential reset --id \(a.clientID) --append --display-name dcr-shim --years 1 --query password -o tsv > \(a.secretFile))",
                "  Without a secret: a certificate (az ad app credential reset --id \(a.clientID) --append --cert @<certificate.pem>) or a federated",
                "  credential; see docs/entra-and-presets.md, Entra without secrets.",
            ]
        } else {
            let upstreamScopes = a.preset.defaultScopes + a.scopes.filter { !a.preset.defaultScopes.contains($0) }
            lines += [
                "Register at the identity provider (\(a.preset.rawValue), client \(a.clientID)):",
                "  Redirect URI:   \(callback)",
                "  Application:    a confidential (web) client: authorization code with PKCE, authenticated by a client secret",
                "  Scopes:         \(upstreamScopes.isEmpty ? "(none)" : upstreamScopes.joined(separator: " "))",
                "  Client secret:  into \(a.secretFile) (one line, chmod 600)",
            ]
        }
        if a.mode == .gateway {
            lines += ["", "MCP clients connect to \(a.resource); the shim forwards to \(a.mcpURL)."]
        } else if a.accessTokens == "issued" {
            lines += [
                "", "MCP clients connect to \(a.mcpURL), which checks the shim's tokens against \(SetupAnswers.trimmedSlash(a.issuer))/jwks.json.",
            ]
        } else {
            lines += ["", "MCP clients connect to \(a.mcpURL), which checks the IdP's access tokens; the shim issues them."]
        }
        return lines.joined(separator: "\n")
    }
}
