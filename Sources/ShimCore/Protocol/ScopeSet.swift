/// A space-delimited scope list (RFC 6749 §3.3), order kept, duplicates dropped.
public struct ScopeSet: Sendable, Equatable, Codable {
    public private(set) var values: [String]

    public init(_ text: String?) {
        var seen: [String] = []
        for part in (text ?? "").split(separator: " ", omittingEmptySubsequences: true).map(String.init) where !seen.contains(part) {
            seen.append(part)
        }
        values = seen
    }

    public init(values: [String]) {
        self.init(values.joined(separator: " "))
    }

    public var isEmpty: Bool { values.isEmpty }
    public var text: String { values.joined(separator: " ") }

    public func isSubset(of other: ScopeSet) -> Bool { values.allSatisfy(other.values.contains) }

    public func union(_ other: ScopeSet) -> ScopeSet { ScopeSet(values: values + other.values) }

    /// RFC 6749 §3.3 scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
    public static func isValidToken(_ token: Substring) -> Bool {
        !token.isEmpty && token.utf8.allSatisfy { $0 == 0x21 || (0x23...0x5B).contains($0) || (0x5D...0x7E).contains($0) }
    }
}
