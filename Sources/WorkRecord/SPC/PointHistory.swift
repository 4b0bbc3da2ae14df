import FloorgateCore
import Foundation
import RecordProtocol

/// A measurement point's results across builds, as SPC reads them: one subgroup per build, the
/// results that corrections and re-measurements superseded left out, every value in the unit of
/// the point's current limits.
///
/// A point is the same point across instruction revisions when its part number, operation, step
/// key and name are the same; it is judged against the limits of the newest approved revision.
struct PointHistory: Sendable {
    /// Which point: the part number, and the point's name; the step and operation when the name
    /// alone is ambiguous.
    struct Selector: Sendable, Equatable {
        var part: String
        var point: String
        var step: String?
        var operation: String?

        init(_ params: Parameters) throws(WorkRecordError) {
            part = try params.string("part")
            point = try params.string("point")
            step = try params.optionalString("step")
            operation = try params.optionalString("operation")
        }
    }

    /// One build's live readings of the point.
    struct Subgroup: Sendable {
        var buildID: Int64
        var serial: String
        var values: [ExactDecimal]
        var resultIDs: [Int64]
    }

    var part: String
    var operation: String
    var step: String
    var stepTitle: String
    /// The point as its newest approved revision defines it (limits, unit, count).
    var point: InstructionContent.Point
    var instructionRevision: String
    /// The unit every value is in: the limits'.
    var unit: MeasurementUnit
    /// Complete subgroups (as many readings as the point's count), oldest build first.
    var subgroups: [Subgroup]
    /// Builds whose readings of the point are fewer or more than its count (in progress, or
    /// measured under a revision with another count): left out of the chart.
    var incompleteSubgroups: Int
    /// Readings that are not a decimal in a unit convertible to the limits': left out.
    var unreadable: Int

    /// The history of the point `selector` names.
    static func load(_ selector: Selector, _ transaction: any RecordTransaction, service: RecordService) async throws -> PointHistory {
        let approved = try await transaction.rows(
            """
            SELECT instruction.id, instruction.operation, instruction.revision FROM instruction
            JOIN part ON part.id = instruction.part_id
            WHERE part.number = ? AND instruction.status = 'approved' ORDER BY instruction.id DESC
            """, selector.part)
        guard !approved.isEmpty else { throw WorkRecordError(.notFound, "part '\(selector.part)' has no approved instruction") }
        // Every (operation, step) of the part's effective revisions with a point of that name.
        var candidates: [(instruction: RecordRow, step: InstructionContent.Step, point: InstructionContent.Point)] = []
        for instruction in approved where selector.operation == nil || instruction["operation"] == selector.operation {
            let content = try await service.content(ofInstruction: instruction["id"], transaction)
            for step in content.steps where selector.step == nil || step.key == selector.step {
                for point in step.points where point.name == selector.point {
                    if !candidates.contains(where: { $0.instruction["operation"] as String == instruction["operation"] as String && $0.step.key == step.key }) {
                        candidates.append((instruction, step, point))
                    }
                }
            }
        }
        guard let chosen = candidates.first else {
            throw WorkRecordError(
                .notFound,
                "no approved instruction of part '\(selector.part)' has a point '\(selector.point)'\(selector.step.map { " in step \($0)" } ?? "")\(selector.operation.map { " of operation \($0)" } ?? "")")
        }
        guard candidates.count == 1 else {
            let places = candidates.map { "operation \($0.instruction["operation"] as String) step \($0.step.key)" }.joined(separator: ", ")
            throw WorkRecordError(.ambiguousPoint, "point '\(selector.point)' of part '\(selector.part)' is in \(places): name the step (and operation)")
        }
        guard chosen.point.kind != .scan, let limits = chosen.point.limits else {
            throw WorkRecordError(.invalidParams, "point '\(selector.point)' records scans, not values: it has no chart")
        }
        let operation: String = chosen.instruction["operation"]
        let rows = try await transaction.rows(
            """
            SELECT result.id, result.build_id, result.value, result.unit, result.verdict, result.corrects,
                   nonconformance.result_id AS remeasured, unit_serial.serial
            FROM result
            JOIN instruction ON instruction.id = result.instruction_id
            JOIN part ON part.id = instruction.part_id
            JOIN build ON build.id = result.build_id
            JOIN unit_serial ON unit_serial.id = build.serial_id
            LEFT JOIN nonconformance ON nonconformance.id = result.remeasures_nc
            WHERE part.number = ? AND instruction.operation = ? AND result.step = ? AND result.point = ?
            ORDER BY result.build_id, result.id
            """, selector.part, operation, chosen.step.key, chosen.point.name)
        let superseded = Set(rows.compactMap { $0["corrects"] as Int64? } + rows.compactMap { $0["remeasured"] as Int64? })
        var subgroups: [Subgroup] = []
        var incomplete = 0, unreadable = 0
        var current: Subgroup?
        func close(_ subgroup: Subgroup?) {
            guard let subgroup else { return }
            if subgroup.values.count == chosen.point.count { subgroups.append(subgroup) } else { incomplete += 1 }
        }
        for row in rows where !superseded.contains(row["id"]) && row["verdict"] as String != "invalid" {
            guard let unitCode = row["unit"] as String?, let unit = MeasurementUnit(code: unitCode),
                  let value = try? ExactDecimal(parsing: row["value"] as String),
                  let converted = Self.converted(Measurement(value, unit), to: limits.unit)
            else {
                unreadable += 1
                continue
            }
            if current?.buildID != row["build_id"] {
                close(current)
                current = Subgroup(buildID: row["build_id"], serial: row["serial"], values: [], resultIDs: [])
            }
            current?.values.append(converted)
            current?.resultIDs.append(row["id"])
        }
        close(current)
        return PointHistory(
            part: selector.part, operation: operation, step: chosen.step.key, stepTitle: chosen.step.title, point: chosen.point,
            instructionRevision: chosen.instruction["revision"], unit: limits.unit, subgroups: subgroups, incompleteSubgroups: incomplete,
            unreadable: unreadable)
    }

    /// `measurement` in `unit`: as it is when the units agree, else converted exactly with four
    /// more digits than it had (nil when the quantities differ).
    private static func converted(_ measurement: FloorgateCore.Measurement, to unit: MeasurementUnit) -> ExactDecimal? {
        guard measurement.unit != unit else { return measurement.value }
        let scale = min(ExactDecimal.maximumScale, measurement.value.scale + 4)
        return try? measurement.converted(to: unit, scale: scale).value
    }
}
