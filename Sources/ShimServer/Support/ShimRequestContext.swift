import Foundation
import HTTPTypes
import NIOCore
public import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// The request context of every route.
public struct ShimRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address (the load balancer's, behind one).
    public let remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}
