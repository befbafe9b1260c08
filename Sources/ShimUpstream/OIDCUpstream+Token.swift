import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
public import ShimCore
import Tracing

extension OIDCUpstream {
    public func exchangeCode(_ code: String, codeVerifier: String) async throws(OAuthError) -> UpstreamTokenResponse {
        try await tokenRequest(
            [
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", callbackURL),
                ("code_verifier", codeVerifier),
            ], purpose: "code exchange")
    }

    public func refresh(_ refreshToken: String, scope: ScopeSet) async throws(OAuthError) -> UpstreamTokenResponse {
        var pairs = [("grant_type", "refresh_token"), ("refresh_token", refreshToken)]
        // Entra issues one resource's token per request; asking for the same
        // scopes keeps the refreshed token for the same resource. Google and
        // GitHub document no `scope` on refresh.
        if profile.scopeOnRefresh, !scope.isEmpty { pairs.append(("scope", scope.text)) }
        return try await tokenRequest(pairs, purpose: "refresh")
    }

    public func revoke(refreshToken: String) async {
        guard let endpoint = try? await endpoints().revocation else { return }
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        var pairs = [("token", refreshToken), ("token_type_hint", "refresh_token")]
        do {
            // RFC 7009 §2.1: the client authenticates as at the token endpoint; an
            // assertion's audience is the endpoint it is sent to (RFC 7523 §3).
            try await credentials.apply(to: &request, form: &pairs, endpoint: endpoint)
        } catch {
            logger.warning("upstream revocation skipped", metadata: ["error": "\(error.detail ?? error.description)"])
            return
        }
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: FormEncoding.encode(pairs)))
        do {
            let (status, _, _) = try await send(request, operation: "revocation")
            logger.info("upstream revocation", metadata: ["status": "\(status)"])
        } catch {
            logger.warning("upstream revocation failed", metadata: ["error": "\(error)"])
        }
    }

    /// Each token-endpoint call is counted by outcome and timed
    /// (`dcr_shim_upstream_requests_total`, `dcr_shim_upstream_request_duration_seconds`).
    func tokenRequest(_ base: [(String, String)], purpose: String) async throws(OAuthError) -> UpstreamTokenResponse {
        let started = ContinuousClock.now
        let operation = purpose == "refresh" ? "refresh" : "code_exchange"
        do {
            let response = try await tokenRequestUnmeasured(base, purpose: purpose)
            Self.measure(operation, outcome: "ok", since: started)
            return response
        } catch {
            Self.measure(operation, outcome: error.code.rawValue, since: started)
            throw error
        }
    }

    static func measure(_ operation: String, outcome: String, since started: ContinuousClock.Instant) {
        Counter(label: "dcr_shim_upstream_requests_total", dimensions: [("operation", operation), ("outcome", outcome)]).increment()
        let elapsed = ContinuousClock.now - started
        Timer(label: "dcr_shim_upstream_request_duration_seconds", dimensions: [("operation", operation)])
            .recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }

    func tokenRequestUnmeasured(_ base: [(String, String)], purpose: String) async throws(OAuthError) -> UpstreamTokenResponse {
        let endpoint = try await endpoints().token
        var pairs = base
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        do { try await credentials.apply(to: &request, form: &pairs, endpoint: endpoint) } catch {
            logger.error("upstream \(purpose): no client credentials", metadata: ["detail": "\(error.detail ?? "")"])
            throw error
        }
        pairs += config.extraTokenParams.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        // GitHub answers form-encoded unless asked for JSON; the others answer JSON anyway.
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: FormEncoding.encode(pairs)))

        let status: Int
        let body: Data
        let contentType: String
        do {
            (status, body, contentType) = try await send(request, operation: purpose == "refresh" ? "refresh" : "code exchange")
        } catch {
            logger.warning("upstream \(purpose) failed", metadata: ["error": "\(error)"])
            throw OAuthError(.temporarilyUnavailable, "the identity provider cannot be reached; try again later", detail: "\(error)")
        }
        let phase: UpstreamErrorReport.Phase = purpose == "refresh" ? .refresh : .codeExchange
        let fields = UpstreamTokenResponse.Body.decode(body, formEncoded: contentType.contains("x-www-form-urlencoded"))
        // RFC 6749 §5.2 errors come with 400/401; GitHub's with 200 and an `error` member.
        guard status == 200, fields?.error == nil || !profile.errorsWithStatus200 else {
            throw explainTokenError(status: status, fields: fields, phase: phase)
        }
        guard let fields else {
            logger.error("upstream \(purpose) response invalid", metadata: ["detail": "not JSON or form-encoded"])
            throw OAuthError(
                .serverError, "the identity provider sent an invalid token response", detail: "upstream token response unreadable", status: 502)
        }
        do {
            return try UpstreamTokenResponse.from(fields)
        } catch {
            logger.error("upstream \(purpose) response invalid", metadata: ["detail": "\(error.detail ?? "")"])
            throw error
        }
    }

    /// The IdP's own error is explained by the preset's catalogue: the client
    /// gets a message it can act on (never the IdP's text), the log gets the
    /// IdP's code and description (never a token) and what the operator must fix.
    func explainTokenError(status: Int, fields: UpstreamTokenResponse.Body?, phase: UpstreamErrorReport.Phase) -> OAuthError {
        let report = UpstreamErrorReport(
            phase: phase, status: status, error: fields?.error ?? "none",
            description: fields?.error_description ?? "", providerCodes: fields?.error_codes ?? [])
        let failure = profile.explain(report, context: failureContext)
        logger.warning(
            "upstream \(phase.rawValue) refused",
            metadata: [
                "status": "\(status)", "error": "\(report.error)", "provider_code": "\(failure.providerCode ?? "-")",
                "error_description": "\(report.description)", "fix": "\(failure.operatorHint)",
            ])
        return failure.error
    }

    /// One HTTP exchange with the configured timeout; bodies over 1 MiB are
    /// refused. Answers the status, the body and the Content-Type.
    ///
    /// Traced as `idp <operation>` (AsyncHTTPClient's own client span below
    /// it carries `traceparent` to the IdP); the span holds the IdP's host,
    /// the operation and the status, never a form field or an answer.
    func send(_ request: HTTPClientRequest, operation: String) async throws -> (Int, Data, String) {
        try await withSpan("idp \(operation)") { span in
            span.attributes["dcr_shim.idp.operation"] = operation
            span.attributes["server.address"] = URL(string: request.url)?.host
            let response = try await httpClient.execute(request, timeout: timeout)
            span.attributes["http.response.status_code"] = Int(response.status.code)
            let buffer = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), Data(buffer.readableBytesView), response.headers.first(name: "Content-Type")?.lowercased() ?? "")
        }
    }
}
