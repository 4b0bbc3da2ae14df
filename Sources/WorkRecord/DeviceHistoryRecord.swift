import FloorgateCore
import RecordProtocol

/// `dhr.export`: the device history record of one serial (21 CFR 820.184) as JSON: the work
/// order and quantity, dates of manufacture, the instruction revisions used, every result with
/// its verdict and device, labels scanned, nonconformances and dispositions, redlines
/// acknowledged, every signature with printed name, time and meaning, and the audit chain's head.
enum DeviceHistoryRecord {
    static func export(_ context: MethodContext) async throws -> RecordOutcome {
        RecordOutcome(try await document(serial: try context.params.string("serial"), context))
    }

    /// The DHR of `serial` (what `dhr.export` answers; `trace.unit` reads its genealogy from it).
    static func document(serial: String, _ context: MethodContext) async throws -> JSONValue {
        let transaction = context.transaction
        guard let unit = try await transaction.row(
            """
            SELECT unit_serial.serial, work_order.number, work_order.quantity, work_order.status, work_order.released_at,
                   work_order.operations, part.number AS part_number, part.revision AS part_revision, part.description
            FROM unit_serial JOIN work_order ON work_order.id = unit_serial.work_order_id
            JOIN part ON part.id = work_order.part_id WHERE unit_serial.serial = ?
            """, serial)
        else { throw WorkRecordError(.unknownSerial, "serial '\(serial)' is not on any work order") }
        let route = try WorkOrderRoute(storedText: unit["operations"])
        let standing = try await WorkOrderStanding.load(workOrder: unit["number"], transaction)
        let stations = try await StationRoutes.load(transaction)
        // The unit's builds in route order: the DHR reads as the unit went through the plant.
        let builds = try await transaction.rows(
            "SELECT build.id, build.operation FROM build JOIN unit_serial ON unit_serial.id = build.serial_id WHERE unit_serial.serial = ? ORDER BY build.id",
            serial)
        let buildIDs = builds.sorted { (route.codes.firstIndex(of: $0["operation"]) ?? .max) < (route.codes.firstIndex(of: $1["operation"]) ?? .max) }
            .map { $0["id"] as Int64 }
        var signatureIDs: Set<Int64> = []
        var buildsJSON: [JSONValue] = []
        var labels: [JSONValue] = []
        for id in buildIDs {
            let build = try await BuildState.load(transaction, id: id, service: context.service, results: .all)
            let (json, used) = try await buildJSON(build, outcome: standing.outcomes[id] ?? build.status, transaction)
            buildsJSON.append(json)
            signatureIDs.formUnion(used)
            labels += build.results.filter { $0["unit"] as String? == nil }.map(BuildState.resultJSON)
        }
        let builtIn = inList(buildIDs)
        // Signatures on the builds themselves (acceptance, reviews), and reviews of their
        // results and nonconformances signed with `sign`.
        signatureIDs.formUnion(
            try await transaction.integers(
                """
                SELECT id FROM signature WHERE (record_type = 'build' AND record_id IN \(builtIn.sql))
                OR (record_type = 'result' AND record_id IN (SELECT id FROM result WHERE build_id IN \(builtIn.sql)))
                OR (record_type = 'nonconformance' AND record_id IN (SELECT id FROM nonconformance WHERE build_id IN \(builtIn.sql)))
                """, builtIn.arguments + builtIn.arguments + builtIn.arguments))
        let release = try await transaction.row(
            "SELECT r.released_at, r.signature_id FROM unit_release r JOIN unit_serial s ON s.id = r.serial_id WHERE s.serial = ?", serial)
        if let release { signatureIDs.insert(release["signature_id"]) }
        let signedIn = inList(signatureIDs.sorted())
        let signatures = try await transaction.rows(
            """
            SELECT signature.*, "user".login FROM signature JOIN "user" ON "user".id = signature.user_id
            WHERE signature.id IN \(signedIn.sql) ORDER BY signature.signed_at, signature.id
            """, signedIn.arguments)
        let dhr: JSONValue = [
            "serial": .string(serial),
            "part": ["number": .string(unit["part_number"]), "revision": .string(unit["part_revision"]), "description": .string(unit["description"])],
            "work_order": [
                "number": .string(unit["number"]), "quantity": .integer(unit["quantity"]), "status": .string(unit["status"]),
                "released_at": .optional(unit["released_at"] as String?),
                "counts": standing.counts,
                "operations": .array(route.codes.map(JSONValue.string)),
                "route": .array(route.operations.map { operation in
                    [
                        "operation": .string(operation.code), "optional": .bool(operation.isOptional),
                        "stations": .array(stations.stations(for: operation.code).map(JSONValue.string)),
                    ]
                }),
            ],
            "builds": .array(buildsJSON),
            "labels": .array(labels),
            "udi": try await UnitUDI.load(serial: serial, transaction)?.json ?? .null,
            "release": release.map { ["released_at": .string($0["released_at"]), "signature_id": .integer($0["signature_id"])] } ?? .null,
            "signatures": .array(signatures.map(SignatureView.json)),
            "audit_head": .string(try await AuditChain.head(transaction)),
            "audit_entries": .integer(try await transaction.integer("SELECT COUNT(*) FROM audit") ?? 0),
            "generated_at": .string(RecordClock.timestamp()),
        ]
        return dhr
    }

    /// One build's part of the DHR, and the signatures it refers to.
    private static func buildJSON(_ build: BuildState, outcome: String, _ transaction: any RecordTransaction) async throws -> (JSONValue, Set<Int64>) {
        var signatureIDs: Set<Int64> = []
        let revisionIDs = Set(build.results.map { $0["instruction_id"] as Int64 } + build.completions.values.map { $0["instruction_id"] as Int64 } + [build.instructionID])
        let revisionIn = inList(revisionIDs.sorted())
        let revisions = try await transaction.rows("SELECT * FROM instruction WHERE id IN \(revisionIn.sql) ORDER BY id", revisionIn.arguments)
        let revisionNames = Dictionary(revisions.map { ($0["id"] as Int64, $0["revision"] as String) }, uniquingKeysWith: { first, _ in first })
        // The limits each result was judged against: its point's in the revision it was recorded under.
        var limitsJudged: [String: JSONValue] = [:]
        for revision in revisions {
            for step in try InstructionContent(storedText: revision["content"]).steps {
                for point in step.points {
                    limitsJudged["\(revision["id"] as Int64) \(step.key) \(point.name)"] = Self.limitsJSON(point)
                }
            }
        }
        signatureIDs.formUnion(revisions.compactMap { $0["approval_signature"] as Int64? })
        signatureIDs.formUnion(build.completions.values.map { $0["signature_id"] as Int64 })
        signatureIDs.formUnion(build.results.compactMap { $0["signature_id"] as Int64? })
        signatureIDs.formUnion(build.nonconformances.compactMap { $0["disposition_signature"] as Int64? })
        let redlines = try await transaction.rows(
            """
            SELECT redline.*, redline_ack.acknowledged_at, redline_ack.signature_id AS ack_signature,
                   old.revision AS from_revision, new.revision AS to_revision
            FROM redline_ack JOIN redline ON redline.id = redline_ack.redline_id
            JOIN instruction old ON old.id = redline.from_instruction JOIN instruction new ON new.id = redline.to_instruction
            WHERE redline_ack.build_id = ? ORDER BY redline_ack.id
            """, build.id)
        signatureIDs.formUnion(redlines.map { $0["ack_signature"] as Int64 })
        signatureIDs.formUnion(redlines.map { $0["signature_id"] as Int64 })
        let concessions = Dictionary(
            try await transaction.rows(
                "SELECT c.* FROM nc_concession c JOIN nonconformance n ON n.id = c.nc_id WHERE n.build_id = ?", build.id
            ).map { ($0["nc_id"] as Int64, $0) }, uniquingKeysWith: { first, _ in first })
        signatureIDs.formUnion(concessions.values.map { $0["signature_id"] as Int64 })
        let calibrations = try await calibrationAtTheTime(of: build.results, transaction)
        let tightenings = try await TighteningContext.stored(forBuild: build.id, transaction)
        let timeNotes = try await ResultTimeNote.stored(forBuild: build.id, transaction)
        signatureIDs.formUnion(calibrations.values.map(\.signatureID))
        let stepOrder = build.content.steps.map(\.key)
        let completions = build.completions.values.sorted { ($0["completed_at"] as String, $0["id"] as Int64) < ($1["completed_at"] as String, $1["id"] as Int64) }
        let json: JSONValue = [
            "build_id": .integer(build.id), "operation": .string(build.operation), "status": .string(build.status), "outcome": .string(outcome),
            "station": .string(build.station), "opened_by": .string(build.openedBy), "opened_at": .string(build.openedAt),
            "closed_at": .optional(build.closedAt), "current_revision": .string(build.instructionRevision),
            "instruction_revisions": .array(try revisions.map { row in
                // The pictures each step showed, by the hash the approved revision holds.
                let pictures = try InstructionContent(storedText: row["content"]).steps.flatMap { step in
                    step.pictures.map { picture -> JSONValue in
                        guard case .object(var members) = picture.json else { return picture.json }
                        members["step"] = .string(step.key)
                        return .object(members)
                    }
                }
                var members: [String: JSONValue] = [
                    "instruction_id": .integer(row["id"]), "revision": .string(row["revision"]), "title": .string(row["title"]),
                    "approval_signature": .optional(row["approval_signature"] as Int64?),
                ]
                if !pictures.isEmpty { members["pictures"] = .array(pictures) }
                return .object(members)
            }),
            "steps": .array(completions.map { row in
                [
                    "key": .string(row["step"]), "instruction_revision": .string(revisionNames[row["instruction_id"]] ?? "?"),
                    "completed_at": .string(row["completed_at"]), "signature_id": .integer(row["signature_id"]),
                ]
            }),
            "remaining_steps": .array(stepOrder.filter { build.completions[$0] == nil }.map(JSONValue.string)),
            "results": .array(build.results.map { row in
                guard case .object(var members) = BuildState.resultJSON(row) else { return .null }
                members["instruction_revision"] = .string(revisionNames[row["instruction_id"]] ?? "?")
                members["limits"] = limitsJudged["\(row["instruction_id"] as Int64) \(row["step"] as String) \(row["point"] as String)"] ?? .null
                members["calibration"] = calibrations[row["id"] as Int64]?.json ?? .null
                members["tightening"] = tightenings[row["id"] as Int64].map(TighteningContext.json) ?? .null
                let timeNote = timeNotes[row["id"] as Int64]
                members["late"] = .bool((timeNote?["late"] as Int64? ?? 0) == 1)
                members["time_note"] = .optional(timeNote?["note"] as String?)
                return .object(members)
            }),
            "nonconformances": .array(build.nonconformances.map { row in
                guard case .object(var members) = BuildState.nonconformanceJSON(row) else { return .null }
                // A concession's justification and first signature; the disposition's signature is the concurrence.
                members["concession"] = concessions[row["id"] as Int64].map { concession in
                    [
                        "justification": .string(concession["justification"]), "signature_id": .integer(concession["signature_id"]),
                        "proposed_at": .string(concession["proposed_at"]),
                    ]
                } ?? .null
                return .object(members)
            }),
            "components": .array(try await ComponentRegister.asBuilt([build.id], transaction).map(ComponentRegister.json)),
            "redlines": .array(redlines.map { row in
                [
                    "redline_id": .integer(row["id"]), "from_revision": .string(row["from_revision"]),
                    "to_revision": .string(row["to_revision"]), "reason": .string(row["reason"]),
                    "published_at": .string(row["published_at"]), "publish_signature": .integer(row["signature_id"]),
                    "acknowledged_at": .string(row["acknowledged_at"]), "acknowledge_signature": .integer(row["ack_signature"]),
                ]
            }),
        ]
        return (json, signatureIDs)
    }

    /// A point's limits as the DHR states them (null for points that take scans).
    private static func limitsJSON(_ point: InstructionContent.Point) -> JSONValue {
        guard let limits = point.limits else { return .null }
        return [
            "lower": .optional(limits.lower?.description), "upper": .optional(limits.upper?.description), "unit": .string(limits.unit.code),
            "nominal": .optional(limits.nominal?.description), "angle_min": .optional(limits.angleWindow?.minimum?.description),
            "angle_max": .optional(limits.angleWindow?.maximum?.description),
        ]
    }

    /// The calibration register's entry for each measurement's or tightening's device as it
    /// stood when the result was recorded, by result id (results of devices it did not know
    /// then have none).
    private static func calibrationAtTheTime(of results: [RecordRow], _ transaction: any RecordTransaction) async throws -> [Int64: CalibrationEntry] {
        var histories: [String: [CalibrationEntry]] = [:]
        var found: [Int64: CalibrationEntry] = [:]
        for row in results where row["unit"] as String? != nil {
            guard let asset = row["device_serial"] as String? else { continue }
            if histories[asset] == nil { histories[asset] = try await CalibrationRegister.history(asset: asset, transaction) }
            let recordedAt: String = row["recorded_at"]
            found[row["id"]] = histories[asset]?.last { $0.recordedAt <= recordedAt }
        }
        return found
    }
}
