import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ShimCore
import ShimStorage
import ShimUpstream

/// RFC 8414 authorization server metadata (also served as the OIDC
/// discovery document, which MCP clients try too).
enum MetadataEndpoint {
    static func document(_ services: ShimServices) -> [String: Any] {
        var document = core(services)
        if services.signingKeys != nil {
            // RFC 8414 §2: where the keys of issued tokens are (RFC 9068 §4
            // has resource servers fetch them from the issuer's metadata).
            document["jwks_uri"] = services.issuer + "/jwks.json"
        }
        document["grant_types_supported"] = services.tokenEndpoint.supportedGrantTypes.map(\.rawValue)
        if services.config.ema.acceptsAssertions {
            // The draft §9.2: a resource AS that processes ID-JAGs (it also lists jwt-bearer above).
            document["authorization_grant_profiles_supported"] = [EMAProtocol.grantProfile]
        }
        if services.config.ema.issuer.enabled {
            // The draft §9.1 (identity chaining): the token types this server issues by token exchange.
            document["identity_chaining_requested_token_types_supported"] = [EMAProtocol.idJAGTokenType]
        }
        if services.config.accessTokenMode == .issued {
            // RFC 8414 §2 (RFC 7662): introspection for configured resource servers.
            document["introspection_endpoint"] = services.issuer + "/introspect"
            document["introspection_endpoint_auth_methods_supported"] = ["client_secret_basic", "client_secret_post"]
        }
        return document
    }

    static func core(_ services: ShimServices) -> [String: Any] {
        let issuer = services.issuer
        let authMethods = RegisteredClient.AuthMethod.allCases.map(\.rawValue)
        return [
            "issuer": issuer,
            "authorization_endpoint": issuer + "/authorize",
            "token_endpoint": issuer + "/token",
            "registration_endpoint": issuer + "/register",
            "revocation_endpoint": issuer + "/revoke",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": authMethods,
            "revocation_endpoint_auth_methods_supported": authMethods,
            "scopes_supported": services.resourcePolicy.supportedScopes,
            // RFC 9207: the client can check that a response came from this issuer.
            "authorization_response_iss_parameter_supported": true,
            // draft-ietf-oauth-client-id-metadata-document §5: clients (Claude Code,
            // VS Code, the MCP SDKs) present a document URL as client_id when this is true.
            "client_id_metadata_document_supported": services.cimdPolicy.enabled,
        ]
    }

    /// The document never changes while the process runs: it is encoded
    /// once, at start, and served from the same bytes.
    static func handle(_ services: ShimServices) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "public, max-age=300"],
                 body: .init(byteBuffer: services.metadataBody))
    }

    static func encoded(_ services: ShimServices) -> ByteBuffer {
        let data = (try? JSONSerialization.data(withJSONObject: document(services), options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return ByteBuffer(bytes: data)
    }
}

/// `/metrics`: Prometheus text format (HTTP requests per route and status,
/// audit events by kind, upstream calls by outcome and their latency).
/// `/healthz`: the process serves. `/readyz`: the store answers and the
/// IdP's endpoints are known.
enum HealthEndpoint {
    static func metrics(_ services: ShimServices) -> Response {
        guard let registry = services.metricsRegistry else { return Response(status: .notFound) }
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                        body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }

    static func live() -> Response {
        JSONResponse.make(["status": "ok"])
    }

    static func ready(_ services: ShimServices, context: ShimRequestContext) async -> Response {
        var problems: [String] = []
        do { try await services.store.ping() } catch {
            context.logger.warning("readyz: store", metadata: ["error": "\(error)"])
            problems.append("store")
        }
        if await !services.upstream.isReady() { problems.append("upstream") }
        if problems.isEmpty { return JSONResponse.make(["status": "ready"]) }
        return JSONResponse.make(["status": "not ready", "failing": problems], status: .serviceUnavailable)
    }
}
