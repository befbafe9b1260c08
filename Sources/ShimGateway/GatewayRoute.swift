import Foundation
import Metrics
import ShimCore
import Synchronization

/// One gateway resource, resolved from configuration once at start: what
/// the proxy needs per request, precomputed.
struct GatewayRoute: Sendable {
    let resource: String
    /// The resource's path on the shim (`/mcp`).
    let path: String
    /// The MCP server's URL for that path, as configured.
    let upstreamBase: String
    /// RFC 9728 metadata, encoded once, and its URL (`resource_metadata`).
    let metadataBody: Data
    let metadataPath: String
    let metadataURL: String
    /// Scopes named in the 401 challenge (the resource's, never `offline_access`).
    let challengeScopes: [String]
    let requiredScopes: [String]
    let upstreamTokenHeader: String?
    let identityHeaders: Bool
    /// `downstream`: the APIs whose tokens the gateway obtains for the user and injects.
    let downstream: [DownstreamAPI]
    /// `identity_assertion`: send `X-DCR-Shim-Assertion`.
    let identityAssertion: Bool
    let allowedOrigins: Set<String>
    /// Per-resource metrics, made once (a lookup in the metrics registry per request is not free).
    let metrics: RouteMetrics

    /// Host names the gateway answers for (`HostPolicy`): the resource's and the issuer's.
    let hosts: Set<String>
    /// The gateway's own challenge, put on an MCP server's 401.
    let challenge: String

    /// Names the gateway sets itself; a client's copies are deleted first.
    var injectedNames: Set<String> {
        ProxyHeaderPolicy.injectedNames(upstreamTokenHeader: upstreamTokenHeader, downstreamHeaders: downstream.map(\.header))
    }

    init(_ gateway: GatewayResource, scopes: [String], issuer: String) {
        resource = gateway.resource
        let uri = RedirectURI(gateway.resource)
        path = uri?.path ?? "/"
        upstreamBase = gateway.upstream
        let metadata = ProtectedResourceMetadata(resource: gateway.resource, issuer: issuer, scopes: scopes)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        metadataBody = (try? encoder.encode(metadata)) ?? Data()
        metadataPath = ProtectedResourceMetadata.path(for: gateway.resource) ?? "/.well-known/oauth-protected-resource"
        metadataURL = ProtectedResourceMetadata.url(for: gateway.resource) ?? issuer
        challengeScopes = metadata.scopesSupported
        requiredScopes = gateway.requiredScopes
        upstreamTokenHeader = gateway.upstreamTokenHeader
        identityHeaders = gateway.identityHeaders
        downstream = gateway.downstream
        identityAssertion = gateway.identityAssertion
        let configured = gateway.allowedOrigins.compactMap(OriginPolicy.normalise)
        allowedOrigins = Set(
            configured.isEmpty
                ? [OriginPolicy.origin(of: gateway.resource), OriginPolicy.origin(of: issuer)].compactMap { $0 }
                : configured)
        hosts = Set([gateway.resource, issuer].compactMap { RedirectURI($0)?.host.lowercased() })
        challenge = BearerChallenge.header(resourceMetadata: metadataURL, scope: challengeScopes)
        metrics = RouteMetrics(resource: gateway.resource)
    }

    /// The MCP server's URL for a request path at or below `path`, with its
    /// query; nil for a path that could leave the resource (`GatewayPath`).
    func upstreamURL(requestPath: String, query: String?) -> String? {
        guard let suffix = GatewayPath.suffix(requestPath, below: path) else { return nil }
        let base = suffix.isEmpty || !upstreamBase.hasSuffix("/") ? upstreamBase : String(upstreamBase.dropLast())
        return base + suffix + (query.map { $0.isEmpty ? "" : "?" + $0 } ?? "")
    }
}

/// `dcr_shim_gateway_requests_total{resource,status}` and
/// `dcr_shim_gateway_response_seconds{resource}` (time to the response head).
final class RouteMetrics: Sendable {
    let resource: String
    let latency: Timer
    private let counters = Mutex<[Int: Counter]>([:])

    init(resource: String) {
        self.resource = resource
        latency = Timer(label: "dcr_shim_gateway_response_seconds", dimensions: [("resource", resource)])
    }

    func record(status: Int, nanoseconds: Int64) {
        let counter = counters.withLock { cache in
            if let counter = cache[status] { return counter }
            let counter = Counter(label: "dcr_shim_gateway_requests_total", dimensions: [("resource", resource), ("status", String(status))])
            cache[status] = counter
            return counter
        }
        counter.increment()
        latency.recordNanoseconds(nanoseconds)
    }
}
