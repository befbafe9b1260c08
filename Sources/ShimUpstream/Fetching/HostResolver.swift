#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOPosix
public import ShimCore

/// Name resolution for the guarded fetcher: every address a host name
/// resolves to, so that each can be judged (rule 11) before any connection.
public protocol HostResolver: Sendable {
    /// All addresses of `host`; an IP literal resolves to itself. Throws when
    /// the name does not resolve.
    func resolve(host: String) async throws -> [NetworkAddress]
}

/// `getaddrinfo`, run on NIO's blocking-I/O thread pool so a slow DNS server
/// never holds an event loop. NIO's own `makeAddressResolvingHost` is not
/// used: it blocks, and it returns only the first address.
public struct SystemResolver: HostResolver {
    public init() {}

    public func resolve(host: String) async throws -> [NetworkAddress] {
        try await NIOThreadPool.singleton.runIfActive { try Self.getaddrinfoAll(host) }
    }

    public struct ResolutionError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Every IPv4 and IPv6 address, de-duplicated, in the resolver's order.
    /// No `AI_ADDRCONFIG`: an AAAA record is judged even on a host without IPv6.
    static func getaddrinfoAll(_ host: String) throws -> [NetworkAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Darwin)
        hints.ai_socktype = SOCK_STREAM
        #else
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &result)
        guard status == 0, let first = result else {
            throw ResolutionError(description: "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(first) }
        var addresses: [NetworkAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let sockaddr = entry.pointee.ai_addr, let address = Self.address(sockaddr, family: entry.pointee.ai_family),
               !addresses.contains(address) {
                addresses.append(address)
            }
            cursor = entry.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw ResolutionError(description: "\(host) has no IP address") }
        return addresses
    }

    static func address(_ sockaddr: UnsafeMutablePointer<sockaddr>, family: Int32) -> NetworkAddress? {
        switch family {
        case AF_INET:
            return sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                withUnsafeBytes(of: v4.pointee.sin_addr) { NetworkAddress(bytes: Array($0)) }
            }
        case AF_INET6:
            return sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                withUnsafeBytes(of: v6.pointee.sin6_addr) { NetworkAddress(bytes: Array($0)) }
            }
        default:
            return nil
        }
    }
}
