import Foundation
import RecordProtocol

/// How the record holds a result to its time (contemporaneous, original): `measured_at` must be
/// a time, not later than the record's clock by more than `futureTolerance`; a result recorded
/// more than `lateAfter` after it was measured (queued in a station's outbox while the record was
/// down, backfilled from a controller) is accepted and marked late, with both times.
public struct ResultTimePolicy: Sendable, Hashable {
    public var futureTolerance: Duration
    public var lateAfter: Duration

    public init(futureTolerance: Duration = .seconds(60), lateAfter: Duration = .seconds(300)) {
        self.futureTolerance = futureTolerance
        self.lateAfter = lateAfter
    }
}

/// A result's time as the record judged it: the note it keeps beside a result that came late or
/// measured before the build's previous result (`result_time`, append-only, in the audit chain).
struct ResultTimeNote: Sendable, Equatable {
    var late: Bool
    /// The build's result this one was measured before, if it was.
    var measuredBefore: Int64?
    var text: String

    /// Reads `measuredAt` (refused when it is no time or lies in the future) and notes what the
    /// record should say of it: nil when it is in time and in order.
    static func judge(
        _ measuredAt: String, recordedAt: Date, previous: (resultID: Int64, measuredAt: String)?, policy: ResultTimePolicy
    ) throws(WorkRecordError) -> ResultTimeNote? {
        guard let measured = time(measuredAt) else {
            throw WorkRecordError(.timeUnreadable, "params.measured_at '\(measuredAt)' is not a time; the record takes ISO 8601 with its zone (2026-12-07T10:15:00.000Z)")
        }
        let ahead = measured.timeIntervalSince(recordedAt)
        if ahead > seconds(policy.futureTolerance) {
            throw WorkRecordError(
                .timeInFuture,
                "params.measured_at \(measuredAt) is \(Int(ahead.rounded())) s ahead of the record's clock (\(RecordClock.timestamp(recordedAt))); the record takes at most \(Int(seconds(policy.futureTolerance))) s: check the station's clock")
        }
        var notes: [String] = []
        let delay = -ahead
        let late = delay > seconds(policy.lateAfter)
        if late { notes.append("recorded \(describe(delay)) after it was measured") }
        var before: Int64?
        if let previous, let previousTime = time(previous.measuredAt), measured < previousTime {
            before = previous.resultID
            notes.append("measured before result \(previous.resultID) (\(previous.measuredAt))")
        }
        return notes.isEmpty ? nil : ResultTimeNote(late: late, measuredBefore: before, text: notes.joined(separator: "; "))
    }

    /// A time as results carry it: ISO 8601 with or without fractional seconds, with its zone.
    static func time(_ text: String) -> Date? {
        (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))) ?? (try? Date(text, strategy: .iso8601))
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// `3 min 20 s`, `2 h 5 min`, `4 d 1 h`.
    private static func describe(_ interval: TimeInterval) -> String {
        let total = Int(interval.rounded())
        let (days, hours, minutes, seconds) = (total / 86_400, total % 86_400 / 3_600, total % 3_600 / 60, total % 60)
        if days > 0 { return "\(days) d \(hours) h" }
        if hours > 0 { return "\(hours) h \(minutes) min" }
        return "\(minutes) min \(seconds) s"
    }

    /// Keeps the note beside its result.
    func record(result: RecordRow, writer: AuditedWriter) async throws {
        try await writer.insert(
            "result_time",
            [
                "result_id": result["id"] as Int64, "late": Int64(late ? 1 : 0), "measured_before": measuredBefore, "note": text,
                "recorded_at": result["recorded_at"] as String,
            ], action: "result.time")
    }

    /// The notes of a build's results, by result id.
    static func stored(forBuild buildID: Int64, _ transaction: any RecordTransaction) async throws -> [Int64: RecordRow] {
        let rows = try await transaction.rows(
            "SELECT result_time.* FROM result_time JOIN result ON result.id = result_time.result_id WHERE result.build_id = ? ORDER BY result_time.id",
            buildID)
        return Dictionary(rows.map { ($0["result_id"] as Int64, $0) }, uniquingKeysWith: { first, _ in first })
    }
}
