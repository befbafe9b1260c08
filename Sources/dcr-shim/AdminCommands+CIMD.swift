import ArgumentParser
import Foundation
import ShimCore
import ShimStorage

/// `clients list | show | revoke` for clients known by their Client ID
/// Metadata Document: the document URL (their client_id), its host, the
/// name and redirects it declared, when it was first seen and last fetched.
enum CIMDAdmin {
    static func json(_ r: CIMDClientRecord) -> [String: JSONValue] {
        [
            "client_id": .string(r.url), "kind": .string("cimd"), "host": .string(r.host), "client_name": .optional(r.clientName),
            "redirect_uris": .array(r.redirectURIs.map(JSONValue.string)), "token_endpoint_auth_method": .string("none"),
            "document_hash": .string(r.documentHash), "first_seen": .string(Output.time(r.firstSeen)),
            "last_fetched": .string(Output.time(r.lastFetched)),
        ]
    }

    /// The second table of `clients list` (nothing when there is none).
    static func printList(_ records: [CIMDClientRecord]) {
        guard !records.isEmpty else { return }
        print("")
        print("Clients known by their metadata document (CIMD):")
        Output.print(
            rows: records.map {
                [
                    $0.url, $0.host, $0.clientName ?? "-", $0.redirectURIs.joined(separator: " "),
                    Output.time($0.firstSeen), Output.time($0.lastFetched),
                ]
            },
            headers: ["CLIENT_ID", "HOST", "NAME", "REDIRECT_URIS", "FIRST_SEEN", "LAST_FETCHED"], json: [], asJSON: false)
    }

    /// `clients revoke URL`: its grants revoked and its record deleted. The
    /// client can sign in again (its document is still published); to keep it
    /// out, list its host in `cimd.blocked_hosts`.
    static func revoke(_ url: String, store: any ShimStore) async throws -> Int {
        let revoked = try await store.revokeGrants(clientID: url, at: Date())
        guard try await store.deleteCIMDClient(url: url) || revoked > 0 else { throw ValidationError("no client \(url)") }
        try await store.appendAudit(
            AuditEvent(
                at: Date(), kind: .clientRevoked, clientID: url,
                detail: "\(revoked) grant(s) revoked by admin (metadata-document client)"))
        return revoked
    }
}
