import FloorgateCore
import RecordProtocol

/// The components built into units: each accepted component label is a `component_use` row
/// beside its result (append-only, in the audit chain), the unit's as-built list.
enum ComponentRegister {
    /// Checks a component label scanned for `point` of `build`: the label's product must be the
    /// point's part, its expiry not before the day it was scanned, and a serialized piece not
    /// already in a unit. Returns the label as read.
    static func admit(
        _ reading: ResultMethods.Reading, for point: InstructionContent.Point, _ component: InstructionContent.Point.Component,
        build: BuildState, _ transaction: any RecordTransaction
    ) async throws -> ComponentLabel {
        guard let scannedOn = CalendarDate(timestamp: reading.measuredAt) else {
            throw WorkRecordError(.invalidParams, "params.measured_at '\(reading.measuredAt)' is not a time (2026-12-07T10:15:00.000Z)")
        }
        let label = try ComponentLabel(scanned: reading.value, aim: reading.aim, for: component, referenceYear: scannedOn.year)
        if let scheme = label.product.scheme, let identifier = label.product.identifier {
            let named = try await transaction.row(
                "SELECT part.number FROM part_identifier JOIN part ON part.id = part_identifier.part_id WHERE scheme = ? AND identifier = ?",
                scheme, identifier)
            guard let number = named?["number"] as String? else {
                throw WorkRecordError(.componentRefused, "\(point.name): the label's \(scheme.uppercased()) \(identifier) is no part the record knows; the point takes \(component.part)")
            }
            guard number == component.part else {
                throw WorkRecordError(.componentRefused, "\(point.name): wrong part: the label's \(scheme.uppercased()) \(identifier) is \(number); the point takes \(component.part)")
            }
        }
        if let expiry = label.expiry, expiry < scannedOn {
            throw WorkRecordError(.componentExpired, "\(point.name): \(component.part) lot \(label.lot ?? "?") expired on \(expiry)")
        }
        if component.control == .serial, let serial = label.serial,
           let used = try await transaction.row(
               """
               SELECT unit_serial.serial, component_use.build_id FROM component_use JOIN build ON build.id = component_use.build_id
               JOIN unit_serial ON unit_serial.id = build.serial_id WHERE component_use.part = ? AND component_use.serial = ?
               """, component.part, serial)
        {
            throw WorkRecordError(
                .componentInAnotherUnit,
                "\(point.name): \(component.part) serial \(serial) is already built into unit \(used["serial"] as String) (build \(used["build_id"] as Int64))")
        }
        return label
    }

    /// Adds the accepted component to the unit's as-built list, beside its result.
    static func record(
        _ label: ComponentLabel, _ component: InstructionContent.Point.Component, result: RecordRow, writer: AuditedWriter
    ) async throws {
        try await writer.insert(
            "component_use",
            [
                "build_id": result["build_id"] as Int64, "result_id": result["id"] as Int64, "step": result["step"] as String,
                "point": result["point"] as String, "part": component.part, "lot": label.lot, "serial": label.serial,
                "expiry": label.expiry?.description, "quantity": Int64(component.control == .serial ? 1 : component.quantity),
                "recorded_at": result["recorded_at"] as String,
            ], action: "component.use")
    }

    /// The as-built list of builds `buildIDs`, in the order recorded.
    static func asBuilt(_ buildIDs: [Int64], _ transaction: any RecordTransaction) async throws -> [RecordRow] {
        let builds = inList(buildIDs)
        return try await transaction.rows("SELECT * FROM component_use WHERE build_id IN \(builds.sql) ORDER BY id", builds.arguments)
    }

    static func json(_ row: RecordRow) -> JSONValue {
        [
            "component_id": .integer(row["id"]), "build_id": .integer(row["build_id"]), "result_id": .integer(row["result_id"]),
            "step": .string(row["step"]), "point": .string(row["point"]), "part": .string(row["part"]),
            "lot": .optional(row["lot"] as String?), "serial": .optional(row["serial"] as String?),
            "expiry": .optional(row["expiry"] as String?), "quantity": .integer(row["quantity"]), "recorded_at": .string(row["recorded_at"]),
        ]
    }
}
