import Foundation
import FloorgateCore
import RecordProtocol

/// `nc.raise` and `nc.disposition`.
enum NonconformanceMethods {
    static let dispositions = ["use-as-is", "rework", "scrap", "return"]

    /// Raises a nonconformance by hand (a failed result raises one by itself).
    static func raise(_ context: MethodContext) async throws -> RecordOutcome {
        let build = try await BuildState.load(context.transaction, id: try context.params.integer("build_id"), service: context.service)
        guard build.isOpen else { throw WorkRecordError(.invalidState, "build \(build.id) of serial '\(build.serial)' is \(build.status)") }
        let resultID = try context.params.optionalInteger("result_id")
        if let resultID,
           try await context.transaction.integer("SELECT id FROM result WHERE id = ? AND build_id = ?", resultID, build.id) == nil
        {
            throw WorkRecordError(.notFound, "build \(build.id) has no result \(resultID)")
        }
        let step = try context.params.optionalString("step"), point = try context.params.optionalString("point")
        let id: Int64 = try await insert(
            build: build, step: step, point: point, resultID: resultID, description: try context.params.string("description"),
            source: "manual", raisedBy: try context.params.string("raised_by"), context)["id"]
        return RecordOutcome(["nc_id": .integer(id), "build_id": .integer(build.id)], notifications: [raised(id, build: build, step: step, point: point)])
    }

    /// Inserts a nonconformance against `build` and returns its row.
    static func insert(
        build: BuildState, step: String?, point: String?, resultID: Int64?, description: String, source: String, raisedBy: String,
        _ context: MethodContext
    ) async throws -> RecordRow {
        try await context.writer.insertRow(
            "nonconformance",
            [
                "build_id": build.id, "step": step, "point": point, "result_id": resultID, "description": description,
                "source": source, "raised_by": raisedBy, "raised_at": RecordClock.timestamp(),
            ], action: "nc.raise")
    }

    static func raised(_ id: Int64, build: BuildState, step: String?, point: String?) -> RecordNotification {
        RecordNotification(
            method: RecordNotification.ncRaised,
            params: [
                "nc_id": .integer(id), "build_id": .integer(build.id), "serial": .string(build.serial),
                "station": .string(build.station), "step": .optional(step), "point": .optional(point),
            ])
    }

    /// The dispositions that accept or return a nonconforming product as it is: a concession,
    /// which a second quality user must concur with (``concur(_:)``).
    static let concessions: Set = ["use-as-is", "return"]

    /// Dispositions an open nonconformance with a quality signature (meaning "dispositioned").
    /// `rework` reopens the point for a new measurement that refers to this NC. A concession
    /// (use-as-is, return) is only proposed, its comment the justification: the nonconformance
    /// stays open until another quality user concurs.
    static func disposition(_ context: MethodContext) async throws -> RecordOutcome {
        let signature = try SignatureInput(context.params)
        let ncID = try context.params.integer("nc_id")
        let disposition = try context.params.choice("disposition", of: dispositions)
        let comment = try context.params.string("comment")
        guard let nc = try await context.transaction.row("SELECT * FROM nonconformance WHERE id = ?", ncID) else {
            throw WorkRecordError(.notFound, "no nonconformance \(ncID)")
        }
        guard try await context.transaction.integer("SELECT id FROM nc_disposition WHERE nc_id = ?", ncID) == nil else {
            throw WorkRecordError(.invalidState, "nonconformance \(ncID) already has a disposition")
        }
        let signed = try await context.signer.sign(
            signature, role: .quality, meaning: .dispositioned, recordType: "nonconformance", recordID: ncID,
            subject: "nonconformance \(ncID) dispositioned \(disposition)")
        // Who raised the nonconformance, or recorded the result that raised it, does not disposition it.
        var performers: Set<String> = [nc["raised_by"]]
        if let resultID = nc["result_id"] as Int64?, let result = try await context.transaction.row("SELECT operator FROM result WHERE id = ?", resultID) {
            performers.insert(result["operator"])
        }
        try context.signer.requireIndependence(signature, from: performers, what: "raised nonconformance \(ncID) or recorded the result that raised it")
        if concessions.contains(disposition) {
            if let proposed = try await context.transaction.row("SELECT disposition FROM nc_concession WHERE nc_id = ?", ncID) {
                throw WorkRecordError(.invalidState, "nonconformance \(ncID) has a concession (\(proposed["disposition"] as String)) waiting for a second quality user's concurrence (nc.concur)")
            }
            guard comment.trimmingCharacters(in: .whitespaces).count >= 10 else {
                throw WorkRecordError(.invalidParams, "params.comment must justify a \(disposition) concession (10 characters or more)")
            }
            let concessionID = try await context.writer.insert(
                "nc_concession",
                ["nc_id": ncID, "disposition": disposition, "justification": comment, "signature_id": signed.id, "proposed_at": signed.signedAt],
                action: "nc.concession")
            return RecordOutcome([
                "nc_id": .integer(ncID), "disposition": .string(disposition), "status": "awaiting concurrence",
                "concession_id": .integer(concessionID), "signature_id": .integer(signed.id),
            ])
        }
        try await context.writer.insert(
            "nc_disposition",
            [
                "nc_id": ncID, "disposition": disposition, "comment": comment, "signature_id": signed.id,
                "dispositioned_at": signed.signedAt,
            ], action: "nc.disposition")
        let build = try await BuildState.load(context.transaction, id: nc["build_id"], service: context.service)
        return RecordOutcome(
            ["nc_id": .integer(ncID), "disposition": .string(disposition), "signature_id": .integer(signed.id)],
            notifications: [BuildMethods.stepChanged(build)])
    }

    /// A second quality user concurs with a concession (signed "approved"): the disposition is
    /// then recorded and the nonconformance closed. The concurring user may not be the one who
    /// proposed it, raised the nonconformance or recorded the result that raised it.
    static func concur(_ context: MethodContext) async throws -> RecordOutcome {
        let signature = try SignatureInput(context.params)
        let ncID = try context.params.integer("nc_id")
        guard let concession = try await context.transaction.row(
            """
            SELECT c.*, u.login AS proposer, n.raised_by, n.build_id, r.operator FROM nc_concession c
            JOIN nonconformance n ON n.id = c.nc_id JOIN signature s ON s.id = c.signature_id JOIN "user" u ON u.id = s.user_id
            LEFT JOIN result r ON r.id = n.result_id WHERE c.nc_id = ?
            """, ncID)
        else { throw WorkRecordError(.notFound, "nonconformance \(ncID) has no concession waiting for concurrence") }
        guard try await context.transaction.integer("SELECT id FROM nc_disposition WHERE nc_id = ?", ncID) == nil else {
            throw WorkRecordError(.invalidState, "nonconformance \(ncID) already has a disposition")
        }
        let disposition: String = concession["disposition"]
        let signed = try await context.signer.sign(
            signature, role: .quality, meaning: .approved, recordType: "nonconformance", recordID: ncID,
            subject: "concurrence with the \(disposition) concession of nonconformance \(ncID)")
        let performers = Set([concession["proposer"], concession["raised_by"], concession["operator"] as String?].compactMap { $0 })
        try context.signer.requireIndependence(signature, from: performers, what: "proposed the concession of nonconformance \(ncID), raised it or recorded the result that raised it")
        try await context.writer.insert(
            "nc_disposition",
            [
                "nc_id": ncID, "disposition": disposition, "comment": concession["justification"] as String, "signature_id": signed.id,
                "dispositioned_at": signed.signedAt,
            ], action: "nc.concur")
        let build = try await BuildState.load(context.transaction, id: concession["build_id"], service: context.service)
        return RecordOutcome(
            [
                "nc_id": .integer(ncID), "disposition": .string(disposition), "signature_id": .integer(signed.id),
                "concession_signature_id": .integer(concession["signature_id"]),
            ],
            notifications: [BuildMethods.stepChanged(build)])
    }
}

/// `redline.publish` and `redline.acknowledge`, and the approval that makes a redline effective.
enum RedlineMethods {
    /// An engineer publishes a change to the effective approved revision as a draft revision
    /// with its reason (signed "performed"). Nothing changes for the builds until an approver
    /// who did not write it approves the draft (`instruction.approve`, ``approve(_:draft:signed:_:)``).
    static func publish(_ context: MethodContext) async throws -> RecordOutcome {
        let signature = try SignatureInput(context.params)
        let params = context.params
        let current = try await InstructionMethods.find(params, context.transaction)
        guard current["status"] as String == "approved" else {
            throw WorkRecordError(.invalidState, "a redline changes the effective approved revision; revision \(current["revision"] as String) is \(current["status"] as String)")
        }
        let currentID: Int64 = current["id"]
        let content = try InstructionContent(steps: params.array("steps"), path: "params.steps")
        try await MediaMethods.requireStored(content, context.transaction, path: "params.steps")
        let newRevision = try params.string("new_revision")
        let reason = try params.string("reason")
        // Sign before writing anything: a rejected signature keeps only its failed-attempt count.
        let signed = try await context.signer.sign(
            signature, role: .engineer, meaning: .performed, recordType: "instruction", recordID: currentID,
            subject: "redline of revision \(current["revision"] as String) to \(newRevision): \(reason)")
        let newID = try await context.writer.insert(
            "instruction",
            [
                "part_id": current["part_id"] as Int64, "operation": current["operation"] as String, "revision": newRevision,
                "title": try params.optionalString("title") ?? current["title"] as String, "content": content.json.text,
                "status": "draft", "based_on": currentID, "created_at": RecordClock.timestamp(),
            ], action: "redline.draft")
        let draftID = try await context.writer.insert(
            "redline_draft",
            ["instruction_id": newID, "from_instruction": currentID, "reason": reason, "signature_id": signed.id, "drafted_at": signed.signedAt],
            action: "redline.publish")
        return RecordOutcome([
            "redline_draft_id": .integer(draftID), "instruction_id": .integer(newID), "revision": .string(newRevision), "status": "draft",
            "signature_id": .integer(signed.id),
        ])
    }

    /// The redline draft whose revision is instruction `id`, if it is one.
    static func draft(of id: Int64, _ transaction: any RecordTransaction) async throws -> RecordRow? {
        try await transaction.row(
            """
            SELECT d.id, d.from_instruction, d.reason, i.revision AS from_revision, u.login AS author
            FROM redline_draft d JOIN instruction i ON i.id = d.from_instruction
            JOIN signature s ON s.id = d.signature_id JOIN "user" u ON u.id = s.user_id
            WHERE d.instruction_id = ?
            """, id)
    }

    /// An approver's approval (`signed`) of a redline's draft revision `instruction`: it becomes
    /// the effective revision, the redline is published, and every open build on the revision it
    /// changes is told (`redline.published`) and must acknowledge before its next step completes.
    static func approve(
        _ instruction: RecordRow, draft: RecordRow, signed: Signer.Signed, _ context: MethodContext
    ) async throws -> RecordOutcome {
        let newID: Int64 = instruction["id"], fromID: Int64 = draft["from_instruction"]
        let reason: String = draft["reason"], fromRevision: String = draft["from_revision"], newRevision: String = instruction["revision"]
        try context.signer.requireIndependence(try SignatureInput(context.params), from: [draft["author"]], what: "wrote redline \(fromRevision) → \(newRevision)")
        guard try await context.transaction.row("SELECT status FROM instruction WHERE id = ?", fromID)?["status"] == "approved" else {
            throw WorkRecordError(
                .invalidState, "redline \(fromRevision) → \(newRevision) changes revision \(fromRevision), which is no longer the effective one: draft it again from that one")
        }
        try await InstructionMethods.makeEffective(newID, partID: instruction["part_id"], operation: instruction["operation"], signatureID: signed.id, context)
        let redlineID = try await context.writer.insert(
            "redline",
            ["from_instruction": fromID, "to_instruction": newID, "reason": reason, "signature_id": signed.id, "published_at": signed.signedAt],
            action: "redline.approve")
        let builds = try await context.transaction.rows(
            """
            SELECT build.id, build.station, unit_serial.serial FROM build JOIN unit_serial ON unit_serial.id = build.serial_id
            WHERE build.instruction_id = ? AND build.status = 'open' ORDER BY build.id
            """, fromID)
        let notifications = builds.map { build in
            RecordNotification(
                method: RecordNotification.redlinePublished,
                params: [
                    "redline_id": .integer(redlineID), "build_id": .integer(build["id"]), "serial": .string(build["serial"]),
                    "station": .string(build["station"]), "from_revision": .string(fromRevision),
                    "to_revision": .string(newRevision), "reason": .string(reason),
                ])
        }
        let approved = try await context.transaction.row("SELECT * FROM instruction WHERE id = ?", newID) ?? instruction
        guard case .object(var answer) = InstructionMethods.json(approved, content: try await context.service.content(ofInstruction: newID, context.transaction))
        else { throw WorkRecordError(.internalError, "the approved revision gave no view") }
        answer["redline_id"] = .integer(redlineID)
        answer["affected_builds"] = .array(builds.map { .integer($0["id"]) })
        return RecordOutcome(.object(answer), notifications: notifications)
    }

    /// The operator acknowledges a redline (signed "reviewed"); the build continues on the new
    /// revision for the steps not yet completed.
    static func acknowledge(_ context: MethodContext) async throws -> RecordOutcome {
        let signature = try SignatureInput(context.params)
        let build = try await BuildState.load(context.transaction, id: try context.params.integer("build_id"), service: context.service)
        let redlineID = try context.params.integer("redline_id")
        guard build.isOpen else { throw WorkRecordError(.invalidState, "build \(build.id) of serial '\(build.serial)' is \(build.status)") }
        guard let pending = build.pendingRedline, pending["id"] == redlineID else {
            throw WorkRecordError(.invalidState, "redline \(redlineID) is not waiting for acknowledgement on build \(build.id)")
        }
        let signed = try await context.signer.sign(
            signature, role: .operator, meaning: .reviewed, recordType: "redline", recordID: redlineID,
            subject: "acknowledged redline \(redlineID) (revision \(pending["from_revision"] as String) → \(pending["to_revision"] as String)) on serial \(build.serial)")
        try await context.writer.insert(
            "redline_ack",
            ["build_id": build.id, "redline_id": redlineID, "signature_id": signed.id, "acknowledged_at": signed.signedAt],
            action: "redline.acknowledge")
        try await context.writer.update("build", id: build.id, ["instruction_id": pending["to_instruction"] as Int64], action: "build.revise")
        let after = try await BuildState.load(context.transaction, id: build.id, service: context.service)
        return RecordOutcome(after.json, notifications: [BuildMethods.stepChanged(after)])
    }
}
