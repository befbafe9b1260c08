import Foundation
import NIOConcurrencyHelpers
public import ShimCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Name resolution for the guarded fetcher: every address a host name
/// resolves to, so that each can be judged (rule 11) before any connection.
public protocol HostResolver: Sendable {
    /// All addresses of `host`; an IP literal resolves to itself. Throws when
    /// the name does not resolve, and `HostResolverBusy` when the resolver
    /// has no room to look it up now.
    func resolve(host: String) async throws -> [NetworkAddress]
}

/// Thrown by a resolver with every thread taken: a refusal for want of room
/// here, which says nothing about the name (and is never cached).
public struct HostResolverBusy: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "every resolver thread is busy" }
}

/// `getaddrinfo`, each lookup on a thread of its own, at most
/// `maxConcurrentLookups` at once; one more is refused at once
/// (`HostResolverBusy`), never queued. `getaddrinfo` cannot be cancelled:
/// a name server that never answers holds its thread until the C library
/// gives up. On NIO's shared blocking pool (one thread per core: one on a
/// 1-vCPU pod) a few such lookups would queue every other lookup of the
/// process behind them; here they hold only this resolver's threads, each
/// guarded fetcher has its own resolver, and the fetcher holds a fetch slot
/// for as long as its lookup runs. NIO's own `makeAddressResolvingHost` is
/// not used: it blocks, and it returns only the first address.
public final class SystemResolver: HostResolver {
    let maxConcurrentLookups: Int
    let lookup: @Sendable (String) throws -> [NetworkAddress]
    private let running = NIOLockedValueBox(0)

    public convenience init(maxConcurrentLookups: Int = 32) {
        self.init(maxConcurrentLookups: maxConcurrentLookups, lookup: { try SystemResolver.getaddrinfoAll($0) })
    }

    /// `lookup` stands in for `getaddrinfo` (tests: a lookup that blocks).
    init(maxConcurrentLookups: Int, lookup: @escaping @Sendable (String) throws -> [NetworkAddress]) {
        self.maxConcurrentLookups = max(1, maxConcurrentLookups)
        self.lookup = lookup
    }

    /// Lookups running now (threads taken).
    public var lookupsRunning: Int { running.withLockedValue { $0 } }

    public func resolve(host: String) async throws -> [NetworkAddress] {
        let limit = maxConcurrentLookups
        let admitted = running.withLockedValue { count -> Bool in
            guard count < limit else { return false }
            count += 1
            return true
        }
        guard admitted else { throw HostResolverBusy() }
        let lookup = self.lookup
        let running = self.running
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[NetworkAddress], any Error>) in
            Thread.detachNewThread {
                let result = Result<[NetworkAddress], any Error> { try lookup(host) }
                running.withLockedValue { $0 -= 1 }
                continuation.resume(with: result)
            }
        }
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
                !addresses.contains(address)
            {
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
