import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ShimCore
import Tracing

/// The `federated` client assertion: a token another issuer signed, which
/// Entra trusts through a federated identity credential on the app
/// registration ("workload identity federation").
///
/// - a token file, read again for every request: the kubelet (AKS workload
///   identity, any Kubernetes projected service account token) rotates it
///   in place, so a cached copy would go stale;
/// - a managed identity: the Azure instance metadata endpoint
///   (`http://169.254.169.254/metadata/identity/oauth2/token`, `Metadata: true`),
///   or, where the platform sets `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`
///   (Azure Container Apps, App Service), that endpoint with
///   `X-IDENTITY-HEADER`; asked for `api://AzureADTokenExchange`, kept until
///   shortly before it expires. The one link-local address the shim calls,
///   and only because the operator named `managed_identity`.
actor FederatedTokenSource {
    enum Origin: Sendable, Equatable {
        case file(String)
        case managedIdentity(clientID: String?)
    }

    let origin: Origin
    let httpClient: HTTPClient
    let clock: any ShimClock
    let environment: [String: String]
    let metadataEndpoint: String
    let readFile: @Sendable (String) throws -> String
    var cached: (token: String, refreshAt: Date)?

    /// The instance metadata service's token endpoint (Azure VMs, AKS node identity).
    static let metadataEndpoint = "http://169.254.169.254/metadata/identity/oauth2/token"
    /// A token is asked for again this long before its `exp`.
    static let refreshMarginSeconds: TimeInterval = 300

    init(
        origin: Origin, httpClient: HTTPClient, clock: any ShimClock = SystemClock(),
        environment: [String: String] = ProcessInfo.processInfo.environment, metadataEndpoint: String = FederatedTokenSource.metadataEndpoint,
        readFile: @escaping @Sendable (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) }
    ) {
        self.origin = origin
        self.httpClient = httpClient
        self.clock = clock
        self.environment = environment
        self.metadataEndpoint = metadataEndpoint
        self.readFile = readFile
    }

    /// Where the token comes from, for logs and doctor (never the token).
    nonisolated var source: String {
        switch origin {
        case .file(let path): "the token file \(path)"
        case .managedIdentity(let clientID): "the managed identity\(clientID.map { " \($0)" } ?? " (system-assigned)")"
        }
    }

    func token() async throws(OAuthError) -> String {
        switch origin {
        case .file(let path):
            let text: String
            do { text = try readFile(path) } catch {
                throw OAuthError(
                    .serverError, "the server cannot authenticate to the identity provider", detail: "cannot read the federated token file \(path)",
                    status: 500)
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard token.split(separator: ".").count == 3 else {
                throw OAuthError(
                    .serverError, "the server cannot authenticate to the identity provider", detail: "\(path) holds no JWT", status: 500)
            }
            return token
        case .managedIdentity(let clientID):
            if let cached, clock.now() < cached.refreshAt { return cached.token }
            let (token, expires) = try await fromManagedIdentity(clientID: clientID)
            cached = (token, expires.addingTimeInterval(-Self.refreshMarginSeconds))
            return token
        }
    }

    struct MetadataAnswer: Decodable {
        var access_token: String?
        /// Seconds since the epoch, as a string (IMDS) or a number.
        var expires_on: Flexible?
        var expires_in: Flexible?

        struct Flexible: Decodable {
            var value: Double?
            init(from decoder: any Decoder) throws {
                let single = try decoder.singleValueContainer()
                value = (try? single.decode(Double.self)) ?? (try? single.decode(String.self)).flatMap(Double.init)
            }
        }
    }

    func fromManagedIdentity(clientID: String?) async throws(OAuthError) -> (String, Date) {
        let resource = UpstreamClientAuthentication.azureTokenExchangeAudience
        var request: HTTPClientRequest
        if let endpoint = environment["IDENTITY_ENDPOINT"], let secret = environment["IDENTITY_HEADER"], !endpoint.isEmpty {
            // https://learn.microsoft.com/azure/container-apps/managed-identity#rest-endpoint-reference
            var pairs = [("api-version", "2019-08-01"), ("resource", resource)]
            if let clientID { pairs.append(("client_id", clientID)) }
            request = HTTPClientRequest(url: endpoint + (endpoint.contains("?") ? "&" : "?") + FormEncoding.encode(pairs))
            request.headers.add(name: "X-IDENTITY-HEADER", value: secret)
        } else {
            // https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token#get-a-token-using-http
            var pairs = [("api-version", "2018-02-01"), ("resource", resource)]
            if let clientID { pairs.append(("client_id", clientID)) }
            request = HTTPClientRequest(url: metadataEndpoint + "?" + FormEncoding.encode(pairs))
            request.headers.add(name: "Metadata", value: "true")
        }
        let unavailable = { (detail: String) in
            OAuthError(.temporarilyUnavailable, "the server cannot authenticate to the identity provider; try again later", detail: detail)
        }
        let status: Int
        let body: Data
        do {
            (status, body) = try await withSpan("idp managed identity token") { span in
                span.attributes["dcr_shim.idp.operation"] = "managed identity token"
                let response = try await httpClient.execute(request, timeout: .seconds(10))
                span.attributes["http.response.status_code"] = Int(response.status.code)
                return (Int(response.status.code), Data(try await response.body.collect(upTo: 1 << 16).readableBytesView))
            }
        } catch {
            throw unavailable("the managed identity endpoint cannot be reached: \(error)")
        }
        guard status == 200, let answer = try? JSONDecoder().decode(MetadataAnswer.self, from: body), let token = answer.access_token,
            !token.isEmpty
        else {
            throw unavailable("the managed identity endpoint answered \(status) without a token")
        }
        let now = clock.now()
        let expires =
            answer.expires_on?.value.map { Date(timeIntervalSince1970: $0) }
            ?? answer.expires_in?.value.map { now.addingTimeInterval($0) } ?? now.addingTimeInterval(Self.refreshMarginSeconds * 2)
        return (token, expires)
    }
}
