/// A store could not do what was asked in time because other work holds it
/// (another replica's refresh of the same grant, for one): a retryable
/// condition, whatever the backend. Endpoints answer it 503
/// `temporarily_unavailable` with `Retry-After`, never 500.
public struct StoreBusy: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}
