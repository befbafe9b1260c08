import Foundation
import Logging
import Metrics
import ShimCore
import ShimStorage

/// Audit events go to the store (listable with `dcr-shim audit`), to the log
/// (one `audit` line each), and to the `dcr_shim_events_total{kind}` counter.
/// A failed audit write is logged as an error and does not fail the request:
/// the log line still carries the event.
struct Auditor: Sendable {
    let store: any AuditStore

    func record(_ event: AuditEvent, logger: Logger) async {
        Audit.announce(event, logger: logger)
        do {
            try await store.appendAudit(event)
        } catch {
            logger.error("audit write failed", metadata: ["audit": "\(event.kind.rawValue)", "error": "\(error)"])
        }
    }
}

/// The shapes of audit lines, shared by `Auditor` and callers that store
/// their event themselves.
enum Audit {
    /// The log line and the counter of an event stored by the caller (a
    /// registration stores its audit row in the same commit as the client).
    static func announce(_ event: AuditEvent, logger: Logger) {
        var metadata: Logger.Metadata = ["audit": "\(event.kind.rawValue)", "client_id": "\(event.clientID)"]
        if let name = event.clientName { metadata["client_name"] = "\(name)" }
        if let host = event.redirectHost { metadata["redirect_host"] = "\(host)" }
        if let subject = event.subject { metadata["subject"] = "\(subject)" }
        if let resource = event.resource { metadata["resource"] = "\(resource)" }
        if let scope = event.scope { metadata["scope"] = "\(scope)" }
        if let detail = event.detail { metadata["detail"] = "\(detail)" }
        logger.info("audit", metadata: metadata)
        Counter(label: "dcr_shim_events_total", dimensions: [("kind", event.kind.rawValue)]).increment()
    }

    /// The host part of a redirect URI (what the consent page shows).
    static func host(_ redirectURI: String) -> String? {
        RedirectURI(redirectURI).map { $0.scheme == "http" || $0.scheme == "https" ? $0.host : "\($0.scheme)://\($0.host)" }
    }
}
