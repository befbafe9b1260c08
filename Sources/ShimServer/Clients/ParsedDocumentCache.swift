import Foundation
import Logging
import NIOConcurrencyHelpers
import ShimCore
import ShimUpstream

/// Validated documents by URL, for the exact bytes they were validated
/// from: a cached fetch is not parsed and validated again on every request,
/// and a changed document never reuses an old validation. Bounded; when
/// full, it starts over (each entry is cheap to rebuild).
final class ParsedDocumentCache: Sendable {
    private let entries = NIOLockedValueBox<[String: (body: Data, document: CIMDDocument)]>([:])
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    func document(url: String, body: Data) -> CIMDDocument? {
        entries.withLockedValue { table in
            guard let entry = table[url], entry.body == body else { return nil }
            return entry.document
        }
    }

    func store(_ document: CIMDDocument, body: Data) {
        entries.withLockedValue { table in
            if table.count >= capacity, table[document.clientID.url] == nil { table.removeAll(keepingCapacity: true) }
            table[document.clientID.url] = (body, document)
        }
    }
}
