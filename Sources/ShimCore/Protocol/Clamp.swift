/// Numbers that come from outside (an IdP's `expires_in`, an ID token's
/// `exp`, a stored date's distance from now) made safe to use (rule 10:
/// never a crash): Swift traps on `Int(x)` when `x` is not finite or does not
/// fit, so every such conversion goes through here.
public enum Clamp {
    /// `value` rounded down and clamped into `range`; nil when it is not a
    /// finite number (NaN, ±infinity).
    public static func whole(_ value: Double, into range: ClosedRange<Int>) -> Int? {
        guard value.isFinite else { return nil }
        if value <= Double(range.lowerBound) { return range.lowerBound }
        if value >= Double(range.upperBound) { return range.upperBound }
        return Int(value.rounded(.down))
    }

    /// RFC 6749 §5.1 `expires_in`: "the lifetime in seconds of the access
    /// token". Negative means already expired (0); more than a year is cut
    /// to a year (no access token lives that long, and a far-future date
    /// would overflow later arithmetic).
    public static let maxTokenLifetime = 366 * 86_400

    public static func tokenLifetime(_ seconds: Double) -> Int? {
        whole(seconds, into: 0...maxTokenLifetime)
    }
}
