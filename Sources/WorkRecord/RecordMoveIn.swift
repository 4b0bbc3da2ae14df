import Foundation
import FloorgateCore
import RecordProtocol

/// `floorgate record move-in`: copies a station's SQLite record into another record (the plant's
/// PostgreSQL), in one transaction: all of it or nothing.
///
/// The station's file must verify first, and is only read. Users, parts, instruction revisions,
/// redlines, work orders and serials the target already holds (by login, number and revision,
/// part, operation and revision, revision, number, serial) are used as they are (a revision must
/// have the same content, a work order the same part, a serial the same work order); the rest is
/// copied. Every build, result, step completion, nonconformance, disposition,
/// redline acknowledgement, component built in and the signatures they carry are copied with new
/// ids, as are the parts' label identifiers and the calibration entries the target lacks, and each copy is
/// a new entry of the target's audit chain whose actor names the station's file and its chain's
/// head hash. A unit whose build of an operation the target already holds is refused, as is a
/// result whose key it already holds. The stations' routes and idempotency keys stay behind: move
/// a station in after its gateway's outbox has drained.
public enum RecordMoveIn {
    /// What was moved.
    public struct Outcome: Sendable, Hashable {
        /// Rows copied, by table (rows the target already held are not counted).
        public var copied: [String: Int]
        /// The serials whose builds were moved.
        public var serials: [String]
        /// The station record's audit head when it was read.
        public var sourceHead: String
    }

    /// Moves the station record at `sourcePath` into the record at `target`; `mover` is who the
    /// target's audit chain names; `key` signs the entries the move appends.
    public static func move(from sourcePath: String, to target: RecordLocation, mover: String, key: RecordServerKey? = nil) async throws -> Outcome {
        let source = try await StationRecord.read(sourcePath)
        let store = try await RecordStore.open(target)
        do {
            let outcome = try await store.exclusive(writing: true) { transaction, _ in
                let writer = AuditedWriter(
                    transaction: transaction, actor: Actor(user: mover, peer: "move-in of \(sourcePath) at audit head \(source.head)"), key: key)
                return try await Mover(source: source, writer: writer).run()
            }
            try await store.close()
            return outcome
        } catch {
            try? await store.close()
            throw error
        }
    }
}

/// A station's record as read for moving: every row of every table the move copies, by id.
struct StationRecord: Sendable {
    static let tables = [
        "user", "part", "instruction", "redline", "work_order", "unit_serial", "build", "signature", "result", "nonconformance",
        "step_completion", "nc_disposition", "redline_ack", "calibration", "part_identifier", "component_use",
        "tightening", "result_time", "redline_draft", "unit_release", "nc_concession", "user_deactivation",
    ]

    let path: String
    let head: String
    let rows: [String: [Int64: RecordRow]]
    /// The pictures steps show, by hash: the audited row and the bytes (checked against it).
    let pictures: [String: (row: RecordRow, bytes: Data)]

    /// Reads the SQLite record at `path` after checking it verifies.
    static func read(_ path: String) async throws -> StationRecord {
        let store = try await RecordStore.open(.sqlite(path: path), readOnly: true)
        do {
            // Verified and read in one read transaction: what is moved is what verified.
            let record = try await store.exclusive(writing: false) { transaction, backend in
                if let problem = try await AuditVerifier.verify(transaction, backend: backend, evidence: AuditVerifier.Evidence()).problem {
                    throw WorkRecordError(.invalidState, "the station record \(path) does not verify (\(problem)); nothing was moved")
                }
                var rows: [String: [Int64: RecordRow]] = [:]
                for table in tables {
                    rows[table] = Dictionary(
                        try await transaction.rows("SELECT * FROM \"\(table)\" ORDER BY id").map { ($0["id"] as Int64, $0) },
                        uniquingKeysWith: { first, _ in first })
                }
                // The bytes are outside the audit chain: each must match the hash its audited row holds.
                var pictures: [String: (row: RecordRow, bytes: Data)] = [:]
                let contents = Dictionary(
                    try await transaction.rows("SELECT hash, bytes FROM media_content").map { ($0["hash"] as String, $0["bytes"] as Data) },
                    uniquingKeysWith: { first, _ in first })
                for row in try await transaction.rows("SELECT * FROM media ORDER BY id") {
                    let hash: String = row["hash"]
                    guard let bytes = contents[hash], StepPicture.hash(Array(bytes)) == hash else {
                        throw WorkRecordError(.invalidState, "the station record \(path) lacks the bytes of picture \(hash), or they do not match it; nothing was moved")
                    }
                    pictures[hash] = (row, bytes)
                }
                return StationRecord(path: path, head: try await AuditChain.head(transaction), rows: rows, pictures: pictures)
            }
            try await store.close()
            return record
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// The rows of `table`, oldest first.
    func all(_ table: String) -> [RecordRow] {
        (rows[table] ?? [:]).sorted { $0.key < $1.key }.map(\.value)
    }

    func row(_ table: String, _ id: Int64) throws -> RecordRow {
        guard let row = rows[table]?[id] else {
            throw WorkRecordError(.invalidState, "the station record \(path) refers to \(table) \(id), which it does not hold")
        }
        return row
    }
}

/// Copies one station record into the target's transaction, keeping each source id's target id.
private final class Mover {
    private let source: StationRecord
    private let writer: AuditedWriter
    private var transaction: any RecordTransaction { writer.transaction }
    /// Target ids by table and source id: rows copied or found already there.
    private var ids: [String: [Int64: Int64]] = [:]
    /// Rows this move inserted, by table and target id (signatures on them move too).
    private var inserted: [String: Set<Int64>] = [:]
    private var copied: [String: Int] = [:]

    init(source: StationRecord, writer: AuditedWriter) {
        self.source = source
        self.writer = writer
    }

    func run() async throws -> RecordMoveIn.Outcome {
        for row in source.all("build") { _ = try await build(row["id"]) }
        for row in source.all("result") { _ = try await result(row["id"]) }
        for row in source.all("nonconformance") { _ = try await nonconformance(row["id"]) }
        for completion in source.all("step_completion") {
            try await copy("step_completion", completion, references: [
                "build_id": build, "instruction_id": instruction, "signature_id": signature,
            ])
        }
        for concession in source.all("nc_concession") {
            try await copy("nc_concession", concession, references: ["nc_id": nonconformance, "signature_id": signature])
        }
        for disposition in source.all("nc_disposition") {
            try await copy("nc_disposition", disposition, references: ["nc_id": nonconformance, "signature_id": signature])
        }
        for acknowledgement in source.all("redline_ack") {
            try await copy("redline_ack", acknowledgement, references: ["build_id": build, "redline_id": redline, "signature_id": signature])
        }
        for use in source.all("component_use") {
            try await copy("component_use", use, references: ["build_id": build, "result_id": result])
        }
        for context in source.all("tightening") {
            try await copy("tightening", context, references: ["result_id": result])
        }
        for note in source.all("result_time") {
            try await copy("result_time", note, references: ["result_id": result, "measured_before": result])
        }
        // A moved redline's draft: who wrote it and why, beside the approval that made it effective.
        for draft in source.all("redline_draft") where ids["instruction"]?[draft["instruction_id"]] != nil {
            let revision = try await instruction(draft["instruction_id"])
            guard try await existing("SELECT id FROM redline_draft WHERE instruction_id = ?", revision) == nil else { continue }
            try await copy("redline_draft", draft, references: ["instruction_id": instruction, "from_instruction": instruction, "signature_id": signature])
        }
        // A deactivated user stays deactivated in the plant's record, if the move brought them.
        for deactivation in source.all("user_deactivation") where ids["user"]?[deactivation["user_id"]] != nil {
            guard try await existing("SELECT id FROM user_deactivation WHERE user_id = ?", try await user(deactivation["user_id"])) == nil else { continue }
            try await copy("user_deactivation", deactivation, references: ["user_id": user, "signature_id": signature])
        }
        for release in source.all("unit_release") {
            guard try await existing("SELECT id FROM unit_release WHERE serial_id = ?", try await serial(release["serial_id"])) == nil else { continue }
            try await copy("unit_release", release, references: ["serial_id": serial, "signature_id": signature])
        }
        for identifier in source.all("part_identifier") { try await partIdentifier(identifier) }
        for entry in source.all("calibration") { _ = try await calibration(entry["id"]) }
        // Signatures no row refers to but which sign a moved row: build closings, reviews.
        for row in source.all("signature") where moves(row) { _ = try await signature(row["id"]) }
        let serials = Set(source.all("build").map { try? source.row("unit_serial", $0["serial_id"]) }.compactMap { $0?["serial"] as String? })
        return RecordMoveIn.Outcome(copied: copied, serials: serials.sorted(), sourceHead: source.head)
    }

    // MARK: Rows found by what names them, else copied

    private func user(_ id: Int64) async throws -> Int64 {
        try await mapped("user", id) { row in
            if let found = try await self.existing("SELECT id FROM \"user\" WHERE login = ?", row["login"] as String) { return found }
            return try await self.copy("user", row)
        }
    }

    private func part(_ id: Int64) async throws -> Int64 {
        try await mapped("part", id) { row in
            if let found = try await self.existing(
                "SELECT id FROM part WHERE number = ? AND revision = ?", row["number"] as String, row["revision"] as String)
            {
                return found
            }
            return try await self.copy("part", row)
        }
    }

    /// A revision the target holds must say the same; one it lacks arrives as it was, except that
    /// an approved one becomes superseded where the target already has its own approved revision.
    private func instruction(_ id: Int64) async throws -> Int64 {
        try await mapped("instruction", id) { row in
            let part = try await self.part(row["part_id"])
            let operation: String = row["operation"], revision: String = row["revision"]
            if let found = try await self.transaction.row(
                "SELECT id, content FROM instruction WHERE part_id = ? AND operation = ? AND revision = ?", part, operation, revision)
            {
                guard found["content"] as String == row["content"] as String else {
                    throw WorkRecordError(.conflict, "instruction \(operation) revision \(revision) differs between \(self.source.path) and the target; nothing was moved")
                }
                return found["id"]
            }
            try await self.copyPictures(of: InstructionContent(storedText: row["content"]))
            var status: String = row["status"]
            if status == "approved",
               try await self.existing("SELECT id FROM instruction WHERE part_id = ? AND operation = ? AND status = 'approved'", part, operation) != nil {
                status = "superseded"
            }
            return try await self.copy("instruction", row, overriding: ["status": .text(status)], references: [
                "part_id": { _ in part }, "based_on": self.instruction, "approval_signature": self.signature,
            ])
        }
    }

    /// The pictures a revision's steps show that the target lacks: their bytes, then their
    /// audited rows, so the revision arrives with everything it names.
    private func copyPictures(of content: InstructionContent) async throws {
        for hash in Set(content.steps.flatMap { $0.pictures.map(\.hash) }) {
            guard try await existing("SELECT id FROM media WHERE hash = ?", hash) == nil else { continue }
            guard let picture = source.pictures[hash] else {
                throw WorkRecordError(.invalidState, "the station record \(source.path) names picture \(hash), which it does not hold; nothing was moved")
            }
            if try await transaction.row("SELECT hash FROM media_content WHERE hash = ?", hash) == nil {
                try await transaction.execute("INSERT INTO media_content (hash, bytes) VALUES (?, ?)", hash, picture.bytes)
            }
            try await copy("media", picture.row)
        }
    }

    private func redline(_ id: Int64) async throws -> Int64 {
        try await mapped("redline", id) { row in
            let to = try await self.instruction(row["to_instruction"])
            if let found = try await self.existing("SELECT id FROM redline WHERE to_instruction = ?", to) { return found }
            return try await self.copy("redline", row, references: [
                "from_instruction": self.instruction, "to_instruction": { _ in to }, "signature_id": self.signature,
            ])
        }
    }

    private func workOrder(_ id: Int64) async throws -> Int64 {
        try await mapped("work_order", id) { row in
            try await self.heldOrCopied(
                "work_order", row, key: "number", parent: ("part_id", try await self.part(row["part_id"])),
                refusal: "work order \(row["number"] as String) is for another part in the target")
        }
    }

    private func serial(_ id: Int64) async throws -> Int64 {
        try await mapped("unit_serial", id) { row in
            try await self.heldOrCopied(
                "unit_serial", row, key: "serial", parent: ("work_order_id", try await self.workOrder(row["work_order_id"])),
                refusal: "serial \(row["serial"] as String) is on another work order in the target")
        }
    }

    /// The target's row of `table` whose `key` column equals `row`'s, which must belong to the
    /// same `parent` (refused with `refusal` otherwise); else a copy of `row` under that parent.
    private func heldOrCopied(
        _ table: String, _ row: RecordRow, key: String, parent: (column: String, id: Int64), refusal: String
    ) async throws -> Int64 {
        if let found = try await transaction.row("SELECT id, \(parent.column) FROM \(table) WHERE \(key) = ?", row[key] as String) {
            guard found[parent.column] as Int64 == parent.id else {
                throw WorkRecordError(.conflict, "\(refusal); nothing was moved")
            }
            return found["id"]
        }
        return try await copy(table, row, references: [parent.column: { _ in parent.id }])
    }

    // MARK: Rows always copied

    private func build(_ id: Int64) async throws -> Int64 {
        try await mapped("build", id) { row in
            let serial = try await self.serial(row["serial_id"])
            let operation: String = row["operation"]
            if try await self.existing("SELECT id FROM build WHERE serial_id = ? AND operation = ?", serial, operation) != nil {
                let name: String = try self.source.row("unit_serial", row["serial_id"])["serial"]
                throw WorkRecordError(.conflict, "the target already holds the build of serial \(name), operation \(operation); nothing was moved")
            }
            return try await self.copy("build", row, references: ["serial_id": { _ in serial }, "instruction_id": self.instruction])
        }
    }

    private func result(_ id: Int64) async throws -> Int64 {
        try await mapped("result", id) { row in
            if try await self.existing("SELECT id FROM result WHERE key = ?", row["key"] as String) != nil {
                throw WorkRecordError(.conflict, "the target already holds result \(row["key"] as String); nothing was moved")
            }
            return try await self.copy("result", row, references: [
                "build_id": self.build, "instruction_id": self.instruction, "corrects": self.result, "signature_id": self.signature,
                "remeasures_nc": self.nonconformance,
            ])
        }
    }

    private func nonconformance(_ id: Int64) async throws -> Int64 {
        try await mapped("nonconformance", id) { row in
            try await self.copy("nonconformance", row, references: ["build_id": self.build, "result_id": self.result])
        }
    }

    /// A part's label identifier: one the target holds must name the same part; else it is copied.
    private func partIdentifier(_ row: RecordRow) async throws {
        let part = try await self.part(row["part_id"])
        let scheme: String = row["scheme"], identifier: String = row["identifier"]
        if let found = try await transaction.row("SELECT part_id FROM part_identifier WHERE scheme = ? AND identifier = ?", scheme, identifier) {
            guard found["part_id"] as Int64 == part else {
                throw WorkRecordError(.conflict, "\(scheme.uppercased()) \(identifier) names another part in the target; nothing was moved")
            }
            return
        }
        try await copy("part_identifier", row, references: ["part_id": { _ in part }])
    }

    /// A calibration entry the target lacks (same device, time and status) is copied; the
    /// register orders entries by when they were recorded, so it takes its place in time.
    private func calibration(_ id: Int64) async throws -> Int64 {
        try await mapped("calibration", id) { row in
            if let found = try await self.existing(
                "SELECT id FROM calibration WHERE asset = ? AND recorded_at = ? AND status = ?",
                row["asset"] as String, row["recorded_at"] as String, row["status"] as String)
            {
                return found
            }
            return try await self.copy("calibration", row, references: ["signature_id": self.signature])
        }
    }

    /// A signature keeps its signer and what it signs, both by their target ids.
    private func signature(_ id: Int64) async throws -> Int64 {
        try await mapped("signature", id) { row in
            let type: String = row["record_type"]
            let signed: Int64 = row["record_id"]
            let target: Int64
            switch type {
            case "import": target = signed
            case "build": target = try await self.build(signed)
            case "instruction": target = try await self.instruction(signed)
            case "nonconformance": target = try await self.nonconformance(signed)
            case "redline": target = try await self.redline(signed)
            case "result": target = try await self.result(signed)
            case "user": target = try await self.user(signed)
            case "part": target = try await self.part(signed)
            case "work_order": target = try await self.workOrder(signed)
            case "unit_serial": target = try await self.serial(signed)
            case "calibration": target = try await self.calibration(signed)
            default:
                guard let known = self.ids[type]?[signed] else {
                    throw WorkRecordError(.invalidState, "signature \(id) of \(self.source.path) signs \(type) \(signed), which is not moved")
                }
                target = known
            }
            return try await self.copy("signature", row, overriding: ["record_id": .integer(target)], references: ["user_id": self.user])
        }
    }

    /// Whether a signature no row refers to signs a row this move copies.
    private func moves(_ signature: RecordRow) -> Bool {
        guard let target = ids[signature["record_type"]]?[signature["record_id"]] else { return false }
        return inserted[signature["record_type"], default: []].contains(target)
    }

    // MARK: Mechanics

    /// The target id of source row `id` of `table`, found or made once by `make`.
    private func mapped(_ table: String, _ id: Int64, make: (RecordRow) async throws -> Int64) async throws -> Int64 {
        if let known = ids[table]?[id] { return known }
        let target = try await make(try source.row(table, id))
        ids[table, default: [:]][id] = target
        return target
    }

    private func existing(_ sql: String, _ arguments: (any RecordValueConvertible)...) async throws -> Int64? {
        try await transaction.rows(sql, arguments.map { RecordValue($0) }).first?["id"]
    }

    /// Inserts a copy of `row` (without its id) with `overriding` values and each column of
    /// `references` mapped to its target id (NULL stays NULL); returns the new id.
    ///
    /// A signature may sign the very row that refers to it (an approval, a correction): the row's
    /// other references are resolved first, then its id is taken (the table's next, under the
    /// writer's lock) and known before its signatures are, so they can name it.
    @discardableResult
    private func copy(
        _ table: String, _ row: RecordRow, overriding: [String: RecordValue] = [:],
        references: [String: (Int64) async throws -> Int64] = [:]
    ) async throws -> Int64 {
        let signatures: Set = ["signature_id", "approval_signature"]
        var values: [String: RecordValue] = overriding
        for phase in [false, true] {
            if phase {
                let next = try await AuditedWriter.nextID(table, transaction)
                ids[table, default: [:]][row["id"]] = next
                inserted[table, default: []].insert(next)
            }
            for (column, value) in zip(row.columns, row.values) where signatures.contains(column) == phase && values[column] == nil {
                if let reference = references[column], case .integer(let sourceID) = value {
                    values[column] = .integer(try await reference(sourceID))
                }
            }
        }
        let expected = ids[table]?[row["id"]]
        let columns = zip(row.columns, row.values).filter { $0.0 != "id" }.map { (column: $0.0, value: values[$0.0] ?? $0.1) }
        let id: Int64 = try await writer.insertRow(table, columns: columns, action: "move-in")["id"]
        guard id == expected else {
            throw WorkRecordError(.internalError, "moving \(table) \(row["id"] as Int64) took id \(id), not \(expected.map(String.init) ?? "?")")
        }
        copied[table, default: 0] += 1
        return id
    }
}
