public import Foundation
public import ShimCore

extension MemoryStore {
    public func recordCIMDClient(_ record: CIMDClientRecord) -> CIMDClientRecord? {
        let previous = cimdClients[record.url]
        var record = record
        if let previous { record.firstSeen = min(previous.firstSeen, record.firstSeen) }
        cimdClients[record.url] = record
        return previous
    }

    public func cimdClient(url: String) -> CIMDClientRecord? { cimdClients[url] }

    public func listCIMDClients(limit: Int) -> [CIMDClientRecord] {
        Array(cimdClients.values.sorted { ($0.lastFetched, $0.url) > ($1.lastFetched, $1.url) }.prefix(limit))
    }

    public func deleteCIMDClient(url: String) -> Bool { cimdClients.removeValue(forKey: url) != nil }

    public func purgeCIMDClients(lastFetchedBefore: Date) -> Int {
        let doomed = cimdClients.values.filter { $0.lastFetched < lastFetchedBefore }.map(\.url)
        for url in doomed { cimdClients[url] = nil }
        return doomed.count
    }
}
