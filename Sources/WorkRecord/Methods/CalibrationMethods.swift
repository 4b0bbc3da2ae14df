import FloorgateCore
import RecordProtocol

/// `calibration.record`, `calibration.get` and `calibration.list`: the register of measuring
/// devices' calibrations (ISO 13485 7.6, 21 CFR 820.72).
enum CalibrationMethods {
    /// Appends an entry for one device, signed by a quality user. A failed calibration needs the
    /// assessment, and its answer lists every result the device gave since its last good
    /// calibration: the units to assess.
    static func record(_ context: MethodContext) async throws -> RecordOutcome {
        let entry = try await insert(context.params, signature: try SignatureInput(context.params), context)
        guard case .object(var answer) = entry.json else { return RecordOutcome(entry.json) }
        if entry.status == .failed {
            let lastGood = try await CalibrationRegister.history(asset: entry.asset, context.transaction)
                .last { $0.id != entry.id && $0.status == .calibrated }
            answer["affected"] = try await DeviceTrace.load(asset: entry.asset, since: lastGood?.calibratedOn, context.transaction).json
        }
        return RecordOutcome(.object(answer))
    }

    /// One device's state and its whole history.
    static func get(_ context: MethodContext) async throws -> RecordOutcome {
        let asset = try context.params.string("asset")
        let history = try await CalibrationRegister.history(asset: asset, context.transaction)
        guard let current = history.last else { throw WorkRecordError(.notFound, "no device '\(asset)' in the calibration register") }
        return RecordOutcome(["asset": .string(asset), "current": json(current), "history": .array(history.map(\.json))])
    }

    /// Every device's state (or those of `assets`), with the days until each falls due, counted
    /// from today (UTC); `due_within_days` keeps those due by then, overdue or out of service.
    static func list(_ context: MethodContext) async throws -> RecordOutcome {
        let assets = try context.params.array("assets").map { value -> String in
            guard let asset = value.stringValue else { throw WorkRecordError(.invalidParams, "params.assets must be strings") }
            return asset
        }
        let within = try context.params.optionalInteger("due_within_days")
        let devices = try await CalibrationRegister.current(context.transaction).filter { (entry: CalibrationEntry) -> Bool in
            guard assets.isEmpty || assets.contains(entry.asset) else { return false }
            guard let within else { return true }
            return entry.status != .calibrated || daysLeft(entry).map { $0 <= within } ?? false
        }
        return RecordOutcome(["devices": .array(devices.map(json))])
    }

    /// Reads one entry of `params` and appends it, signed by the quality user `signature` names.
    static func insert(_ params: Parameters, signature: SignatureInput, _ context: MethodContext) async throws -> CalibrationEntry {
        let asset = try params.string("asset")
        let status = try CalibrationEntry.Status(rawValue: params.choice("status", of: CalibrationEntry.Status.allCases.map(\.rawValue))) ?? .outOfService
        let calibratedOn = try date(params, "calibrated_on")
        var dueOn = try date(params, "due_on")
        let interval = try params.optionalInteger("interval_days")
        if let interval, !(1...3660).contains(interval) { throw WorkRecordError(.invalidParams, "\(params.path).interval_days must be 1…3660") }
        let certificate = try params.optionalString("certificate"), assessment = try params.optionalString("assessment")
        switch status {
        case .calibrated:
            guard let calibratedOn else { throw WorkRecordError(.invalidParams, "\(params.path).calibrated_on is required for a calibration (YYYY-MM-DD)") }
            guard certificate?.isEmpty == false else { throw WorkRecordError(.invalidParams, "\(params.path).certificate is required for a calibration") }
            if dueOn == nil, let interval { dueOn = calibratedOn.adding(days: interval) }
            guard let due = dueOn else { throw WorkRecordError(.invalidParams, "\(params.path): give due_on or interval_days") }
            guard due > calibratedOn else { throw WorkRecordError(.invalidParams, "\(params.path).due_on \(due) is not after calibrated_on \(calibratedOn)") }
        case .failed:
            guard calibratedOn != nil else { throw WorkRecordError(.invalidParams, "\(params.path).calibrated_on is required: the date it was found out of tolerance") }
            guard assessment?.isEmpty == false else {
                throw WorkRecordError(.invalidParams, "\(params.path).assessment is required: what the failure means for the results the device gave since its last good calibration")
            }
        case .outOfService:
            break
        }
        let id = try await AuditedWriter.nextID("calibration", context.transaction)
        let signed = try await context.signer.sign(
            signature, role: .quality, meaning: .approved, recordType: "calibration", recordID: id,
            subject: "calibration register: \(asset) \(status.rawValue)\(calibratedOn.map { " on \($0)" } ?? "")\(dueOn.map { ", due \($0)" } ?? "")")
        let row = try await context.writer.insertRow(
            "calibration",
            [
                "asset": asset, "description": try params.optionalString("description") ?? "", "status": status.rawValue,
                "calibrated_on": calibratedOn?.description, "due_on": dueOn?.description, "interval_days": interval,
                "certificate": certificate, "assessment": assessment, "signature_id": signed.id, "recorded_at": RecordClock.timestamp(),
            ], action: "calibration.record")
        return CalibrationEntry(row)
    }

    /// An entry with the days left until its due date (negative when overdue), from today (UTC).
    private static func json(_ entry: CalibrationEntry) -> JSONValue {
        guard case .object(var members) = entry.json else { return entry.json }
        members["days_until_due"] = .optional(daysLeft(entry))
        return .object(members)
    }

    private static func daysLeft(_ entry: CalibrationEntry) -> Int64? {
        guard let dueOn = entry.dueOn, let today = CalendarDate(timestamp: RecordClock.timestamp()) else { return nil }
        return today.days(until: dueOn)
    }

    private static func date(_ params: Parameters, _ key: String) throws(WorkRecordError) -> CalendarDate? {
        guard let text = try params.optionalString(key) else { return nil }
        guard let date = CalendarDate(text) else { throw WorkRecordError(.invalidParams, "\(params.path).\(key) '\(text)' is not a date (YYYY-MM-DD)") }
        return date
    }
}

/// `trace.device`: every result a measuring device gave (since a date), with the unit, work
/// order, operation and step: what a calibration failure's investigation assesses.
enum DeviceTrace {
    struct Found {
        var asset: String
        var since: CalendarDate?
        var results: [RecordRow]

        var json: JSONValue {
            var units: [String: (workOrder: String, part: String, results: Int64, failed: Int64)] = [:]
            var order: [String] = []
            for row in results {
                let serial: String = row["serial"]
                if units[serial] == nil {
                    order.append(serial)
                    units[serial] = (row["work_order"], row["part"], 0, 0)
                }
                units[serial]?.results += 1
                if (row["verdict"] as String).hasPrefix("fail") { units[serial]?.failed += 1 }
            }
            return [
                "asset": .string(asset), "since": .optional(since?.description),
                "result_count": .integer(Int64(results.count)), "unit_count": .integer(Int64(order.count)),
                "units": .array(order.compactMap { serial in
                    units[serial].map { unit in
                        [
                            "serial": .string(serial), "work_order": .string(unit.workOrder), "part": .string(unit.part),
                            "results": .integer(unit.results), "failed": .integer(unit.failed),
                        ]
                    }
                }),
                "results": .array(results.map(DeviceTrace.resultJSON)),
            ]
        }
    }

    private static func resultJSON(_ row: RecordRow) -> JSONValue {
        var members: [String: JSONValue] = [
            "result_id": .integer(row["id"]), "serial": .string(row["serial"]), "work_order": .string(row["work_order"]),
            "part": .string(row["part"]), "operation": .string(row["operation"]), "build_id": .integer(row["build_id"]),
            "instruction_revision": .string(row["instruction_revision"]), "step": .string(row["step"]),
        ]
        members["point"] = .string(row["point"])
        members["value"] = .string(row["value"])
        members["unit"] = .optional(row["unit"] as String?)
        members["verdict"] = .string(row["verdict"])
        members["station"] = .string(row["station"])
        members["measured_at"] = .string(row["measured_at"])
        members["corrects"] = .optional(row["corrects"] as Int64?)
        return .object(members)
    }

    static func run(_ context: MethodContext) async throws -> RecordOutcome {
        let asset = try context.params.string("asset")
        var since: CalendarDate?
        if let text = try context.params.optionalString("since") {
            guard let date = CalendarDate(text) else { throw WorkRecordError(.invalidParams, "params.since '\(text)' is not a date (YYYY-MM-DD)") }
            since = date
        }
        let found = try await load(asset: asset, since: since, context.transaction)
        guard case .object(var answer) = found.json else { return RecordOutcome(found.json) }
        answer["calibration"] = try await CalibrationRegister.newest(asset: asset, context.transaction)?.json ?? .null
        return RecordOutcome(.object(answer))
    }

    /// The device's results measured on or after `since` (all without it), in time order.
    static func load(asset: String, since: CalendarDate?, _ transaction: any RecordTransaction) async throws -> Found {
        let rows = try await transaction.rows(
            """
            SELECT result.id, result.build_id, result.step, result.point, result.value, result.unit, result.verdict,
                   result.station, result.measured_at, result.corrects, unit_serial.serial, work_order.number AS work_order,
                   part.number AS part, build.operation, instruction.revision AS instruction_revision
            FROM result JOIN build ON build.id = result.build_id JOIN unit_serial ON unit_serial.id = build.serial_id
            JOIN work_order ON work_order.id = unit_serial.work_order_id JOIN part ON part.id = work_order.part_id
            JOIN instruction ON instruction.id = result.instruction_id
            WHERE result.device_serial = ? AND result.measured_at >= ? ORDER BY result.measured_at, result.id
            """, asset, since?.description ?? "")
        return Found(asset: asset, since: since, results: rows)
    }
}
