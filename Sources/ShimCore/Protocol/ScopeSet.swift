/// A space-delimited scope list (RFC 6749 §3.3), order kept, duplicates dropped.
///
/// Building one is linear in the text's length (duplicates are found with a
/// hash set). Scopes that arrive from outside go through `init(parsing:)`,
/// which also bounds them (rule 10: an unauthenticated request
/// must not buy more work than its size, and no more than a scope needs).
public struct ScopeSet: Sendable, Equatable, Codable {
    public private(set) var values: [String]

    /// The most scope values one request may name.
    public static let maxValues = 64
    /// The longest one scope value may be (Entra's `api://<uuid>/<name>` is about 50).
    public static let maxValueBytes = 256
    /// The longest the whole `scope` parameter may be.
    public static let maxTextBytes = 4096

    /// Splits trusted text (configuration, stored records) without bounds.
    public init(_ text: String?) {
        var seen = Set<Substring>()
        var values: [String] = []
        for part in (text ?? "").split(separator: " ", omittingEmptySubsequences: true) where seen.insert(part).inserted {
            values.append(String(part))
        }
        self.values = values
    }

    public init(values: [String]) {
        self.init(values.joined(separator: " "))
    }

    /// Parses a `scope` parameter from a client: at most `maxTextBytes`,
    /// `maxValues` values of at most `maxValueBytes` each, every value a
    /// RFC 6749 §3.3 scope-token. Checked while splitting, so a hostile
    /// `scope` is refused after reading no more than the bounds allow.
    public init(parsing text: String?) throws(OAuthError) {
        guard let text else {
            values = []
            return
        }
        guard text.utf8.count <= Self.maxTextBytes else {
            throw OAuthError(.invalidScope, "scope is longer than \(Self.maxTextBytes) bytes")
        }
        var seen = Set<Substring>()
        var values: [String] = []
        for part in text.split(separator: " ", omittingEmptySubsequences: true) {
            guard part.utf8.count <= Self.maxValueBytes else {
                throw OAuthError(.invalidScope, "a scope value is longer than \(Self.maxValueBytes) bytes")
            }
            guard Self.isValidToken(part) else {
                throw OAuthError(.invalidScope, "scope contains characters RFC 6749 §3.3 does not allow")
            }
            guard seen.insert(part).inserted else { continue }
            guard values.count < Self.maxValues else {
                throw OAuthError(.invalidScope, "scope names more than \(Self.maxValues) values")
            }
            values.append(String(part))
        }
        self.values = values
    }

    public var isEmpty: Bool { values.isEmpty }
    public var text: String { values.joined(separator: " ") }

    public func isSubset(of other: ScopeSet) -> Bool {
        let known = Set(other.values)
        return values.allSatisfy(known.contains)
    }

    public func union(_ other: ScopeSet) -> ScopeSet { ScopeSet(values: values + other.values) }

    /// RFC 6749 §3.3 scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
    public static func isValidToken(_ token: Substring) -> Bool {
        !token.isEmpty && token.utf8.allSatisfy { $0 == 0x21 || (0x23...0x5B).contains($0) || (0x5D...0x7E).contains($0) }
    }
}
