/// How long to wait before trying again (opening a device, reaching the record, committing to
/// the outbox): doubling from `initial` up to `maximum`, back to `initial` after a success.
public struct Backoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(5)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The wait after one of `delay` that did not help.
    public func next(after delay: Duration) -> Duration { min(delay * 2, maximum) }
}
