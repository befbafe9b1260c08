import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
public import ShimCore

extension OIDCUpstream {
    /// Entra's on-behalf-of or RFC 8693 token exchange at the token
    /// endpoint, with the app's own client authentication (secret,
    /// `private_key_jwt` or a federated assertion: `UpstreamClientCredentials`).
    /// A refusal is explained (`DownstreamTokenRules.explain`) and logged
    /// with what the operator must grant; the log names the API and its
    /// scopes, never the assertion or a token (rule 9).
    public func downstreamToken(_ api: DownstreamAPI, method: DownstreamMethod, assertion: String) async throws -> UpstreamTokenResponse {
        let started = ContinuousClock.now
        do {
            let response = try await downstreamTokenUnmeasured(api, method: method, assertion: assertion)
            Self.measure("downstream", outcome: "ok", since: started)
            return response
        } catch let refusal as DownstreamRefusal {
            Self.measure("downstream", outcome: "refused", since: started)
            throw refusal
        } catch {
            Self.measure("downstream", outcome: (error as? OAuthError)?.code.rawValue ?? "error", since: started)
            throw error
        }
    }

    func downstreamTokenUnmeasured(_ api: DownstreamAPI, method: DownstreamMethod, assertion: String) async throws -> UpstreamTokenResponse {
        let endpoint = try await endpoints().token
        var pairs = DownstreamTokenRules.requestParameters(method: method, assertion: assertion, scopes: api.scopes, audience: api.audience)
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        try await credentials.apply(to: &request, form: &pairs, endpoint: endpoint)
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: FormEncoding.encode(pairs)))

        let status: Int
        let body: Data
        do {
            (status, body, _) = try await send(request, operation: "downstream token")
        } catch {
            logger.warning("upstream downstream token failed", metadata: ["api": "\(api.name)", "error": "\(error)"])
            throw OAuthError(.temporarilyUnavailable, "the identity provider cannot be reached; try again later", detail: "\(error)")
        }
        guard status == 200 else {
            let refused = try? JSONDecoder().decode(DownstreamErrorBody.self, from: body)
            let refusal = DownstreamTokenRules.explain(error: refused?.error ?? "none", providerCodes: refused?.error_codes ?? [], api: api)
            logger.warning(
                "upstream downstream token refused",
                metadata: [
                    "api": "\(api.name)", "method": "\(method.rawValue)", "scope": "\(api.scopes.joined(separator: " "))",
                    "status": "\(status)", "error": "\(refused?.error ?? "none")", "provider_code": "\(refusal.providerCode ?? "-")",
                    "error_description": "\(refused?.error_description?.prefix(300) ?? "")", "fix": "\(refusal.operatorHint)",
                ])
            throw refusal
        }
        let response = try UpstreamTokenResponse.parse(body)
        logger.info("upstream downstream token", metadata: ["api": "\(api.name)", "method": "\(method.rawValue)"])
        return response
    }
}

/// RFC 6749 §5.2 with Entra's `error_codes`.
struct DownstreamErrorBody: Decodable {
    var error: String?
    var error_description: String?
    var error_codes: [Int]?
}
