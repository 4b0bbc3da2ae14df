import FloorgateCore
import RecordProtocol

/// `spc.get` and `spc.freeze`: a measurement point's control chart and capability, and the
/// quality engineer's signed freezing of its limits (Phase I → Phase II).
enum SPCMethods {
    /// The point's chart, its special causes and its capability; `last` limits the subgroups
    /// listed (the limits and the capability are computed from all of them).
    static func get(_ context: MethodContext) async throws -> RecordOutcome {
        let history = try await PointHistory.load(PointHistory.Selector(context.params), context.transaction, service: context.service)
        let last = try context.params.optionalInteger("last")
        if let last, last < 1 { throw WorkRecordError(.invalidParams, "params.last must be at least 1") }
        let report = SPCReport(history: history, frozen: try await FrozenLimits.newest(for: history, context.transaction))
        return RecordOutcome(report.json(last: last.map(Int.init)))
    }

    /// Freezes the limits computed from the first `baseline` subgroups (all to date when
    /// absent), signed by a quality user: from then on the point is judged against them.
    static func freeze(_ context: MethodContext) async throws -> RecordOutcome {
        let history = try await PointHistory.load(PointHistory.Selector(context.params), context.transaction, service: context.service)
        let count = try context.params.optionalInteger("baseline").map(Int.init) ?? history.subgroups.count
        guard count >= 2, count <= history.subgroups.count else {
            throw WorkRecordError(
                .tooFewSubgroups,
                "point '\(history.point.name)' has \(history.subgroups.count) complete subgroups; limits are frozen from 2 or more of them (params.baseline: \(count))")
        }
        let chart = ControlChart(subgroups: history.subgroups.map { $0.values.map(SPCReport.double) }, subgroupSize: history.point.count)
        guard let baseline = chart.baseline(first: count) else {
            throw WorkRecordError(.tooFewSubgroups, "point '\(history.point.name)': the baseline gives no sigma")
        }
        let first = history.subgroups[0], lastOfBaseline = history.subgroups[count - 1]
        let limitsID = try await AuditedWriter.nextID("spc_limits", context.transaction)
        let signed = try await context.signer.sign(
            try SignatureInput(context.params), role: .quality, meaning: .approved, recordType: "spc_limits", recordID: limitsID,
            subject: "control limits of \(history.part) operation \(history.operation) step \(history.step) '\(history.point.name)' (\(baseline.kind.rawValue), \(count) subgroups: serials \(first.serial) … \(lastOfBaseline.serial))")
        // Limits are kept as the Doubles' shortest exact text: Phase II judges with exactly these.
        let stored = try await context.writer.insert(
            "spc_limits",
            [
                "part": history.part, "operation": history.operation, "step": history.step, "point": history.point.name,
                "chart": baseline.kind.rawValue, "subgroup_size": Int64(baseline.subgroupSize), "unit": history.unit.code,
                "centre": "\(baseline.location.centre)", "lower": "\(baseline.location.lower)", "upper": "\(baseline.location.upper)",
                "dispersion_centre": "\(baseline.dispersion.centre)", "dispersion_lower": "\(baseline.dispersion.lower)",
                "dispersion_upper": "\(baseline.dispersion.upper)", "sigma_within": "\(baseline.sigmaWithin)",
                "baseline_subgroups": Int64(count), "first_build": first.buildID, "last_build": lastOfBaseline.buildID,
                "signature_id": signed.id, "frozen_at": RecordClock.timestamp(),
            ], action: "spc.freeze")
        let report = SPCReport(history: history, frozen: try await FrozenLimits.newest(for: history, context.transaction))
        guard case .object(var answer) = report.json(last: 0) else { throw WorkRecordError(.internalError, "the SPC answer is not an object") }
        answer["limits_id"] = .integer(stored)
        answer["signature_id"] = .integer(signed.id)
        answer["subgroups"] = nil
        return RecordOutcome(.object(answer))
    }
}
