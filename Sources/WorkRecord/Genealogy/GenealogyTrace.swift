import FloorgateCore
import RecordProtocol

/// `trace.lot` and `trace.unit`: genealogy both ways. Forward, every unit a lot went into, and
/// every unit those went into; backward, what a unit is made of (components, lots, the devices
/// that measured it with their calibration then, operators, instruction revisions), and what
/// each component that is itself a built unit is made of.
enum GenealogyTrace {
    /// How deep an assembly the trace follows (a unit in a unit in a unit …).
    static let deepest = 8

    static func lot(_ context: MethodContext) async throws -> RecordOutcome {
        let lot = try context.params.string("lot")
        let part = try context.params.optionalString("part")
        let rows = if let part {
            try await context.transaction.rows(componentUses + " WHERE component_use.lot = ? AND component_use.part = ? ORDER BY component_use.id", lot, part)
        } else {
            try await context.transaction.rows(componentUses + " WHERE component_use.lot = ? ORDER BY component_use.id", lot)
        }
        var units: [JSONValue] = []
        for row in rows {
            units.append(try await unitJSON(row, depth: 1, context.transaction))
        }
        return RecordOutcome([
            "lot": .string(lot), "part": .optional(part),
            "parts": .array(Array(Set(rows.map { $0["part"] as String })).sorted().map(JSONValue.string)), "units": .array(units),
        ])
    }

    static func unit(_ context: MethodContext) async throws -> RecordOutcome {
        RecordOutcome(try await unit(serial: try context.params.string("serial"), depth: 1, context))
    }

    /// What `serial` is made of, read from its DHR, and recursively what its built components are.
    private static func unit(serial: String, depth: Int, _ context: MethodContext) async throws -> JSONValue {
        let dhr = try await DeviceHistoryRecord.document(serial: serial, context)
        let builds = dhr["builds"]?.arrayValue ?? []
        var components: [JSONValue] = []
        for component in builds.flatMap({ $0["components"]?.arrayValue ?? [] }) {
            guard case .object(var members) = component else { continue }
            members["unit"] = .null
            if depth < deepest, let serial = component["serial"]?.stringValue,
               try await context.transaction.integer(
                   """
                   SELECT COUNT(*) FROM unit_serial JOIN work_order ON work_order.id = unit_serial.work_order_id
                   JOIN part ON part.id = work_order.part_id WHERE unit_serial.serial = ? AND part.number = ?
                   """, serial, component["part"]?.stringValue) ?? 0 > 0
            {
                members["unit"] = try await unit(serial: serial, depth: depth + 1, context)
            }
            components.append(.object(members))
        }
        // Each measuring device once, with its calibration when it first measured this unit.
        var devices: [String: JSONValue] = [:]
        var order: [String] = []
        for result in builds.flatMap({ $0["results"]?.arrayValue ?? [] }) {
            guard let asset = result["device"]?["serial"]?.stringValue, result["unit"]?.isNull == false else { continue }
            if devices[asset] == nil {
                order.append(asset)
                devices[asset] = [
                    "asset": .string(asset), "kind": result["device"]?["kind"] ?? .null, "profile": result["device"]?["profile"] ?? .null,
                    "calibration": result["calibration"] ?? .null, "results": 0,
                ]
            }
            if case .object(var members)? = devices[asset] {
                members["results"] = .integer((members["results"]?.integerValue ?? 0) + 1)
                devices[asset] = .object(members)
            }
        }
        let operators = Set(builds.flatMap { build in
            [build["opened_by"]?.stringValue].compactMap { $0 } + (build["results"]?.arrayValue ?? []).compactMap { $0["operator"]?.stringValue }
        })
        return [
            "serial": .string(serial), "part": dhr["part"] ?? .null, "work_order": dhr["work_order"]?["number"] ?? .null,
            "udi": dhr["udi"] ?? .null,
            "builds": .array(builds.map { build in
                [
                    "build_id": build["build_id"] ?? .null, "operation": build["operation"] ?? .null, "station": build["station"] ?? .null,
                    "status": build["status"] ?? .null, "opened_at": build["opened_at"] ?? .null, "closed_at": build["closed_at"] ?? .null,
                    "instruction_revisions": .array((build["instruction_revisions"]?.arrayValue ?? []).compactMap { $0["revision"] }),
                ]
            }),
            "components": .array(components),
            "devices": .array(order.compactMap { devices[$0] }),
            "operators": .array(operators.sorted().map(JSONValue.string)),
        ]
    }

    /// Components' uses, with the unit each went into (a WHERE clause follows).
    private static let componentUses = """
        SELECT component_use.*, unit_serial.serial AS unit_serial, work_order.number AS work_order, part.number AS unit_part,
               build.station, build.operation
        FROM component_use JOIN build ON build.id = component_use.build_id JOIN unit_serial ON unit_serial.id = build.serial_id
        JOIN work_order ON work_order.id = unit_serial.work_order_id JOIN part ON part.id = work_order.part_id
        """

    /// One unit a component went into, and the units that unit went into in turn.
    private static func unitJSON(_ row: RecordRow, depth: Int, _ transaction: any RecordTransaction) async throws -> JSONValue {
        let serial: String = row["unit_serial"], part: String = row["unit_part"]
        var containers: [JSONValue] = []
        if depth < deepest {
            let containing = try await transaction.rows(componentUses + " WHERE component_use.part = ? AND component_use.serial = ? ORDER BY component_use.id", part, serial)
            for use in containing {
                containers.append(try await unitJSON(use, depth: depth + 1, transaction))
            }
        }
        return [
            "serial": .string(serial), "part": .string(part), "work_order": .string(row["work_order"]), "station": .string(row["station"]),
            "operation": .string(row["operation"]), "build_id": .integer(row["build_id"]), "step": .string(row["step"]),
            "point": .string(row["point"]), "component": .string(row["part"]), "component_serial": .optional(row["serial"] as String?),
            "quantity": .integer(row["quantity"]), "recorded_at": .string(row["recorded_at"]), "contained_in": .array(containers),
        ]
    }
}
