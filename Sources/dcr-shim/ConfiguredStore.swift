import Logging
import ShimCore
import ShimStorage

/// The store `storage.url` names, opened the same way for `serve` and for
/// the admin commands, with the one way to close it.
struct ConfiguredStore {
    let store: any ShimStore
    let close: @Sendable () async -> Void

    static func open(_ config: ShimConfiguration, logger: Logger) async throws -> ConfiguredStore {
        switch config.storage {
        case .memory:
            return ConfiguredStore(store: MemoryStore(), close: {})
        case .sqlite(let path):
            let store = try await SQLiteStore.open(path: path, synchronous: config.sqliteSynchronous.rawValue, logger: logger)
            return ConfiguredStore(store: store, close: { try? await store.close() })
        case .postgres(let url):
            let store = try await PostgresStore.open(url: url, logger: logger)
            return ConfiguredStore(store: store, close: { store.close() })
        }
    }
}
