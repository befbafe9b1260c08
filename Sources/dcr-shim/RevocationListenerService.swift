import ServiceLifecycle
import ShimStorage

/// The PostgreSQL revocation listener as a service of the server: started
/// with it, cancelled by its graceful shutdown (SIGTERM), so it never holds
/// the process up.
struct RevocationListenerService: Service {
    let listener: PostgresRevocationListener

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await listener.run()
        }
    }
}
