/// One async mutex per key: refreshes of the same grant run one after the
/// other in this process, so concurrent refreshes make one upstream call.
public actor KeyedLock {
    public init() {}

    private var holders: [String: [CheckedContinuation<Void, Never>]] = [:]

    public nonisolated func withLock<T>(_ key: String, _ body: () async throws -> T) async throws -> T {
        await acquire(key)
        do {
            let value = try await body()
            await release(key)
            return value
        } catch {
            await release(key)
            throw error
        }
    }

    private func acquire(_ key: String) async {
        if holders[key] == nil {
            holders[key] = []
            return
        }
        await withCheckedContinuation { holders[key, default: []].append($0) }
    }

    private func release(_ key: String) {
        guard var waiting = holders[key] else { return }
        if waiting.isEmpty {
            holders[key] = nil
        } else {
            let next = waiting.removeFirst()
            holders[key] = waiting
            next.resume()
        }
    }
}
