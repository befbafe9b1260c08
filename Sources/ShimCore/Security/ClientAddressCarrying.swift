/// A request context that knows the client's address as `ClientAddress`
/// resolved it (the TCP peer, or behind `listen.trusted_proxies` the address
/// they forwarded). The gateway reads it to set `X-Forwarded-For` and cannot
/// name the server's own context type, so it asks for this.
public protocol ClientAddressCarrying {
    var clientAddress: IPAddress? { get }
}
