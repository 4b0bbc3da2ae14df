import CoreMetrics
import RecordProtocol

/// The record server's metrics (docs/operations.md lists them), counted through swift-metrics:
/// served on `/metrics` with `record serve --metrics`, no-ops otherwise.
enum RecordMetrics {
    /// One transaction of the writer, commit (fsync) included.
    static let commit = Timer(label: "floorgate_record_commit_seconds")

    /// A request answered: by method and code (0 for a result), and how long it took.
    static func answered(_ method: RecordMethod, code: Int, since start: ContinuousClock.Instant) {
        Counter(label: "floorgate_record_calls_total", dimensions: [("method", method.rawValue), ("code", String(code))]).increment()
        Timer(label: "floorgate_record_call_seconds", dimensions: [("method", method.rawValue)]).record(since: start)
    }

    /// A signature attempt and how it ended: accepted, rejected, locked, slowed or clock.
    static func signatureAttempt(_ outcome: String) {
        Counter(label: "floorgate_signature_attempts_total", dimensions: [("outcome", outcome)]).increment()
    }
}

extension Timer {
    /// Records the time since `start`.
    func record(since start: ContinuousClock.Instant) {
        let elapsed = (ContinuousClock.now - start).components
        recordNanoseconds(elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000)
    }
}
