import CoreMetrics
public import HostClock
public import Logging

/// Reads whether the host's clock is synchronized, at start and every `interval`, and reports
/// each change (the first reading only when it is not synchronized): results and signatures
/// carry this PC's time, so the operator and the log hear of a clock left to drift.
public struct ClockWatch: Sendable {
    public var interval: Duration
    public var read: @Sendable () -> ClockSynchronization

    public init(interval: Duration = .seconds(60), read: @escaping @Sendable () -> ClockSynchronization = ClockSynchronization.current) {
        self.interval = interval
        self.read = read
    }

    /// Runs until cancelled; `report` gets each change.
    public func run(logger: Logger, report: @Sendable (ClockSynchronization) async -> Void) async {
        var last: ClockSynchronization?
        while !Task.isCancelled {
            let state = read()
            GatewayMetrics.clockSynchronized.record(state.isSynchronized ? 1 : 0)
            if state != last, last != nil || !state.isSynchronized {
                if state.isSynchronized {
                    logger.notice("the clock is synchronized again")
                } else {
                    logger.warning("the clock is \(state): results and signatures carry this PC's time")
                }
                await report(state)
            }
            last = state
            try? await Task.sleep(for: interval)
        }
    }
}
