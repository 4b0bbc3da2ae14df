import FloorgateCore
import RecordProtocol

/// `record.info`: the chain's head and size, for monitoring and the DHR.
enum RecordInfo {
    static func run(_ context: MethodContext) async throws -> RecordOutcome {
        let count = try await context.transaction.integer("SELECT COUNT(*) FROM audit") ?? 0
        return RecordOutcome(["audit_head": .string(try await AuditChain.head(context.transaction)), "audit_entries": .integer(count)])
    }
}

/// `record.import`: users, parts, instruction drafts, work orders, the stations' routes and the
/// calibration register from one document (`floorgate record import FILE`). Instructions arrive
/// as drafts: only a signed `instruction.approve` makes a revision effective.
enum RecordImport {
    static func run(_ context: MethodContext) async throws -> RecordOutcome {
        let params = context.params, writer = context.writer, transaction = context.transaction
        var counts: [String: Int64] = ["users": 0, "parts": 0, "instructions": 0, "work_orders": 0, "serials": 0, "stations": 0, "calibrations": 0]
        let sections = ["users", "parts", "instructions", "work_orders", "stations", "calibrations"]
        guard try sections.contains(where: { try !params.array($0).isEmpty }) else {
            throw WorkRecordError(.invalidParams, "the import lists nothing: give at least one of \(sections.joined(separator: ", "))")
        }
        // Users and their roles decide who may sign what: once the record has an admin, only an
        // admin's signature adds users (the service authenticated it:
        // `Signing.whenAddingUsersOrCalibrations`). The first import, with no admin yet, sets the
        // record up. Calibrations are signed by a quality user, each entry on its own.
        if context.authenticated != nil, try !params.array("users").isEmpty {
            try await context.signer.sign(
                try SignatureInput(context.params), role: .admin, meaning: .approved, recordType: "import", recordID: 0,
                subject: "import of \(try params.array("users").count) users")
        }
        for (index, value) in try params.array("users").enumerated() {
            let user = try Parameters(value, path: "params.users[\(index)]")
            let roles = try user.array("roles").map { role -> String in
                guard let name = role.stringValue, Role(rawValue: name) != nil else {
                    throw WorkRecordError(.invalidParams, "\(user.path).roles: '\(role.text)' is not a role; one of: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return name
            }
            guard !roles.isEmpty else { throw WorkRecordError(.invalidParams, "\(user.path).roles must name at least one role") }
            let password = try user.string("password")
            let login = try user.string("login")
            guard password.count >= 8 else { throw WorkRecordError(.invalidParams, "\(user.path).password must have at least 8 characters") }
            guard Set(password).count > 1, password.lowercased() != login.lowercased() else {
                throw WorkRecordError(.invalidParams, "\(user.path).password must not be the login nor one character repeated")
            }
            let key = try context.service.passwords.hash(password)
            try await writer.insert(
                "user", ["login": login, "name": try user.string("name"), "roles": roles.joined(separator: ","), "password": key],
                action: "user.create")
            // A hint for checking this user's signatures before the writer's turn; the writer
            // compares it with the stored key, so an import that rolls back leaves no harm.
            context.service.knownHashes.remember(key, of: login)
            counts["users", default: 0] += 1
        }
        for (index, value) in try params.array("parts").enumerated() {
            let part = try Parameters(value, path: "params.parts[\(index)]")
            let partID = try await writer.insert(
                "part",
                [
                    "number": try part.string("number"), "revision": try part.string("revision"),
                    "description": try part.optionalString("description") ?? "",
                ], action: "part.create")
            try await PartIdentifiers.record(part, partID: partID, writer: writer)
            counts["parts", default: 0] += 1
        }
        for (index, value) in try params.array("instructions").enumerated() {
            let instruction = try Parameters(value, path: "params.instructions[\(index)]")
            let content = try InstructionContent(steps: instruction.array("steps"), path: "\(instruction.path).steps")
            try await MediaMethods.requireStored(content, transaction, path: "\(instruction.path).steps")
            try await writer.insert(
                "instruction",
                [
                    "part_id": try await partID(instruction, transaction), "operation": try instruction.string("operation"),
                    "revision": try instruction.string("revision"), "title": try instruction.string("title"),
                    "content": content.json.text, "status": "draft", "created_at": RecordClock.timestamp(),
                ], action: "instruction.draft")
            counts["instructions", default: 0] += 1
        }
        for (index, value) in try params.array("work_orders").enumerated() {
            let order = try Parameters(value, path: "params.work_orders[\(index)]")
            let route = try WorkOrderRoute(importing: try order.array("operations"), path: "\(order.path).operations")
            let serials = try order.array("serials").map { serial -> String in
                guard let text = serial.stringValue, !text.isEmpty else { throw WorkRecordError(.invalidParams, "\(order.path).serials must be strings") }
                return text
            }
            let quantity = try order.integer("quantity")
            guard quantity > 0, serials.count <= quantity else {
                throw WorkRecordError(.invalidParams, "\(order.path): quantity \(quantity) must be positive and at least the \(serials.count) serials listed")
            }
            let status = try order.optionalString("status") ?? "released"
            guard ["planned", "released"].contains(status) else {
                throw WorkRecordError(.invalidParams, "\(order.path).status '\(status)' is not one of: planned, released")
            }
            let orderID = try await writer.insert(
                "work_order",
                [
                    "number": try order.string("number"), "part_id": try await partID(order, transaction), "quantity": quantity,
                    "operations": route.storedText, "status": status,
                    "released_at": status == "released" ? RecordClock.timestamp() : nil,
                ], action: "work_order.create")
            for serial in serials {
                try await writer.insert("unit_serial", ["serial": serial, "work_order_id": orderID], action: "serial.assign")
            }
            counts["work_orders", default: 0] += 1
            counts["serials", default: 0] += Int64(serials.count)
        }
        for (index, value) in try params.array("stations").enumerated() {
            let station = try Parameters(value, path: "params.stations[\(index)]")
            try await RouteMethods.record(station, writer: writer, signatureID: nil)
            counts["stations", default: 0] += 1
        }
        for (index, value) in try params.array("calibrations").enumerated() {
            _ = try await CalibrationMethods.insert(
                Parameters(value, path: "params.calibrations[\(index)]"), signature: try SignatureInput(context.params), context)
            counts["calibrations", default: 0] += 1
        }
        return RecordOutcome(.object(counts.mapValues(JSONValue.integer)))
    }

    /// The id of the part named by `part` and `part_revision`.
    static func partID(_ params: Parameters, _ transaction: any RecordTransaction) async throws -> Int64 {
        let number = try params.string("part"), revision = try params.string("part_revision")
        guard let id = try await transaction.integer("SELECT id FROM part WHERE number = ? AND revision = ?", number, revision) else {
            throw WorkRecordError(.notFound, "\(params.path): no part \(number) revision \(revision)")
        }
        return id
    }
}

/// `instruction.get` and `instruction.approve`.
enum InstructionMethods {
    /// The revision named by part, part revision, operation and `revision`; without `revision`,
    /// the effective approved one.
    static func find(_ params: Parameters, _ transaction: any RecordTransaction) async throws -> RecordRow {
        let partID = try await RecordImport.partID(params, transaction)
        let operation = try params.string("operation")
        if let revision = try params.optionalString("revision") {
            guard let row = try await transaction.row(
                "SELECT * FROM instruction WHERE part_id = ? AND operation = ? AND revision = ?", partID, operation, revision)
            else { throw WorkRecordError(.notFound, "no instruction revision \(revision) for operation \(operation)") }
            return row
        }
        guard let row = try await transaction.row(
            "SELECT * FROM instruction WHERE part_id = ? AND operation = ? AND status = 'approved'", partID, operation)
        else { throw WorkRecordError(.noApprovedRevision, "operation \(operation) of this part has no approved instruction revision") }
        return row
    }

    static func json(_ row: RecordRow, content: InstructionContent) -> JSONValue {
        .object([
            "instruction_id": .integer(row["id"]), "operation": .string(row["operation"]), "revision": .string(row["revision"]),
            "title": .string(row["title"]), "status": .string(row["status"]), "based_on": .optional(row["based_on"] as Int64?),
            "approval_signature": .optional(row["approval_signature"] as Int64?), "steps": content.json["steps"] ?? [],
        ])
    }

    static func get(_ context: MethodContext) async throws -> RecordOutcome {
        let row = try await find(context.params, context.transaction)
        return RecordOutcome(json(row, content: try await context.service.content(ofInstruction: row["id"], context.transaction)))
    }

    /// Approves a draft revision with an approver's signature; the revision it replaces (if
    /// any) becomes superseded, so exactly one is effective.
    static func approve(_ context: MethodContext) async throws -> RecordOutcome {
        let signature = try SignatureInput(context.params)
        let row = try await find(context.params, context.transaction)
        let id: Int64 = row["id"]
        let signed = try await context.signer.sign(
            signature, role: .approver, meaning: .approved, recordType: "instruction", recordID: id,
            subject: "instruction \(row["operation"] as String) revision \(row["revision"] as String)")
        guard row["status"] as String == "draft" else {
            throw WorkRecordError(.invalidState, "instruction revision \(row["revision"] as String) is \(row["status"] as String), not a draft")
        }
        if let draft = try await RedlineMethods.draft(of: id, context.transaction) {
            return try await RedlineMethods.approve(row, draft: draft, signed: signed, context)
        }
        // Builds running on the effective revision must be told of a change and acknowledge it:
        // that is a redline, not a plain approval.
        let running = try await context.transaction.integer(
            """
            SELECT COUNT(*) FROM build JOIN instruction ON instruction.id = build.instruction_id
            WHERE build.status = 'open' AND instruction.part_id = ? AND instruction.operation = ? AND instruction.status = 'approved'
            """, row["part_id"] as Int64, row["operation"] as String) ?? 0
        guard running == 0 else {
            throw WorkRecordError(
                .invalidState,
                "\(running) open builds run on the effective revision of operation \(row["operation"] as String); publish the change with redline.publish so they acknowledge it once approved")
        }
        try await makeEffective(id, partID: row["part_id"], operation: row["operation"], signatureID: signed.id, context)
        let approved = try await context.transaction.row("SELECT * FROM instruction WHERE id = ?", id) ?? row
        return RecordOutcome(json(approved, content: try await context.service.content(ofInstruction: id, context.transaction)))
    }

    /// Supersedes the effective revision of the part's operation and approves `id`.
    static func makeEffective(_ id: Int64, partID: Int64, operation: String, signatureID: Int64, _ context: MethodContext) async throws {
        if let current = try await context.transaction.integer(
            "SELECT id FROM instruction WHERE part_id = ? AND operation = ? AND status = 'approved'", partID, operation)
        {
            try await context.writer.update("instruction", id: current, ["status": "superseded"], action: "instruction.supersede")
        }
        try await context.writer.update(
            "instruction", id: id, ["status": "approved", "approval_signature": signatureID], action: "instruction.approve")
    }
}

/// `user.get`, `user.unlock` and `sign`.
enum UserMethods {
    /// Who a login is, as a signature would show it (printed name) and what it may sign (roles);
    /// nothing secret. A signing page shows it before the password is asked for.
    static func get(_ context: MethodContext) async throws -> RecordOutcome {
        let login = try context.params.string("login")
        guard let row = try await context.transaction.row(
            #"SELECT u.name, u.roles, u.locked, d.id AS deactivation FROM "user" u LEFT JOIN user_deactivation d ON d.user_id = u.id WHERE u.login = ?"#, login)
        else {
            throw WorkRecordError(.notFound, "no user '\(login)'")
        }
        return RecordOutcome([
            "login": .string(login), "printed_name": .string(row["name"]),
            "roles": .array((row["roles"] as String).split(separator: ",").map { .string(String($0)) }),
            "locked": .bool(Lockout.isLocked(row["locked"])), "active": .bool(row["deactivation"] as Int64? == nil),
        ])
    }

    /// Deactivates a user, signed by an admin who is not that user: never deleted, their
    /// signatures and the rows they wrote stay as they are; they sign nothing more.
    static func deactivate(_ context: MethodContext) async throws -> RecordOutcome {
        let login = try context.params.string("login")
        let reason = try context.params.string("reason")
        guard let id = try await context.transaction.integer(#"SELECT id FROM "user" WHERE login = ?"#, login) else {
            throw WorkRecordError(.notFound, "no user '\(login)'")
        }
        if let earlier = try await context.transaction.row("SELECT deactivated_at FROM user_deactivation WHERE user_id = ?", id) {
            throw WorkRecordError(.conflict, "user '\(login)' was deactivated already, at \(earlier["deactivated_at"] as String)")
        }
        let signature = try SignatureInput(context.params)
        let signed = try await context.signer.sign(
            signature, role: .admin, meaning: .approved, recordType: "user", recordID: id, subject: "deactivation of user \(login): \(reason)")
        try context.signer.requireIndependence(signature, from: [login], what: "is the user to deactivate")
        try await context.writer.insert(
            "user_deactivation", ["user_id": id, "reason": reason, "signature_id": signed.id, "deactivated_at": signed.signedAt], action: "user.deactivate")
        return RecordOutcome(["login": .string(login), "active": false, "signature_id": .integer(signed.id), "deactivated_at": .string(signed.signedAt)])
    }

    /// Unlocks a user locked out by failed signatures: an admin signs it, or root or the record
    /// server's own user asks on the record's host (their peer credentials, in the audit entry,
    /// are the authority), so a locked-out only admin is not the end of signing.
    static func unlock(_ context: MethodContext) async throws -> RecordOutcome {
        let login = try context.params.string("login")
        guard let id = try await context.transaction.integer(#"SELECT id FROM "user" WHERE login = ?"#, login) else {
            throw WorkRecordError(.notFound, "no user '\(login)'")
        }
        if context.authenticated != nil {
            try await context.signer.sign(
                try SignatureInput(context.params), role: .admin, meaning: .approved, recordType: "user", recordID: id,
                subject: "unlock user \(login)")
        }
        try await context.writer.update("user", id: id, ["locked": 0, "failed_attempts": 0], action: "user.unlock")
        return RecordOutcome(["login": .string(login), "locked": false])
    }

    /// Checks a user's two components without signing anything, for a login where the station
    /// page is served beyond the station PC. A write: a wrong password counts towards lockout
    /// and slows the next attempts as a signature's does.
    static func authenticate(_ context: MethodContext) async throws -> RecordOutcome {
        guard let user = context.authenticated else { throw WorkRecordError(.invalidParams, "params.signature is missing") }
        return RecordOutcome([
            "login": .string(user.login), "printed_name": .string(user.printedName), "roles": .array(user.roles.map(JSONValue.string)),
        ])
    }

    /// A review signature (quality role) on any record row: `record_type` is the table.
    static func sign(_ context: MethodContext) async throws -> RecordOutcome {
        let type = try context.params.choice("record_type", of: RecordSchema.auditedTables)
        let id = try context.params.integer("record_id")
        guard try await context.transaction.integer("SELECT id FROM \"\(type)\" WHERE id = ?", id) != nil else {
            throw WorkRecordError(.notFound, "no \(type) with id \(id)")
        }
        let signed = try await context.signer.sign(
            try SignatureInput(context.params), role: .quality, meaning: .reviewed, recordType: type, recordID: id,
            subject: try context.params.optionalString("subject") ?? "review of \(type) \(id)")
        return RecordOutcome(try await SignatureView.json(id: signed.id, context.transaction))
    }
}

/// How a signature is shown: printed name, time, meaning and what it signs (21 CFR 11.50).
enum SignatureView {
    static func json(id: Int64, _ transaction: any RecordTransaction) async throws -> JSONValue {
        guard let row = try await transaction.row(
            #"SELECT signature.*, "user".login FROM signature JOIN "user" ON "user".id = signature.user_id WHERE signature.id = ?"#, id)
        else { return .null }
        return json(row)
    }

    static func json(_ row: RecordRow) -> JSONValue {
        .object([
            "signature_id": .integer(row["id"]), "user": .string(row["login"]), "printed_name": .string(row["printed_name"]),
            "meaning": .string(row["meaning"]), "signed_at": .string(row["signed_at"]), "record_type": .string(row["record_type"]),
            "record_id": .integer(row["record_id"]), "subject": .string(row["subject"]), "reason": .optional(row["reason"] as String?),
        ])
    }
}
