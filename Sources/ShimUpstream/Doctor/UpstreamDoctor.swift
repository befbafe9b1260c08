public import AsyncHTTPClient
import Foundation
public import Logging
public import ShimCore

/// One line of `dcr-shim doctor`: what was checked, how it went, and the fix.
public struct DoctorCheck: Sendable, Equatable {
    public enum Outcome: String, Sendable, Equatable {
        case ok = " ok "
        case failed = "FAIL"
        case warning = "warn"
        case skipped = "skip"
        case note = "note"
    }

    public var name: String
    public var outcome: Outcome
    public var detail: String
    public var fix: String?

    public init(_ name: String, _ outcome: Outcome, _ detail: String, fix: String? = nil) {
        self.name = name
        self.outcome = outcome
        self.detail = detail
        self.fix = fix
    }
}

/// `dcr-shim doctor`: checks the IdP without a user, as far as an IdP lets a
/// client check it — discovery, signing keys, the client's credentials (a
/// token request with a made-up code: most IdPs authenticate the client
/// before they look at the code, RFC 6749 §4.1.3, so `invalid_grant` means
/// the credentials passed and `invalid_client` means they did not), and
/// whether `<issuer>/callback` is registered (an authorize request with it,
/// compared with one with a made-up redirect URI: only when the IdP refuses
/// the made-up one before sign-in does its acceptance of the real one prove
/// anything; the check says when it cannot tell).
public struct UpstreamDoctor: Sendable {
    let upstream: OIDCUpstream
    let resourceScopes: [String]
    let clock: any ShimClock

    public init(
        config: UpstreamConfiguration, resourceScopes: [String], callbackURL: String, httpClient: HTTPClient, logger: Logger,
        clock: any ShimClock = SystemClock()
    ) {
        upstream = OIDCUpstream(
            config: config, callbackURL: callbackURL, httpClient: httpClient, logger: logger,
            credentials: UpstreamClientCredentials(config: config, httpClient: httpClient, clock: clock))
        self.resourceScopes = resourceScopes
        self.clock = clock
    }

    var config: UpstreamConfiguration { upstream.config }
    var profile: IdPProfile { upstream.profile }

    /// Every check, in order; a later check that needs an endpoint an
    /// earlier one could not find is skipped with the reason.
    public func run() async -> [DoctorCheck] {
        var checks = [
            DoctorCheck(
                "callback", .note, "register exactly this redirect URI at the IdP: \(upstream.callbackURL)",
                fix: GenericErrors.console(config.preset).redirect)
        ]
        let (discovery, endpoints) = await discoveryCheck()
        checks.append(discovery)
        guard let endpoints else {
            checks.append(DoctorCheck("client credentials", .skipped, "the IdP's endpoints are unknown (see discovery)"))
            checks.append(DoctorCheck("redirect URI", .skipped, "the IdP's endpoints are unknown (see discovery)"))
            return checks + notes
        }
        checks.append(await keysCheck(endpoints))
        let redirect = await redirectChecks(endpoints)
        var credentials = await credentialsCheck(endpoints)
        // glewlwyd answers unauthorized_client both for a wrong secret and for an
        // unregistered redirect_uri: with the redirect refused, it proves nothing.
        if credentials.outcome == .failed, credentials.detail.contains("unauthorized_client"),
            redirect.first?.outcome == .failed
        {
            credentials = DoctorCheck(
                credentials.name, .warning,
                "cannot tell: the IdP answered unauthorized_client, which some IdPs (glewlwyd) also answer for an unregistered redirect URI; fix the redirect URI first, then run doctor again",
                fix: credentials.fix)
        }
        return checks + clientAuthChecks(endpoints, now: clock.now()) + [credentials] + redirect + notes
    }

    var notes: [DoctorCheck] {
        [DoctorCheck("refresh", .note, "\(profile.displayName) \(profile.refresh.rawValue); the subject comes from \(profile.subject.rawValue)")]
            + config.presetNotes().map { DoctorCheck("preset", .note, $0) }
    }

    /// Discovery, with the preset's fixed endpoints as the fallback.
    func discoveryCheck() async -> (DoctorCheck, UpstreamEndpoints?) {
        let fixed = profile.fixedEndpoints(config)
        guard profile.discoveryIssuer(config) != nil, config.preset != .github else {
            if let fixed {
                return (
                    DoctorCheck(
                        "discovery", .skipped,
                        "\(profile.displayName) publishes no discovery document; endpoints \(fixed.authorization), \(fixed.token)"), fixed
                )
            }
            return (DoctorCheck("discovery", .failed, "no upstream.issuer and no endpoints", fix: "set upstream.issuer"), nil)
        }
        do {
            let found = try await upstream.discover()
            let endpoints =
                fixed.map {
                    UpstreamEndpoints(
                        authorization: $0.authorization, token: $0.token, revocation: $0.revocation ?? found.revocation,
                        userinfo: $0.userinfo ?? found.userinfo, jwks: found.jwks)
                } ?? found
            return (
                DoctorCheck(
                    "discovery", .ok,
                    "issuer \(profile.discoveryIssuer(config) ?? "-"): authorize \(endpoints.authorization), token \(endpoints.token)"), endpoints
            )
        } catch {
            let detail = error.detail ?? error.description
            if let fixed {
                return (
                    DoctorCheck(
                        "discovery", .warning, "no usable discovery document (\(detail)); using the configured endpoints",
                        fix: "check upstream.issuer (\(profile.discoveryIssuer(config) ?? "-"))"), fixed
                )
            }
            return (
                DoctorCheck(
                    "discovery", .failed, detail,
                    fix: "upstream.issuer must be the IdP's issuer exactly as its discovery document states it (\(profile.documentation))"), nil
            )
        }
    }

    /// The IdP's signing keys (JWKS), which ID tokens are checked against.
    func keysCheck(_ endpoints: UpstreamEndpoints) async -> DoctorCheck {
        guard profile.subject == .idToken else { return DoctorCheck("signing keys", .skipped, "\(profile.displayName) issues no ID tokens") }
        guard let url = endpoints.jwks else {
            return DoctorCheck("signing keys", .warning, "the IdP publishes no jwks_uri", fix: "an IdP that issues ID tokens should publish its keys")
        }
        struct KeySet: Decodable {
            var keys: [Key]
            struct Key: Decodable {
                var kty: String?
                var kid: String?
            }
        }
        do {
            let (status, body, _) = try await upstream.send(HTTPClientRequest(url: url), operation: "doctor probe")
            guard status == 200, let set = try? JSONDecoder().decode(KeySet.self, from: body), !set.keys.isEmpty else {
                return DoctorCheck("signing keys", .failed, "\(url) answered \(status) without a key set", fix: "check the IdP's jwks_uri")
            }
            let kinds = Set(set.keys.compactMap(\.kty)).sorted().joined(separator: ", ")
            return DoctorCheck("signing keys", .ok, "\(set.keys.count) key(s) (\(kinds)) at \(url)")
        } catch {
            return DoctorCheck("signing keys", .failed, "\(url) cannot be reached: \(error)")
        }
    }
}
