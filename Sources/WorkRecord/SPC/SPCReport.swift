import FloorgateCore
import Foundation
import RecordProtocol

/// Limits a quality engineer froze (Phase II), as `spc_limits` keeps them.
struct FrozenLimits: Sendable {
    var id: Int64
    var baseline: ControlChart.Baseline
    /// The unit the limits are in (the point's limits' unit when they were frozen).
    var unit: String
    var firstBuild: Int64
    var lastBuild: Int64
    var signatureID: Int64
    var frozenBy: String
    var printedName: String
    var frozenAt: String

    /// The newest limits frozen for `history`'s point, if any.
    static func newest(for history: PointHistory, _ transaction: any RecordTransaction) async throws -> FrozenLimits? {
        guard let row = try await transaction.row(
            """
            SELECT spc_limits.*, signature.printed_name, "user".login FROM spc_limits
            JOIN signature ON signature.id = spc_limits.signature_id
            JOIN "user" ON "user".id = signature.user_id
            WHERE spc_limits.part = ? AND spc_limits.operation = ? AND spc_limits.step = ? AND spc_limits.point = ?
            ORDER BY spc_limits.id DESC LIMIT 1
            """, history.part, history.operation, history.step, history.point.name)
        else { return nil }
        func number(_ column: String) -> Double { Double(row[column] as String) ?? .nan }
        guard let kind = ControlChart.Kind(rawValue: row["chart"]) else {
            throw WorkRecordError(.internalError, "spc_limits row \(row["id"] as Int64) names no chart the record knows: '\(row["chart"] as String)'")
        }
        return FrozenLimits(
            id: row["id"],
            baseline: ControlChart.Baseline(
                kind: kind, subgroupSize: Int(row["subgroup_size"] as Int64),
                location: ControlChart.Limits(centre: number("centre"), lower: number("lower"), upper: number("upper")),
                dispersion: ControlChart.Limits(centre: number("dispersion_centre"), lower: number("dispersion_lower"), upper: number("dispersion_upper")),
                sigmaWithin: number("sigma_within"), subgroups: Int(row["baseline_subgroups"] as Int64)),
            unit: row["unit"], firstBuild: row["first_build"], lastBuild: row["last_build"], signatureID: row["signature_id"],
            frozenBy: row["login"], printedName: row["printed_name"], frozenAt: row["frozen_at"])
    }
}

/// A point's SPC as the record answers `spc.get`: its chart with the limits it is judged
/// against, the points that trip tests 1–4, and its capability against the specification.
///
/// The values enter as exact decimals and become Doubles here, once; the answer rounds every
/// figure to one digit more than the readings carry (indices to two places).
struct SPCReport: Sendable {
    let history: PointHistory
    let chart: ControlChart
    /// The limits the chart is judged against: frozen ones (Phase II) when they fit the chart,
    /// else computed from every subgroup (Phase I).
    let baseline: ControlChart.Baseline?
    let frozen: FrozenLimits?
    let causes: [SpecialCause]
    let capability: ProcessCapability?
    var warnings: [String] = []

    init(history: PointHistory, frozen: FrozenLimits?) {
        self.history = history
        // Each value becomes a Double once; every subgroup's limits serve Phase I and capability.
        let values = history.subgroups.map { $0.values.map(Self.double) }
        chart = ControlChart(subgroups: values, subgroupSize: history.point.count)
        let everySubgroup = chart.baseline()
        if let frozen, frozen.baseline.kind == chart.kind, frozen.baseline.subgroupSize == chart.subgroupSize, frozen.unit == history.unit.code {
            baseline = frozen.baseline
            self.frozen = frozen
        } else {
            if let frozen {
                warnings.append(
                    "the limits frozen for \(frozen.baseline.kind.rawValue) with subgroups of \(frozen.baseline.subgroupSize) in \(frozen.unit) do not fit this point's \(chart.kind.rawValue) with subgroups of \(chart.subgroupSize) in \(history.unit.code): they are computed afresh (Phase I)")
            }
            baseline = everySubgroup
            self.frozen = nil
        }
        if history.unreadable > 0 {
            warnings.append("\(history.unreadable) readings could not be read as values in \(history.unit.code): they are left out, and their builds counted incomplete")
        }
        if let baseline {
            causes = (SpecialCause.location(chart.plotted.map(\.location), limits: baseline.location)
                + SpecialCause.dispersion(chart.plotted.map(\.dispersion), limits: baseline.dispersion))
                .sorted { ($0.index, $0.test) < ($1.index, $1.test) }
        } else {
            causes = []
            warnings.append("\(history.subgroups.count) complete subgroups: a chart needs at least 2")
        }
        let limits = history.point.limits
        capability = everySubgroup.map { within in
            ProcessCapability(
                values: values.flatMap { $0 }, subgroups: history.subgroups.count,
                sigmaWithin: within.sigmaWithin, lower: limits?.lower.map(Self.double), upper: limits?.upper.map(Self.double))
        }
    }

    static func double(_ value: ExactDecimal) -> Double { Double(value.description) ?? .nan }

    /// Digits after the point for the chart's figures: one more than the finest reading.
    var decimals: Int { min(6, (history.subgroups.flatMap { $0.values.map(\.scale) }.max() ?? 3) + 1) }

    /// The words an operator reads for `cause`: "9 bore diameters in a row above the centre line".
    func notice(_ cause: SpecialCause) -> String {
        let name = history.point.name
        let averaged = chart.kind != .individuals
        let plural = (averaged ? "average " : "") + (name.hasSuffix("s") ? name : "\(name)s")
        let plotted = chart.plotted[cause.index]
        switch (cause.test, cause.pane) {
        case (.beyondLimits, .location):
            let value = format(plotted.location), limit = format(cause.direction == .above ? baseline?.location.upper : baseline?.location.lower)
            return "\(averaged ? "average " : "")\(name) \(value) \(history.unit.code) is \(cause.direction == .above ? "above the upper" : "below the lower") control limit \(limit)"
        case (.beyondLimits, .dispersion):
            let value = format(plotted.dispersion), limit = format(cause.direction == .above ? baseline?.dispersion.upper : baseline?.dispersion.lower)
            return "\(chart.kind.dispersionName) of \(name) \(value) \(history.unit.code) is \(cause.direction == .above ? "above the upper" : "below the lower") control limit \(limit)"
        case (.nineOnOneSide, _):
            return "\(cause.run) \(plural) in a row \(cause.direction == .above ? "above" : "below") the centre line"
        case (.sixTrending, _):
            return "\(cause.run) \(plural) in a row \(cause.direction == .increasing ? "increasing" : "decreasing")"
        case (.fourteenAlternating, _):
            return "\(cause.run) \(plural) in a row alternating up and down"
        }
    }

    private func format(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "—" }
        return String(format: "%.\(decimals)f", value)
    }

    private func number(_ value: Double?, decimals: Int? = nil) -> JSONValue {
        guard let value, value.isFinite else { return .null }
        return .number(Double(String(format: "%.\(decimals ?? self.decimals)f", value)) ?? value)
    }

    private func json(_ limits: ControlChart.Limits) -> JSONValue {
        ["centre": number(limits.centre), "lower": number(limits.lower), "upper": number(limits.upper)]
    }

    /// The answer to `spc.get`, with the last `last` subgroups (all when nil).
    func json(last: Int?) -> JSONValue {
        let hidden = max(0, history.subgroups.count - (last ?? history.subgroups.count))
        let specification = history.point.limits
        var limits: JSONValue = .null
        if let baseline {
            var members: [String: JSONValue] = [
                "location": json(baseline.location), "dispersion": json(baseline.dispersion),
                "sigma_within": number(baseline.sigmaWithin, decimals: decimals + 1), "baseline_subgroups": .integer(Int64(baseline.subgroups)),
                "frozen": .null,
            ]
            if let frozen {
                members["frozen"] = [
                    "limits_id": .integer(frozen.id), "by": .string(frozen.frozenBy), "printed_name": .string(frozen.printedName),
                    "frozen_at": .string(frozen.frozenAt), "signature_id": .integer(frozen.signatureID),
                    "first_build": .integer(frozen.firstBuild), "last_build": .integer(frozen.lastBuild),
                ]
            }
            limits = .object(members)
        }
        let subgroups: [JSONValue] = history.subgroups.indices.dropFirst(hidden).map { index in
            let subgroup = history.subgroups[index]
            return [
                "build_id": .integer(subgroup.buildID), "serial": .string(subgroup.serial),
                "values": .array(subgroup.values.map { .string($0.description) }),
                "result_ids": .array(subgroup.resultIDs.map(JSONValue.integer)),
                "location": number(chart.plotted[index].location), "dispersion": number(chart.plotted[index].dispersion),
                "tests": .array(causes.filter { $0.index == index }.map { .integer(Int64($0.test.rawValue)) }),
            ]
        }
        let flagged: [JSONValue] = causes.filter { $0.index >= hidden }.map { cause in
            [
                "test": .integer(Int64(cause.test.rawValue)), "pane": .string(cause.pane.rawValue), "direction": .string(cause.direction.rawValue),
                "run": .integer(Int64(cause.run)), "build_id": .integer(history.subgroups[cause.index].buildID),
                "serial": .string(history.subgroups[cause.index].serial), "notice": .string(notice(cause)),
            ]
        }
        var capabilityJSON: JSONValue = .null
        if let capability {
            capabilityJSON = [
                "values": .integer(Int64(capability.values)), "subgroups": .integer(Int64(capability.subgroups)),
                "mean": number(capability.mean), "sigma_within": number(capability.sigmaWithin, decimals: decimals + 1),
                "sigma_overall": number(capability.sigmaOverall, decimals: decimals + 1),
                "cp": number(capability.cp, decimals: 2), "cpk": number(capability.cpk, decimals: 2),
                "pp": number(capability.pp, decimals: 2), "ppk": number(capability.ppk, decimals: 2),
                "warnings": .array(capability.warnings.map(JSONValue.string)),
            ]
        }
        return [
            "part": .string(history.part), "operation": .string(history.operation), "step": .string(history.step),
            "step_title": .string(history.stepTitle), "point": .string(history.point.name),
            "instruction_revision": .string(history.instructionRevision), "unit": .string(history.unit.code),
            "chart": .string(chart.kind.rawValue), "subgroup_size": .integer(Int64(chart.subgroupSize)),
            "phase": .string(frozen == nil ? "I" : "II"),
            "specification": [
                "lower": specification?.lower.map { .string($0.description) } ?? .null,
                "upper": specification?.upper.map { .string($0.description) } ?? .null,
                "nominal": specification?.nominal.map { .string($0.description) } ?? .null,
            ],
            "limits": limits, "subgroups": .array(subgroups), "special_causes": .array(flagged), "capability": capabilityJSON,
            "incomplete_subgroups": .integer(Int64(history.incompleteSubgroups)), "warnings": .array(warnings.map(JSONValue.string)),
        ]
    }
}
