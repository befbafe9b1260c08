import Foundation
import HTTPTypes
public import Hummingbird
import Logging
import NIOCore
public import ShimCore
import ShimStorage
import ShimUpstream

/// The request context of every route.
public struct ShimRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer's IP address (the load balancer's, behind one).
    public let remoteAddress: String?
    /// The client's address: the peer's, or behind `listen.trusted_proxies`
    /// the one they forwarded (set by `ClientAddressMiddleware`).
    public var clientAddress: IPAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
        clientAddress = remoteAddress.flatMap { IPAddress($0) }
    }

    /// What per-address limits count by (an IPv6 client by its /64).
    var clientKey: String { clientAddress?.limitKey ?? "unknown" }
}

/// The gateway reads the resolved address to set `X-Forwarded-For`.
extension ShimRequestContext: ClientAddressCarrying {}
