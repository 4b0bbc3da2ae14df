import FloorgateCore
import Foundation
import RecordProtocol

/// Everything the record knows about one build, read in one go: its unit, work order, the
/// instruction revision it runs on, completed steps, results, nonconformances and the redline
/// waiting for acknowledgement. The rules of binding and completion are answered here.
struct BuildState {
    var id: Int64
    var serial: String
    var workOrder: String
    var partNumber: String
    var partRevision: String
    var operation: String
    var status: String
    var station: String
    var openedBy: String
    var openedAt: String
    var closedAt: String?
    var instructionID: Int64
    var instructionRevision: String
    var instructionTitle: String
    var content: InstructionContent
    var completions: [String: RecordRow]
    /// The build's results: those of the active step, or all of them (see `load`).
    var results: [RecordRow]
    var nonconformances: [RecordRow]
    var pendingRedline: RecordRow?
    /// The content of the pending redline's new revision, read for views (not for binding).
    var redlineContent: InstructionContent?
    /// The results that stand (not replaced by a correction), read once for the binding rules.
    var standingResults: [ResultFacts]
    /// The nonconformance raised by each failed result, by result id.
    var nonconformanceByResult: [Int64: RecordRow]
    /// The build's newest result and when it was measured, a result measured before it being
    /// noted (read for `result.record` only: nil in other scopes).
    var lastMeasured: (resultID: Int64, measuredAt: String)?

    /// What the binding and completion rules need of one result row, read from it once.
    struct ResultFacts {
        let row: RecordRow
        let id: Int64
        let instructionID: Int64
        let step: String
        let point: String
        let verdict: String
        /// A failure within a running tightening batch: recorded, it takes no place.
        let isBatchRetry: Bool

        init(_ row: RecordRow, isBatchRetry: Bool? = nil) {
            self.row = row
            self.isBatchRetry = isBatchRetry ?? ((row["batch_retry"] as Int64? ?? 0) == 1)
            id = row["id"]
            instructionID = row["instruction_id"]
            step = row["step"]
            point = row["point"]
            verdict = row["verdict"]
        }

        var isFailure: Bool { verdict == "fail_low" || verdict == "fail_high" }
    }

    /// Which results `load` reads.
    enum ResultScope {
        /// The active step's results, only the columns the binding rules use (`result.record`).
        case bindingFacts
        /// The active step's results, whole (views, step completion).
        case activeStep
        /// Every result of the build, whole (the DHR, corrections).
        case all
    }

    /// Reads build `id` with the results `scope` asks for: a build may hold thousands, and a
    /// result, a step completion or a view needs only the active step's.
    static func load(
        _ transaction: any RecordTransaction, id: Int64, service: RecordService, results scope: ResultScope = .activeStep
    ) async throws -> BuildState {
        guard let row = try await transaction.row(
                """
                SELECT build.*, unit_serial.serial, work_order.number AS work_order, part.number AS part_number,
                       part.revision AS part_revision, instruction.revision AS instruction_revision,
                       instruction.title AS instruction_title
                FROM build
                JOIN unit_serial ON unit_serial.id = build.serial_id
                JOIN work_order ON work_order.id = unit_serial.work_order_id
                JOIN part ON part.id = work_order.part_id
                JOIN instruction ON instruction.id = build.instruction_id
                WHERE build.id = ?
                """, id)
        else { throw WorkRecordError(.notFound, "no build with id \(id)") }
        let instructionID: Int64 = row["instruction_id"]
        let completionRows = try await transaction.rows("SELECT * FROM step_completion WHERE build_id = ?", id)
        let completions = Dictionary(completionRows.map { ($0["step"] as String, $0) }, uniquingKeysWith: { first, _ in first })
        let content = try await service.content(ofInstruction: instructionID, transaction)
        let results: [RecordRow]
        let activeKey = content.steps.first(where: { completions[$0.key] == nil })?.key
        switch (scope, activeKey) {
        case (.all, _):
            results = try await transaction.rows("SELECT *, \(batchRetry) FROM result WHERE build_id = ? ORDER BY id", id)
        case (.activeStep, let key?):
            results = try await transaction.rows("SELECT *, \(batchRetry) FROM result WHERE build_id = ? AND step = ? ORDER BY id", id, key)
        case (.bindingFacts, let key?):
            results = try await transaction.rows(
                """
                SELECT id, instruction_id, step, point, verdict, corrects, remeasures_nc, \(batchRetry) FROM result
                WHERE build_id = ? AND step = ? ORDER BY id
                """, id, key)
        case (_, nil):
            results = []
        }
        let corrected = Set(results.compactMap { $0["corrects"] as Int64? })
        let nonconformances = try await transaction.rows(
            """
            SELECT nonconformance.*, nc_disposition.disposition, nc_disposition.comment AS disposition_comment,
                   nc_disposition.signature_id AS disposition_signature, nc_disposition.dispositioned_at
            FROM nonconformance LEFT JOIN nc_disposition ON nc_disposition.nc_id = nonconformance.id
            WHERE build_id = ? ORDER BY nonconformance.id
            """, id)
        let pendingRedline = row["status"] as String? != "open" ? nil : try await transaction.row(
            """
            SELECT redline.*, old.revision AS from_revision, new.revision AS to_revision,
                   old.title AS from_title, new.title AS to_title
            FROM redline JOIN instruction old ON old.id = redline.from_instruction
            JOIN instruction new ON new.id = redline.to_instruction
            WHERE redline.from_instruction = ?
              AND NOT EXISTS (SELECT 1 FROM redline_ack WHERE build_id = ? AND redline_id = redline.id)
            """, instructionID, id)
        var redlineContent: InstructionContent?
        if let pendingRedline, scope != .bindingFacts {
            redlineContent = try await service.content(ofInstruction: pendingRedline["to_instruction"], transaction)
        }
        return BuildState(
            id: id, serial: row["serial"], workOrder: row["work_order"], partNumber: row["part_number"],
            partRevision: row["part_revision"], operation: row["operation"], status: row["status"],
            station: row["station"], openedBy: row["opened_by"], openedAt: row["opened_at"], closedAt: row["closed_at"],
            instructionID: instructionID, instructionRevision: row["instruction_revision"],
            instructionTitle: row["instruction_title"],
            content: content, completions: completions, results: results,
            nonconformances: nonconformances,
            pendingRedline: pendingRedline,
            redlineContent: redlineContent,
            standingResults: results.filter { !corrected.contains($0["id"]) }.map { ResultFacts($0) },
            nonconformanceByResult: [:],
            // Only result.record judges a new result's time against it.
            lastMeasured: scope != .bindingFacts ? nil
                : try await transaction.row("SELECT id, measured_at FROM result WHERE build_id = ? ORDER BY id DESC LIMIT 1", id)
                    .map { ($0["id"], $0["measured_at"]) }
        ).indexingNonconformances()
    }

    /// The build named by `build_id`, or by `serial` (and `operation` when the serial has
    /// several builds; the newest otherwise).
    static func id(from params: Parameters, _ transaction: any RecordTransaction) async throws -> Int64 {
        if let id = try params.optionalInteger("build_id") { return id }
        guard let serial = try params.optionalString("serial") else {
            throw WorkRecordError(.invalidParams, "params.build_id or params.serial is required")
        }
        let operation = try params.optionalString("operation")
        let newest = "SELECT build.id FROM build JOIN unit_serial ON unit_serial.id = build.serial_id WHERE unit_serial.serial = ?"
        let found = if let operation {
            try await transaction.integer(newest + " AND build.operation = ? ORDER BY build.id DESC LIMIT 1", serial, operation)
        } else {
            try await transaction.integer(newest + " ORDER BY build.id DESC LIMIT 1", serial)
        }
        guard let id = found
        else { throw WorkRecordError(.notFound, "no build for serial '\(serial)'\(operation.map { " operation \($0)" } ?? "")") }
        return id
    }

    var isOpen: Bool { status == "open" }

    /// The column `batch_retry` of a result row: whether its tightening failed within a
    /// running batch (see ``ResultFacts/isBatchRetry``).
    private static let batchRetry = "(SELECT batch_retry FROM tightening WHERE tightening.result_id = result.id) AS batch_retry"

    /// The first step of the build's revision not yet completed; nil when all are.
    var activeStep: InstructionContent.Step? { content.steps.first { completions[$0.key] == nil } }


    /// The standing results of one point under the build's current revision: a redline
    /// acknowledged mid-step means the point is measured again against the new limits.
    func results(step: String, point: String) -> [ResultFacts] {
        standingResults.filter { $0.step == step && $0.point == point && $0.instructionID == instructionID }
    }

    func nonconformance(forResult id: Int64) -> RecordRow? { nonconformanceByResult[id] }

    private func disposition(of result: ResultFacts) -> String? {
        nonconformanceByResult[result.id]?["disposition"]
    }

    /// Adds `result`, recorded against the active step, and the nonconformance it raised, if
    /// any: what `result.record` would read back, without reading it.
    mutating func record(_ result: RecordRow, raising nonconformance: RecordRow?, batchRetry: Bool) {
        results.append(result)
        lastMeasured = (result["id"], result["measured_at"])
        standingResults.append(ResultFacts(result, isBatchRetry: batchRetry))
        if let nonconformance {
            nonconformances.append(nonconformance)
            nonconformanceByResult[result["id"]] = nonconformance
        }
    }

    private func indexingNonconformances() -> BuildState {
        var indexed = self
        for nc in nonconformances {
            if let resultID = nc["result_id"] as Int64? { indexed.nonconformanceByResult[resultID] = nc }
        }
        return indexed
    }

    /// How many of the point's results it still takes. A failed result fills its place until
    /// its nonconformance is dispositioned `rework`; an invalid one never does, nor does a
    /// failure within a running tightening batch (the operator tightens again).
    func openSlots(step: String, point: InstructionContent.Point) -> Int {
        let filled = results(step: step, point: point.name).filter { result in
            result.verdict == "pass" || (result.isFailure && !result.isBatchRetry && disposition(of: result) != "rework")
        }
        return max(0, point.count - filled.count)
    }

    /// Points of the step that lack a passing or dispositioned (other than rework) result.
    func unsatisfiedPoints(of step: InstructionContent.Step) -> [String] {
        step.points.filter { point in
            let satisfied = results(step: step.key, point: point.name).filter { result in
                guard result.isFailure else { return result.verdict == "pass" }
                let disposition = disposition(of: result)
                return disposition != nil && disposition != "rework"
            }
            return satisfied.count < point.count
        }.map(\.name)
    }

    /// The nonconformance without disposition raised by a result of this point, if any.
    func openNonconformance(on step: String, point: String) -> RecordRow? {
        results(step: step, point: point).lazy.compactMap { self.nonconformanceByResult[$0.id] }
            .first { $0["disposition"] as String? == nil }
    }

    var openNonconformances: [RecordRow] { nonconformances.filter { $0["disposition"] as String? == nil } }

    // MARK: - JSON views

    var json: JSONValue {
        .object([
            "build_id": .integer(id), "serial": .string(serial), "work_order": .string(workOrder),
            "part": .string(partNumber), "part_revision": .string(partRevision), "operation": .string(operation),
            "status": .string(status), "station": .string(station), "opened_by": .string(openedBy),
            "opened_at": .string(openedAt), "closed_at": .optional(closedAt),
            "instruction": ["id": .integer(instructionID), "revision": .string(instructionRevision), "title": .string(instructionTitle)],
            "active_step": activeStep.map(stepJSON) ?? .null,
            "steps": .array(content.steps.map { step in
                let status = completions[step.key] != nil ? "complete" : (step.key == activeStep?.key ? "active" : "pending")
                return ["key": .string(step.key), "title": .string(step.title), "status": .string(status)]
            }),
            "pending_redline": pendingRedline.map { Self.redlineJSON($0, changes: redlineChanges) } ?? .null,
            "open_ncs": .array(openNonconformances.map(Self.nonconformanceJSON)),
        ])
    }

    /// The step as builds show it; `pictures` only where the step shows any.
    func stepJSON(_ step: InstructionContent.Step) -> JSONValue {
        var members: [String: JSONValue] = [
            "key": .string(step.key), "title": .string(step.title), "text": .string(step.text),
            "points": .array(step.points.map { point in
                guard case .object(var members) = point.json else { return point.json }
                members["results"] = .array(results(step: step.key, point: point.name).map { Self.resultJSON($0.row) })
                members["open"] = .integer(Int64(openSlots(step: step.key, point: point)))
                return .object(members)
            }),
        ]
        if !step.pictures.isEmpty {
            members["pictures"] = .array(step.pictures.map(\.json))
        }
        return .object(members)
    }

    static func resultJSON(_ row: RecordRow) -> JSONValue {
        var members: [String: JSONValue] = [:]
        for column in [
            "step", "point", "value", "verdict", "operator", "station", "measured_at", "recorded_at", "key", "unit", "resolution",
            "angle", "reason", "correction_reason",
        ] {
            members[column] = .optional(row[column] as String?)
        }
        for column in ["corrects", "remeasures_nc"] {
            members[column] = .optional(row[column] as Int64?)
        }
        members["result_id"] = .optional(row["id"] as Int64?)
        members["device"] = .object([
            "kind": .optional(row["device_kind"] as String?), "profile": .optional(row["device_profile"] as String?),
            "serial": .optional(row["device_serial"] as String?),
        ])
        members["raw_hex"] = .optional((row["raw"] as Data?).map { DeviceEvent.hex($0) })
        // Only where it is so: a failure within a running tightening batch takes no place.
        if row["batch_retry"] as Int64? == 1 { members["batch_retry"] = .bool(true) }
        return .object(members)
    }

    static func nonconformanceJSON(_ row: RecordRow) -> JSONValue {
        .object([
            "nc_id": .integer(row["id"]), "step": .optional(row["step"] as String?), "point": .optional(row["point"] as String?),
            "result_id": .optional(row["result_id"] as Int64?), "description": .string(row["description"]),
            "source": .string(row["source"]), "raised_by": .string(row["raised_by"]), "raised_at": .string(row["raised_at"]),
            "disposition": .optional(row["disposition"] as String?),
            "disposition_comment": .optional(row["disposition_comment"] as String?),
            "disposition_signature": .optional(row["disposition_signature"] as Int64?),
            "dispositioned_at": .optional(row["dispositioned_at"] as String?),
        ])
    }

    /// A pending redline; `changes` is what it changes (`InstructionDifference`, as `floorgate
    /// record diff` prints it), null where the view was read without it.
    static func redlineJSON(_ row: RecordRow, changes: JSONValue) -> JSONValue {
        .object([
            "redline_id": .integer(row["id"]), "from_revision": .string(row["from_revision"]),
            "to_revision": .string(row["to_revision"]), "reason": .string(row["reason"]),
            "published_at": .string(row["published_at"]), "changes": changes,
        ])
    }

    /// What the pending redline changes from the build's revision, step by step.
    var redlineChanges: JSONValue {
        guard let pendingRedline, let redlineContent else { return .null }
        let old: JSONValue = ["title": .string(pendingRedline["from_title"]), "steps": content.json["steps"] ?? []]
        let new: JSONValue = ["title": .string(pendingRedline["to_title"]), "steps": redlineContent.json["steps"] ?? []]
        return InstructionDifference(from: old, to: new).json
    }
}
