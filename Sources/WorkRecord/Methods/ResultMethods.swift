import FloorgateCore
import Foundation
import RecordProtocol

/// `result.record` and `result.correct`: results are appended, never changed.
enum ResultMethods {
    /// What a result says, before it is bound to a point.
    struct Reading {
        var kind: InstructionContent.Point.Kind
        /// The decimal value (or the scanned text for a scan).
        var value: String
        /// A scan's AIM symbology identifier (`]d2`), when the scanner sent one.
        var aim: String?
        var measurement: FloorgateCore.Measurement?
        var resolution: ExactDecimal?
        var angle: ExactDecimal?
        var deviceKind: String
        var deviceProfile: String?
        var deviceSerial: String?
        var operatorName: String
        var station: String
        var measuredAt: String
        var raw: Data?
        /// What a torque tool's controller said of the tightening (program, identifier, batch).
        var tightening: TighteningContext?

        init(_ params: Parameters) throws(WorkRecordError) {
            let kindName = try params.optionalString("kind") ?? "measure"
            guard let kind = InstructionContent.Point.Kind(rawValue: kindName), [.measure, .torque, .scan].contains(kind) else {
                throw WorkRecordError(.invalidParams, "params.kind '\(kindName)' is not one of: measure, torque, scan")
            }
            self.kind = kind
            if kind == .scan {
                value = try params.string("text")
                aim = try params.optionalString("aim")
                measurement = nil
            } else {
                let decimal = try params.decimal("value")
                let unit = try params.unit("unit")
                value = decimal.description
                measurement = FloorgateCore.Measurement(decimal, unit)
            }
            resolution = try params.optionalDecimal("resolution")
            angle = try params.optionalDecimal("angle")
            let device = try params.object("device")
            deviceKind = try device.string("kind")
            deviceProfile = try device.optionalString("profile")
            deviceSerial = try device.optionalString("serial")
            operatorName = try params.string("operator")
            station = try params.string("station")
            measuredAt = try params.optionalString("measured_at") ?? RecordClock.timestamp()
            tightening = kind == .torque ? try TighteningContext(params) : nil
            if let hex = try params.optionalString("raw_hex") {
                guard let bytes = DeviceEvent.bytes(fromHex: hex) else {
                    throw WorkRecordError(.invalidParams, "params.raw_hex must be an even number of hex digits")
                }
                raw = Data(bytes)
            }
        }

        /// Whether `point` takes this reading: same kind (a scan fills scan, component and label
        /// points), same quantity, an admitted device.
        func fits(_ point: InstructionContent.Point) -> Bool {
            guard point.kind == kind || (kind == .scan && point.kind.takesScans), point.deviceKind == deviceKind else { return false }
            if let profile = point.deviceProfile, profile != deviceProfile { return false }
            return point.quantity == measurement?.unit.quantity
        }

        func verdict(against point: InstructionContent.Point) -> Verdict {
            guard let limits = point.limits, let measurement else { return .pass }
            return limits.verdict(for: measurement, angle: angle)
        }

        /// The record's verdict on this reading for `point` of unit `serial`, and whether it
        /// raises a nonconformance: a failure does; a tightening is also judged on what its
        /// controller says (TighteningContext).
        func judgement(for point: InstructionContent.Point, serial: String) -> ResultJudgement {
            let limits = verdict(against: point)
            guard let tightening else {
                return ResultJudgement(verdict: limits, raisesNonconformance: limits.isFailure, batchRetry: false)
            }
            return tightening.judge(limits, point: point, serial: serial)
        }
    }

    /// Records a result against the build's active step: the first open point that fits it (or
    /// the named `point`), with the record's own verdict. A failing result raises a
    /// nonconformance; a result no point takes is refused (`no open point`) for the gateway to
    /// keep as unbound.
    static func record(_ context: MethodContext) async throws -> RecordOutcome {
        let reading = try Reading(context.params)
        let buildID = try context.params.integer("build_id")
        var build = if let remembered = context.transaction.memory?.takeBuild(buildID) {
            remembered
        } else {
            try await BuildState.load(context.transaction, id: buildID, service: context.service, results: .bindingFacts)
        }
        guard build.isOpen else { throw WorkRecordError(.invalidState, "build \(build.id) of serial '\(build.serial)' is \(build.status)") }
        let timeNote = try ResultTimeNote.judge(reading.measuredAt, recordedAt: Date(), previous: build.lastMeasured, policy: context.service.resultTimes)
        guard let step = build.activeStep else {
            throw WorkRecordError(.noOpenPoint, "build \(build.id) has no active step; every step is complete")
        }
        let named = try context.params.optionalString("point")
        // Points are filled in order. One held by a failure awaiting disposition keeps its
        // place: the re-measurement of a failed point never lands on the next one.
        var chosen: InstructionContent.Point?
        for point in step.points where (named == nil || point.name == named) && reading.fits(point) {
            if build.openSlots(step: step.key, point: point) > 0 {
                chosen = point
                break
            }
            if let nc = build.openNonconformance(on: step.key, point: point.name) {
                throw WorkRecordError(
                    .noOpenPoint,
                    "point '\(point.name)' of step \(step.key) waits for the disposition of nonconformance \(nc["id"] as Int64? ?? 0)")
            }
        }
        guard let point = chosen else {
            let what = reading.measurement.map { "a \($0.unit.quantity) reading (\($0))" } ?? "a \(reading.kind.rawValue)"
            throw WorkRecordError(
                .noOpenPoint,
                "step \(step.key) '\(step.title)' has no open \(named.map { "point '\($0)'" } ?? "point") for \(what) from a \(reading.deviceKind)")
        }
        try await CalibrationRegister.admit(reading, for: point, context.transaction)
        var component: (label: ComponentLabel, spec: InstructionContent.Point.Component)?
        var judged: ResultJudgement?
        if let spec = point.component {
            component = (try await ComponentRegister.admit(reading, for: point, spec, build: build, context.transaction), spec)
        } else if point.kind == .label {
            guard let udi = try await UnitUDI.load(serial: build.serial, context.transaction) else {
                throw WorkRecordError(.invalidState, "\(point.name): part \(build.partNumber) has no GTIN in the record, so serial \(build.serial) has no UDI to check the label against")
            }
            // A label that is not the unit's UDI is a nonconformance: the unit may not leave with it.
            let verdict = udi.verdict(scanned: reading.value, aim: reading.aim)
            judged = ResultJudgement(verdict: verdict, raisesNonconformance: verdict != .pass, batchRetry: false)
        }
        let judgement = judged ?? reading.judgement(for: point, serial: build.serial)
        var (outcome, result, nonconformance) = try await append(
            reading, to: point, of: step, build, instructionID: build.instructionID, correction: nil, judgement: judgement, context)
        if let tightening = reading.tightening {
            try await tightening.record(result: result, batchRetry: judgement.batchRetry, writer: context.writer)
        }
        if let timeNote {
            try await timeNote.record(result: result, writer: context.writer)
            // Said in the answer only when there is something to say: the gateway shows it.
            if case .object(var answer) = outcome.result {
                answer["late"] = timeNote.late ? .bool(true) : nil
                answer["time_note"] = .string(timeNote.text)
                outcome.result = .object(answer)
            }
        }
        if let component {
            try await ComponentRegister.record(component.label, component.spec, result: result, writer: context.writer)
            // What the label was read as, for the operator's views.
            if case .object(var answer) = outcome.result {
                answer["component"] = [
                    "part": .string(component.spec.part), "lot": .optional(component.label.lot), "serial": .optional(component.label.serial),
                    "expiry": .optional(component.label.expiry?.description),
                ]
                outcome.result = .object(answer)
            }
        }
        // The build as the next result finds it.
        build.record(result, raising: nonconformance, batchRetry: judgement.batchRetry)
        context.transaction.memory?.remember(build)
        return outcome
    }

    /// Records a corrected value for an earlier result: a new result that references the old
    /// one with a reason and a quality signature. The old result stays, marked as corrected.
    static func correct(_ context: MethodContext) async throws -> RecordOutcome {
        let signature = try SignatureInput(context.params)
        let reading = try Reading(context.params)
        _ = try ResultTimeNote.judge(reading.measuredAt, recordedAt: Date(), previous: nil, policy: context.service.resultTimes)
        let oldID = try context.params.integer("result_id")
        let reason = try context.params.string("reason")
        guard let old = try await context.transaction.row("SELECT * FROM result WHERE id = ?", oldID) else {
            throw WorkRecordError(.notFound, "no result with id \(oldID)")
        }
        let build = try await BuildState.load(context.transaction, id: old["build_id"], service: context.service, results: .all)
        guard build.isOpen else { throw WorkRecordError(.invalidState, "build \(build.id) is \(build.status); its results are final") }
        guard !build.results.contains(where: { $0["corrects"] as Int64? == oldID }) else {
            throw WorkRecordError(.invalidState, "result \(oldID) was already corrected")
        }
        let content = try await context.service.content(ofInstruction: old["instruction_id"], context.transaction)
        guard let step = content.step(old["step"]), let point = step.points.first(where: { $0.name == old["point"] as String }),
              reading.fits(point)
        else { throw WorkRecordError(.invalidParams, "the corrected value does not fit point '\(old["point"] as String)'") }
        // A component's scan stands in the unit's as-built list, and a label's verdict was judged
        // against the unit: neither is rewritten. A wrong component is a nonconformance.
        guard point.kind != .component, point.kind != .label else {
            throw WorkRecordError(
                .invalidState,
                "result \(oldID) is the scan of \(point.kind == .label ? "the unit's label" : "a component's label") on point '\(point.name)': it is not corrected; raise a nonconformance against it instead")
        }
        let signed = try await context.signer.sign(
            signature, role: .quality, meaning: .reviewed, recordType: "result", recordID: oldID,
            subject: "correction of result \(oldID) (\(old["value"] as String)) on serial \(build.serial): \(reason)")
        let judgement = reading.judgement(for: point, serial: build.serial)
        let (outcome, result, _) = try await append(
            reading, to: point, of: step, build, instructionID: old["instruction_id"], correction: (oldID, reason, signed.id),
            judgement: judgement, context)
        if let tightening = reading.tightening {
            try await tightening.record(result: result, batchRetry: judgement.batchRetry, writer: context.writer)
        }
        return outcome
    }

    /// Appends `reading` to `point` with the record's verdict, and the nonconformance a failure
    /// raises; returns the answer and the rows as stored.
    private static func append(
        _ reading: Reading, to point: InstructionContent.Point, of step: InstructionContent.Step, _ build: BuildState,
        instructionID: Int64, correction: (resultID: Int64, reason: String, signatureID: Int64)?, judgement: ResultJudgement,
        _ context: MethodContext
    ) async throws -> (outcome: RecordOutcome, result: RecordRow, nonconformance: RecordRow?) {
        let verdict = judgement.verdict
        // A new result taking the place of one whose nonconformance was dispositioned for rework
        // (a correction replaces a result; it re-measures nothing).
        let reworked = correction != nil ? nil : build.results(step: step.key, point: point.name).compactMap { result -> Int64? in
            guard let nc = build.nonconformance(forResult: result.id), nc["disposition"] as String? == "rework" else { return nil }
            return nc["id"]
        }.first { nc in !build.results.contains { $0["remeasures_nc"] as Int64? == nc } }
        let result = try await context.writer.insertRow(
            "result",
            [
                "key": try context.params.string("idempotency_key"), "build_id": build.id,
                "instruction_id": instructionID, "step": step.key, "point": point.name,
                "value": reading.value, "unit": reading.measurement?.unit.code, "resolution": reading.resolution?.description,
                "angle": reading.angle?.description, "verdict": verdict.code,
                "reason": { if case .invalid(let reason) = verdict { reason } else { nil } }(),
                "device_kind": reading.deviceKind, "device_profile": reading.deviceProfile, "device_serial": reading.deviceSerial,
                "operator": reading.operatorName, "station": reading.station, "measured_at": reading.measuredAt,
                "recorded_at": RecordClock.timestamp(), "raw": reading.raw, "corrects": correction?.resultID,
                "correction_reason": correction?.reason, "signature_id": correction?.signatureID, "remeasures_nc": reworked,
            ], action: correction == nil ? "result.record" : "result.correct")
        let resultID: Int64 = result["id"]
        var notifications: [RecordNotification] = []
        var answer: [String: JSONValue] = [
            "result_id": .integer(resultID), "build_id": .integer(build.id), "step": .string(step.key),
            "point": .string(point.name), "verdict": .string(verdict.code), "nc_id": .null,
        ]
        if case .invalid(let reason) = verdict { answer["reason"] = .string(reason) }
        var nonconformance: RecordRow?
        if judgement.raisesNonconformance {
            let limits = point.limits.map { limits in
                "\(limits.lower.map { "\($0)" } ?? "−∞") … \(limits.upper.map { "\($0)" } ?? "+∞") \(limits.unit.code)"
            } ?? ""
            let description = if case .invalid(let reason) = verdict {
                "\(point.name): \(reason)"
            } else {
                "\(point.name): \(reading.value) \(reading.measurement?.unit.code ?? "") is \(verdict.code == "fail_low" ? "below" : "above") the limits \(limits)"
            }
            let raised = try await NonconformanceMethods.insert(
                build: build, step: step.key, point: point.name, resultID: resultID,
                description: description,
                source: "automatic", raisedBy: reading.operatorName, context)
            let ncID: Int64 = raised["id"]
            answer["nc_id"] = .integer(ncID)
            notifications.append(NonconformanceMethods.raised(ncID, build: build, step: step.key, point: point.name))
            nonconformance = raised
        }
        return (RecordOutcome(.object(answer), notifications: notifications), result, nonconformance)
    }
}

/// The record's verdict on a result, whether it raises a nonconformance, and whether it is a
/// failure within a running tightening batch (recorded, taking no place in the point).
struct ResultJudgement: Sendable, Equatable {
    var verdict: Verdict
    var raisesNonconformance: Bool
    var batchRetry: Bool
}
