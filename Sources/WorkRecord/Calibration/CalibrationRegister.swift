import FloorgateCore
import RecordProtocol

/// One entry of the calibration register: what became of a measuring device (its asset number
/// is the serial results name it by) on one occasion, signed by a quality user. Entries are
/// appended, never changed: a device's state is its newest entry.
struct CalibrationEntry: Sendable {
    enum Status: String, Sendable, CaseIterable {
        /// Calibrated and found in tolerance: in service until its due date.
        case calibrated
        /// Found out of tolerance at calibration: out of service, and every result since its
        /// last good calibration is to be assessed.
        case failed
        /// Withdrawn from use (lost, damaged, retired).
        case outOfService = "out-of-service"
    }

    var id: Int64
    var asset: String
    var description: String
    var status: Status
    var calibratedOn: CalendarDate?
    var dueOn: CalendarDate?
    var intervalDays: Int64?
    var certificate: String?
    var assessment: String?
    var signatureID: Int64
    var recordedAt: String

    init(_ row: RecordRow) {
        id = row["id"]
        asset = row["asset"]
        description = row["description"]
        status = Status(rawValue: row["status"]) ?? .outOfService
        calibratedOn = (row["calibrated_on"] as String?).flatMap { CalendarDate($0) }
        dueOn = (row["due_on"] as String?).flatMap { CalendarDate($0) }
        intervalDays = row["interval_days"]
        certificate = row["certificate"]
        assessment = row["assessment"]
        signatureID = row["signature_id"]
        recordedAt = row["recorded_at"]
    }

    var json: JSONValue {
        [
            "calibration_id": .integer(id), "asset": .string(asset), "description": .string(description), "status": .string(status.rawValue),
            "calibrated_on": .optional(calibratedOn?.description), "due_on": .optional(dueOn?.description),
            "interval_days": .optional(intervalDays), "certificate": .optional(certificate), "assessment": .optional(assessment),
            "signature_id": .integer(signatureID), "recorded_at": .string(recordedAt),
        ]
    }

    /// Why a result this device measured on `date` may not be recorded, or nil when it may.
    func refusal(measuredOn date: CalendarDate, device: String) -> WorkRecordError? {
        switch status {
        case .failed:
            WorkRecordError(
                .deviceOutOfService,
                "\(device): failed calibration on \(calibratedOn?.description ?? "?"), out of service until calibrated again")
        case .outOfService:
            WorkRecordError(.deviceOutOfService, "\(device): out of service since \(recordedAt.prefix(10))")
        case .calibrated:
            if let dueOn, date > dueOn {
                WorkRecordError(.calibrationOverdue, "\(device): calibration overdue since \(dueOn)")
            } else {
                nil
            }
        }
    }
}

/// The calibration register's queries, and the gate a measurement or tightening passes before
/// the record takes it.
enum CalibrationRegister {
    // Entries are ordered by when they were recorded, then by id: a station's entries moved into
    // the plant's record (`record move-in`) take their place in time, not at the end.

    /// The device's newest entry (its state now), or nil when the register does not know it.
    static func newest(asset: String, _ transaction: any RecordTransaction) async throws -> CalibrationEntry? {
        try await transaction.row("SELECT * FROM calibration WHERE asset = ? ORDER BY recorded_at DESC, id DESC LIMIT 1", asset)
            .map(CalibrationEntry.init)
    }

    /// The device's newest entry, from the writer's memory where it remembers it.
    private static func remembered(asset: String, _ transaction: any RecordTransaction) async throws -> CalibrationEntry? {
        if let known = transaction.memory?.calibration(of: asset) { return known }
        let entry = try await newest(asset: asset, transaction)
        transaction.memory?.remember(calibration: entry, of: asset)
        return entry
    }

    /// Whether the register holds any entry (a register without entries gates nothing).
    private static func holdsEntries(_ transaction: any RecordTransaction) async throws -> Bool {
        if let known = transaction.memory?.registerHoldsEntries { return known }
        let holds = try await transaction.row("SELECT id FROM calibration LIMIT 1") != nil
        transaction.memory?.registerHoldsEntries = holds
        return holds
    }

    /// Every entry of the device, oldest first.
    static func history(asset: String, _ transaction: any RecordTransaction) async throws -> [CalibrationEntry] {
        try await transaction.rows("SELECT * FROM calibration WHERE asset = ? ORDER BY recorded_at, id", asset).map(CalibrationEntry.init)
    }

    /// Every device's newest entry, by asset number.
    static func current(_ transaction: any RecordTransaction) async throws -> [CalibrationEntry] {
        try await transaction.rows(
            """
            SELECT * FROM calibration WHERE NOT EXISTS (
                SELECT 1 FROM calibration later WHERE later.asset = calibration.asset
                AND (later.recorded_at > calibration.recorded_at OR (later.recorded_at = calibration.recorded_at AND later.id > calibration.id)))
            ORDER BY asset
            """
        ).map(CalibrationEntry.init)
    }

    /// Refuses a measurement or tightening from a device the register does not know, that is
    /// out of service, or whose calibration fell due before the reading was measured. Scans are
    /// never gated; nor is a point that admits an uncalibrated reference device, nor any result
    /// while the register is empty (a record that keeps no calibrations).
    static func admit(
        _ reading: ResultMethods.Reading, for point: InstructionContent.Point, _ transaction: any RecordTransaction
    ) async throws {
        guard reading.kind != .scan, !point.allowsUncalibrated else { return }
        let device = "\(reading.deviceKind) \(reading.deviceSerial ?? "without a serial")"
        guard let serial = reading.deviceSerial, let entry = try await remembered(asset: serial, transaction) else {
            guard try await holdsEntries(transaction) else { return }
            throw WorkRecordError(
                .deviceNotInRegister,
                reading.deviceSerial == nil
                    ? "\(device): unknown to the calibration register (give the device its serial in the station's configuration)"
                    : "\(device): unknown to the calibration register")
        }
        guard let measuredOn = CalendarDate(timestamp: reading.measuredAt) else {
            throw WorkRecordError(.invalidParams, "params.measured_at '\(reading.measuredAt)' is not a time (2026-12-07T10:15:00.000Z)")
        }
        if let refusal = entry.refusal(measuredOn: measuredOn, device: device) { throw refusal }
    }
}
