import FloorgateCore
import RecordProtocol

/// What a commanded torque tool's controller says of a tightening besides its torque and angle
/// (Open Protocol MID 0061): the program it ran, the identifier it held, where the tightening
/// stands in its batch, its own id, and the physical tool (MID 0041). The record keeps it beside
/// the result (`tightening`, append-only, in the audit chain) and judges it against the point.
struct TighteningContext: Sendable, Equatable {
    /// The batch's state as the controller reports it with the tightening.
    enum BatchStatus: String, Sendable, CaseIterable {
        case ok, nok, running
        case notUsed = "not_used"
    }

    /// The physical tool, as the controller describes it (MID 0041).
    struct Tool: Sendable, Equatable {
        var serial: String?
        var tightenings: Int64?
        var calibratedOn: String?
    }

    var pset: String?
    var identifier: String?
    var batchSize: Int64?
    var batchCounter: Int64?
    var batchStatus: BatchStatus?
    var tighteningID: String?
    var tool: Tool?

    /// Reads the tightening members of `result.record`'s params; nil when it carries none (a
    /// gauge, a scan, or a torque tool that only reports torque).
    init?(_ params: Parameters) throws(WorkRecordError) {
        pset = try params.optionalString("pset")
        identifier = try params.optionalString("identifier")
        batchSize = try params.optionalInteger("batch_size")
        batchCounter = try params.optionalInteger("batch_counter")
        tighteningID = try params.optionalString("tightening_id")
        if let status = try params.optionalString("batch_status") {
            guard let known = BatchStatus(rawValue: status) else {
                throw WorkRecordError(
                    .invalidParams, "params.batch_status '\(status)' is not one of: \(BatchStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            batchStatus = known
        }
        for (key, value) in [("batch_size", batchSize), ("batch_counter", batchCounter)] {
            if let value, value < 0 { throw WorkRecordError(.invalidParams, "params.\(key) must not be negative") }
        }
        if let tool = try params.optionalObject("tool") {
            let tightenings = try tool.optionalInteger("tightenings")
            let calibratedOn = try tool.optionalString("calibrated_on")
            if let calibratedOn, CalendarDate(calibratedOn) == nil {
                throw WorkRecordError(.invalidParams, "params.tool.calibrated_on '\(calibratedOn)' is not a date (2026-11-02)")
            }
            self.tool = Tool(serial: try tool.optionalString("serial"), tightenings: tightenings, calibratedOn: calibratedOn)
        }
        if pset == nil, identifier == nil, batchSize == nil, batchCounter == nil, batchStatus == nil, tighteningID == nil, tool == nil {
            return nil
        }
    }

    /// What the record makes of a tightening for `point` of unit `serial`, given the verdict of
    /// its torque and angle against the point's limits.
    ///
    /// - A point that names a program (`pset`) is commanded: a tightening of another program, or
    ///   one the controller held for another identifier than the unit's serial, is `invalid` and
    ///   raises a nonconformance; it never passes.
    /// - A failure within a running batch takes no place and raises nothing: the controller
    ///   counts only good tightenings and the operator tightens again.
    /// - A batch the controller ends NOK raises a nonconformance.
    func judge(_ limits: Verdict, point: InstructionContent.Point, serial: String) -> ResultJudgement {
        if let commanded = point.pset {
            if let pset, !Self.sameProgram(pset, commanded) {
                return ResultJudgement(
                    verdict: .invalid(reason: "the controller ran program \(pset); the step commands program \(commanded)"),
                    raisesNonconformance: true, batchRetry: false)
            }
            if let identifier, identifier != serial {
                return ResultJudgement(
                    verdict: .invalid(reason: "the controller tightened for identifier '\(identifier)', not for unit \(serial)"),
                    raisesNonconformance: true, batchRetry: false)
            }
        }
        switch batchStatus {
        case .running? where limits.isFailure:
            return ResultJudgement(verdict: limits, raisesNonconformance: false, batchRetry: true)
        case .nok?:
            let ended = "the controller ended the batch NOK" + (batchCounter.map { " at \($0) of \(batchSize.map(String.init) ?? "?")" } ?? "")
            return ResultJudgement(verdict: limits.isFailure ? limits : .invalid(reason: ended), raisesNonconformance: true, batchRetry: false)
        default:
            return ResultJudgement(verdict: limits, raisesNonconformance: limits.isFailure, batchRetry: false)
        }
    }

    /// Whether two program numbers name one program: `003` and `3` do.
    static func sameProgram(_ first: String, _ second: String) -> Bool {
        if let a = Int(first), let b = Int(second) { return a == b }
        return first == second
    }

    /// Keeps the context beside its result.
    func record(result: RecordRow, batchRetry: Bool, writer: AuditedWriter) async throws {
        try await writer.insert(
            "tightening",
            [
                "result_id": result["id"] as Int64, "tightening_id": tighteningID, "pset": pset, "identifier": identifier,
                "batch_size": batchSize, "batch_counter": batchCounter, "batch_status": batchStatus?.rawValue,
                "batch_retry": Int64(batchRetry ? 1 : 0), "tool_serial": tool?.serial, "tool_tightenings": tool?.tightenings,
                "tool_calibrated_on": tool?.calibratedOn, "recorded_at": result["recorded_at"] as String,
            ], action: "tightening.record")
    }

    /// A stored context as the DHR and `build.get` show it.
    static func json(_ row: RecordRow) -> JSONValue {
        var members: [String: JSONValue] = [
            "tightening_id": .optional(row["tightening_id"] as String?), "pset": .optional(row["pset"] as String?),
            "identifier": .optional(row["identifier"] as String?), "batch_size": .optional(row["batch_size"] as Int64?),
            "batch_counter": .optional(row["batch_counter"] as Int64?), "batch_status": .optional(row["batch_status"] as String?),
            "batch_retry": .bool((row["batch_retry"] as Int64? ?? 0) == 1),
        ]
        if row["tool_serial"] as String? != nil || row["tool_tightenings"] as Int64? != nil || row["tool_calibrated_on"] as String? != nil {
            members["tool"] = [
                "serial": .optional(row["tool_serial"] as String?), "tightenings": .optional(row["tool_tightenings"] as Int64?),
                "calibrated_on": .optional(row["tool_calibrated_on"] as String?),
            ]
        }
        return .object(members)
    }

    /// The stored contexts of builds' results, by result id.
    static func stored(forBuild buildID: Int64, _ transaction: any RecordTransaction) async throws -> [Int64: RecordRow] {
        let rows = try await transaction.rows(
            "SELECT tightening.* FROM tightening JOIN result ON result.id = tightening.result_id WHERE result.build_id = ? ORDER BY tightening.id",
            buildID)
        return Dictionary(rows.map { ($0["result_id"] as Int64, $0) }, uniquingKeysWith: { first, _ in first })
    }
}
