import Foundation
import HTTPTypes
public import Hummingbird
public import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// The request context of every route.
public struct ShimRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}
