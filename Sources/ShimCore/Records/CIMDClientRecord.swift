public import Foundation

/// What the shim remembers of a client known by its Client ID Metadata
/// Document: enough for the admin commands and the audit trail, written
/// when the document is fetched over the network (not on every request).
/// The document itself is not trusted from here: every flow uses a fresh or
/// cached fetch.
public struct CIMDClientRecord: Codable, Sendable, Equatable {
    /// The client_id: the document's URL, byte for byte.
    public var url: String
    /// The document's host, lowercased (what `cimd.*_hosts` match).
    public var host: String
    public var clientName: String?
    public var redirectURIs: [String]
    /// A SHA-256 prefix of the document's bytes, to notice a changed document.
    public var documentHash: String
    public var firstSeen: Date
    public var lastFetched: Date

    public init(
        url: String, host: String, clientName: String?, redirectURIs: [String], documentHash: String,
        firstSeen: Date, lastFetched: Date
    ) {
        self.url = url
        self.host = host
        self.clientName = clientName
        self.redirectURIs = redirectURIs
        self.documentHash = documentHash
        self.firstSeen = firstSeen
        self.lastFetched = lastFetched
    }
}
