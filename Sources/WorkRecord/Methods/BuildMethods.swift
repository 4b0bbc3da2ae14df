import FloorgateCore
import RecordProtocol

/// `build.open`, `build.get`, `step.complete` and `build.close`.
enum BuildMethods {
    /// Opens the build of a scanned serial: finds the released work order that holds it, the
    /// next operation not yet complete, and pins the effective approved instruction revision.
    /// Scanning a serial whose build is already open returns that build.
    static func open(_ context: MethodContext) async throws -> RecordOutcome {
        let params = context.params, transaction = context.transaction
        let serial = try params.string("serial")
        let station = try params.string("station")
        let operatorName = try params.string("operator")
        guard let unit = try await transaction.row(
            """
            SELECT unit_serial.id, work_order.number, work_order.status, work_order.operations, work_order.part_id
            FROM unit_serial JOIN work_order ON work_order.id = unit_serial.work_order_id WHERE unit_serial.serial = ?
            """, serial)
        else { throw WorkRecordError(.unknownSerial, "serial '\(serial)' is not on any work order") }
        guard unit["status"] as String == "released" else {
            throw WorkRecordError(.workOrderNotReleased, "work order \(unit["number"] as String) of serial '\(serial)' is \(unit["status"] as String), not released")
        }
        let serialID: Int64 = unit["id"]
        let route = try WorkOrderRoute(storedText: unit["operations"])
        let builds = try await transaction.rows("SELECT id, operation, status, station FROM build WHERE serial_id = ?", serialID)
        let statusByOperation = Dictionary(builds.map { ($0["operation"] as String, $0) }, uniquingKeysWith: { first, _ in first })
        let openable = route.openable { statusByOperation[$0] != nil }
        let stations = try await StationRoutes.load(transaction)
        // The unit's build in progress, whichever operation it is: one at a time.
        let running = route.codes.first { statusByOperation[$0]?["status"] as String? == "open" }
        let operation: String
        if let requested = try params.optionalString("operation") {
            guard route.codes.contains(requested) else {
                throw WorkRecordError(.invalidParams, "work order \(unit["number"] as String) has no operation \(requested); it has \(route.codes.joined(separator: ", "))")
            }
            if let running, running != requested {
                let openAt: String = statusByOperation[running]?["station"] ?? "?"
                throw WorkRecordError(
                    .openElsewhere, "serial '\(serial)' has operation \(running) open at station \(openAt); finish it there before operation \(requested)")
            }
            if statusByOperation[requested] == nil, !openable.contains(where: { $0.code == requested }) {
                guard let next = openable.last?.code else {
                    throw WorkRecordError(.notOnRoute, "operation \(requested) of serial '\(serial)' was passed over: the unit is through its route")
                }
                let passed = (route.codes.firstIndex(of: requested) ?? 0) < (route.codes.firstIndex(of: next) ?? 0)
                throw WorkRecordError(
                    .notOnRoute, passed
                        ? "operation \(requested) of serial '\(serial)' was passed over; the unit goes next to operation \(next) at \(stations.whereDone(next))"
                        : "operation \(requested) of serial '\(serial)' cannot start before operation \(next) is complete, at \(stations.whereDone(next))")
            }
            operation = requested
        } else if let running {
            operation = running
        } else if let next = openable.first(where: { stations.allows(station, $0.code) }) {
            operation = next.code
        } else if let next = openable.last {
            throw WorkRecordError(
                .notOnRoute, "serial '\(serial)' goes next to operation \(next.code) at \(stations.whereDone(next.code)), not to \(station)")
        } else {
            throw WorkRecordError(.serialComplete, "serial '\(serial)' has completed every operation of work order \(unit["number"] as String)")
        }
        if statusByOperation[operation] == nil, !stations.allows(station, operation) {
            throw WorkRecordError(
                .notOnRoute, "operation \(operation) of serial '\(serial)' is done at \(stations.whereDone(operation)), not at \(station)")
        }
        if let existing = statusByOperation[operation] {
            guard existing["status"] as String == "open" else {
                throw WorkRecordError(.serialComplete, "serial '\(serial)' has already completed operation \(operation)")
            }
            let openAt: String = existing["station"]
            guard openAt == station else {
                throw WorkRecordError(
                    .openElsewhere, "serial '\(serial)' has operation \(operation) open at station \(openAt); finish or close it there first")
            }
            return RecordOutcome(try await BuildState.load(transaction, id: existing["id"], service: context.service).json)
        }
        guard let instructionID = try await transaction.integer(
            "SELECT id FROM instruction WHERE part_id = ? AND operation = ? AND status = 'approved'", unit["part_id"] as Int64, operation)
        else {
            throw WorkRecordError(.noApprovedRevision, "operation \(operation) of serial '\(serial)' has no approved instruction revision; an approver must approve one")
        }
        let id = try await context.writer.insert(
            "build",
            [
                "serial_id": serialID, "operation": operation, "instruction_id": instructionID, "status": "open",
                "station": station, "opened_by": operatorName, "opened_at": RecordClock.timestamp(),
            ], action: "build.open")
        let build = try await BuildState.load(transaction, id: id, service: context.service)
        return RecordOutcome(build.json, notifications: [stepChanged(build)])
    }

    static func get(_ context: MethodContext) async throws -> RecordOutcome {
        let id = try await BuildState.id(from: context.params, context.transaction)
        return RecordOutcome(try await BuildState.load(context.transaction, id: id, service: context.service).json)
    }

    /// Completes the active step: every required point has a passing or dispositioned result,
    /// no redline waits for acknowledgement, and the operator signs it (meaning "performed").
    static func completeStep(_ context: MethodContext) async throws -> RecordOutcome {
        let signature = try SignatureInput(context.params)
        let build = try await BuildState.load(context.transaction, id: try context.params.integer("build_id"), service: context.service)
        // The signer is authenticated first: a wrong password counts whatever else is wrong.
        let signed = try await context.signer.sign(
            signature, role: .operator, meaning: .performed, recordType: "build", recordID: build.id,
            subject: "step \(build.activeStep?.key ?? "none") '\(build.activeStep?.title ?? "")' of serial \(build.serial), revision \(build.instructionRevision)")
        guard build.isOpen else { throw WorkRecordError(.invalidState, "build \(build.id) of serial '\(build.serial)' is \(build.status)") }
        guard let step = build.activeStep else {
            throw WorkRecordError(.invalidState, "build \(build.id) has no step left to complete; close it")
        }
        if let requested = try context.params.optionalString("step"), requested != step.key {
            throw WorkRecordError(.invalidState, "step \(requested) is not the active step of build \(build.id); step \(step.key) is")
        }
        if let redline = build.pendingRedline {
            throw WorkRecordError(
                .redlinePending,
                "redline \(redline["id"] as Int64) (revision \(redline["from_revision"] as String) → \(redline["to_revision"] as String)) must be acknowledged before step \(step.key) completes")
        }
        let missing = build.unsatisfiedPoints(of: step)
        guard missing.isEmpty else {
            throw WorkRecordError(.stepIncomplete, "step \(step.key) still needs a passing or dispositioned result at: \(missing.joined(separator: ", "))")
        }
        try await context.writer.insert(
            "step_completion",
            [
                "build_id": build.id, "step": step.key, "instruction_id": build.instructionID, "signature_id": signed.id,
                "completed_at": signed.signedAt,
            ], action: "step.complete")
        let after = try await BuildState.load(context.transaction, id: build.id, service: context.service)
        return RecordOutcome(after.json, notifications: [stepChanged(after)])
    }

    /// Closes a build whose steps are all complete and whose nonconformances are all
    /// dispositioned; quality signs the acceptance (meaning "approved").
    static func close(_ context: MethodContext) async throws -> RecordOutcome {
        let signature = try SignatureInput(context.params)
        let build = try await BuildState.load(context.transaction, id: try context.params.integer("build_id"), service: context.service)
        let signed = try await context.signer.sign(
            signature, role: .quality, meaning: .approved, recordType: "build", recordID: build.id,
            subject: "acceptance of serial \(build.serial), operation \(build.operation)")
        guard build.isOpen else { throw WorkRecordError(.invalidState, "build \(build.id) of serial '\(build.serial)' is already \(build.status)") }
        if let step = build.activeStep {
            throw WorkRecordError(.stepIncomplete, "build \(build.id) cannot close: step \(step.key) '\(step.title)' is not complete")
        }
        // Who performed the build (signed a step, recorded a result) does not accept it.
        let performers = try await context.transaction.rows(
            """
            SELECT "user".login FROM step_completion JOIN signature ON signature.id = step_completion.signature_id
            JOIN "user" ON "user".id = signature.user_id WHERE step_completion.build_id = ?
            UNION SELECT operator AS login FROM result WHERE build_id = ?
            """, build.id, build.id)
        try context.signer.requireIndependence(
            signature, from: Set(performers.map { $0["login"] as String }), what: "performed steps or results of build \(build.id)")
        let open = build.openNonconformances
        guard open.isEmpty else {
            throw WorkRecordError(
                .openNonconformance,
                "build \(build.id) cannot close: nonconformance \(open.map { String($0["id"] as Int64) }.joined(separator: ", ")) has no disposition")
        }
        try await context.writer.update("build", id: build.id, ["status": "complete", "closed_at": signed.signedAt], action: "build.close")
        let after = try await BuildState.load(context.transaction, id: build.id, service: context.service)
        return RecordOutcome(
            after.json,
            notifications: [
                RecordNotification(
                    method: RecordNotification.buildClosed,
                    params: ["build_id": .integer(build.id), "serial": .string(build.serial), "operation": .string(build.operation)])
            ])
    }

    /// `step.changed`: the build's active step is now this one (null when all are complete).
    static func stepChanged(_ build: BuildState) -> RecordNotification {
        RecordNotification(
            method: RecordNotification.stepChanged,
            params: [
                "build_id": .integer(build.id), "serial": .string(build.serial), "station": .string(build.station),
                "instruction_revision": .string(build.instructionRevision),
                "step": build.activeStep.map(build.stepJSON) ?? .null,
            ])
    }
}

/// `work_order.release` and `work_order.close`: a planned order is released to the floor; a
/// released order closes when none of its builds is open. Both are audited under `user`.
enum WorkOrderMethods {
    static func release(_ context: MethodContext) async throws -> RecordOutcome {
        try await change(context, to: "released", requiring: "planned") { _ in }
    }

    static func close(_ context: MethodContext) async throws -> RecordOutcome {
        try await change(context, to: "closed", requiring: "released") { orderID in
            let open = try await context.transaction.integers(
                """
                SELECT build.id FROM build JOIN unit_serial ON unit_serial.id = build.serial_id
                WHERE unit_serial.work_order_id = ? AND build.status = 'open' ORDER BY build.id
                """, [.integer(orderID)])
            guard open.isEmpty else {
                throw WorkRecordError(.invalidState, "the work order has open builds (\(open.map(String.init).joined(separator: ", "))); close them first")
            }
        }
    }

    /// Moves the order named by `number` to `status` from `required`, after `check`.
    private static func change(
        _ context: MethodContext, to status: String, requiring required: String, check: (Int64) async throws -> Void
    ) async throws -> RecordOutcome {
        let number = try context.params.string("number")
        _ = try context.params.string("user")
        guard let order = try await context.transaction.row("SELECT id, status FROM work_order WHERE number = ?", number)
        else { throw WorkRecordError(.notFound, "no work order \(number)") }
        guard order["status"] as String? == required else {
            throw WorkRecordError(.invalidState, "work order \(number) is \(order["status"] as String? ?? "?"), not \(required)")
        }
        try await check(order["id"])
        var values: KeyValuePairs<String, (any RecordValueConvertible)?> = ["status": status]
        if status == "released" { values = ["status": status, "released_at": RecordClock.timestamp()] }
        try await context.writer.update("work_order", id: order["id"], values, action: "work_order.\(status == "closed" ? "close" : "release")")
        return RecordOutcome(["number": .string(number), "status": .string(status)])
    }
}
