import HTTPTypes
import Hummingbird
import Logging
import NIOHTTP1
import ShimCore

extension Gateway {
    /// Sets each downstream API's header to the user's token for it (the
    /// client's copies were removed by the header policy; rule 14). nil when
    /// every token was set; otherwise the answer for the client: 401 with
    /// the gateway's challenge when the user must sign in again (a revoked
    /// grant, or the IdP asking for interaction), 403 when an administrator
    /// must act (consent, scopes), 503 when the IdP cannot be reached. The
    /// message names the API, never a token.
    func addDownstreamTokens(claims: AccessTokenClaims, route: GatewayRoute, to headers: inout HTTPHeaders, logger: Logger) async -> Response? {
        guard let grantID = claims.grantID else {
            return GatewayResponses.unauthorized(route, error: "invalid_token", description: "no downstream tokens for this token")
        }
        guard let source = downstreamTokens else {
            logger.error("gateway: resources[].downstream is configured but no downstream token source is wired")
            return GatewayResponses.jsonRPCError(.serviceUnavailable, "Downstream tokens unavailable; retry")
        }
        for api in route.downstream {
            do {
                let token = try await source.downstreamToken(grantID: grantID, api: api, logger: logger)
                headers.replaceOrAdd(name: api.header, value: token)
            } catch let refusal as DownstreamRefusal {
                logger.warning(
                    "gateway: downstream token refused",
                    metadata: [
                        "api": "\(api.name)", "grant": "\(grantID.prefix(8))", "provider_code": "\(refusal.providerCode ?? "-")",
                        "fix": "\(refusal.operatorHint)",
                    ])
                return GatewayResponses.downstreamRefused(route, refusal)
            } catch let error as OAuthError where error.code == .invalidGrant {
                return GatewayResponses.unauthorized(route, error: "invalid_token", description: "sign in again: " + error.description)
            } catch {
                logger.warning("gateway: downstream token unavailable", metadata: ["api": "\(api.name)", "error": "\(error)"])
                return GatewayResponses.jsonRPCError(.serviceUnavailable, "A token for the API \(api.name) is unavailable; retry")
            }
        }
        return nil
    }
}

extension GatewayResponses {
    /// The IdP refused a downstream token: MCP Streamable HTTP's JSON-RPC
    /// error without an id, 403; or 401 with the gateway's challenge (RFC
    /// 6750 §3, `invalid_token`) when the user must sign in again, so that
    /// the client starts a new authorization.
    static func downstreamRefused(_ route: GatewayRoute, _ refusal: DownstreamRefusal) -> Response {
        guard refusal.status == 401 else { return jsonRPCError(.forbidden, refusal.message) }
        var response = jsonRPCError(.unauthorized, refusal.message)
        response.headers[.wwwAuthenticate] = BearerChallenge.header(
            resourceMetadata: route.metadataURL, scope: route.challengeScopes, error: "invalid_token", description: refusal.message)
        return response
    }
}
