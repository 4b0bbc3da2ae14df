public import GRDB

/// Checks a record file against its audit chain without trusting any stored hash: every entry's
/// hash is recomputed from its content and its predecessor, and every row of every audited table
/// must be exactly what its newest audit entry says it is.
public enum AuditVerifier {
    /// What `verify` found.
    public struct Report: Sendable, Hashable {
        /// How many audit entries were checked.
        public var entries: Int
        /// How many record rows were matched against their entries.
        public var rows: Int
        /// The recomputed head hash.
        public var head: String
        /// The first problem, naming the entry or row; nil when the record verifies.
        public var problem: String?
    }

    /// Verifies the record in `db`. With `expectedHead` (a head hash kept elsewhere — printed in
    /// a DHR, logged, sent off the machine), the chain must also pass through that entry: a
    /// chain rewritten from an earlier entry onwards, or cut short, no longer does.
    public static func verify(_ db: Database, expectedHead: String? = nil) throws -> Report {
        var report = try verifyChain(db, expectedHead: expectedHead?.lowercased())
        if report.problem == nil { report.problem = try missingTrigger(db) }
        return report
    }

    private static func verifyChain(_ db: Database, expectedHead: String?) throws -> Report {
        var previous = AuditChain.genesis
        var expectedSeq: Int64 = 1
        var newest: [String: [Int64: String?]] = [:]
        var sawExpectedHead = expectedHead == nil || expectedHead == AuditChain.genesis
        let entries = try Row.fetchCursor(db, sql: "SELECT * FROM audit ORDER BY seq")
        var count = 0
        while let row = try entries.next() {
            guard let seq = row["seq"] as Int64?, let at = row["at"] as String?, let actor = row["actor"] as String?,
                  let peer = row["peer"] as String?, let action = row["action"] as String?, let entity = row["entity"] as String?,
                  let entityID = row["entity_id"] as Int64?, let storedPrevious = row["prev_hash"] as String?,
                  let storedHash = row["hash"] as String?
            else {
                return Report(entries: count, rows: 0, head: previous, problem: "audit entry \(expectedSeq) has a field missing")
            }
            let entry = AuditChain.Entry(
                seq: seq, at: at, actor: actor, peer: peer, action: action, entity: entity, entityID: entityID,
                old: row["old"], new: row["new"])
            guard entry.seq == expectedSeq else {
                return Report(entries: count, rows: 0, head: previous, problem: "audit entry \(expectedSeq) is missing (next entry is \(entry.seq))")
            }
            guard storedPrevious == previous else {
                return Report(entries: count, rows: 0, head: previous, problem: "audit entry \(entry.seq) (\(entry.action) \(entry.entity) \(entry.entityID)) does not follow entry \(entry.seq - 1): its previous hash differs")
            }
            let hash = entry.hash(previous: previous)
            guard storedHash == hash else {
                return Report(entries: count, rows: 0, head: previous, problem: "audit entry \(entry.seq) (\(entry.action) \(entry.entity) \(entry.entityID)) was altered: its content no longer gives its hash")
            }
            if hash == expectedHead { sawExpectedHead = true }
            newest[entry.entity, default: [:]][entry.entityID] = entry.new
            previous = hash
            expectedSeq += 1
            count += 1
        }
        guard sawExpectedHead else {
            return Report(entries: count, rows: 0, head: previous, problem: "the chain does not pass through the head \(expectedHead ?? "") kept outside the record: it was rewritten or cut short")
        }
        var rows = 0
        for table in RecordDatabase.auditedTables {
            var described = newest[table] ?? [:]
            let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM \(table) ORDER BY id")
            while let row = try cursor.next() {
                guard let id = row["id"] as Int64? else {
                    return Report(entries: count, rows: rows, head: previous, problem: "\(table) has a row without an id")
                }
                guard let entry = described.removeValue(forKey: id) else {
                    return Report(entries: count, rows: rows, head: previous, problem: "\(table) row \(id) is not in the audit chain")
                }
                guard entry == AuditChain.snapshot(of: row) else {
                    return Report(entries: count, rows: rows, head: previous, problem: "\(table) row \(id) differs from what the audit chain recorded for it")
                }
                rows += 1
            }
            if let (id, _) = described.min(by: { $0.key < $1.key }) {
                return Report(entries: count, rows: rows, head: previous, problem: "\(table) row \(id) is in the audit chain but missing from the record")
            }
        }
        return Report(entries: count, rows: rows, head: previous, problem: nil)
    }

    /// The first protecting trigger that is gone or no longer does its job, named; nil when all
    /// are in place. A trigger counts when it is on its table, fires before the statement it
    /// guards and aborts it.
    private static func missingTrigger(_ db: Database) throws -> String? {
        let definitions = Dictionary(
            try Row.fetchAll(db, sql: "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'").map { row in
                (row["name"] as String? ?? "", (table: row["tbl_name"] as String? ?? "", sql: Self.normalized(row["sql"] as String? ?? "")))
            }, uniquingKeysWith: { first, _ in first })
        var expected: [(name: String, table: String, guards: String)] = RecordDatabase.appendOnlyTables.flatMap { table in
            [("\(table)_no_update", table, "BEFORE UPDATE ON \(table.uppercased())"), ("\(table)_no_delete", table, "BEFORE DELETE ON \(table.uppercased())")]
        }
        expected += [
            ("instruction_immutable", "instruction", "BEFORE UPDATE ON INSTRUCTION"),
            ("instruction_status_forward", "instruction", "BEFORE UPDATE OF STATUS ON INSTRUCTION"),
            ("instruction_keep_approved", "instruction", "BEFORE DELETE ON INSTRUCTION"),
        ]
        for trigger in expected {
            guard let definition = definitions[trigger.name], definition.table == trigger.table,
                  definition.sql.contains(trigger.guards), definition.sql.contains("RAISE(ABORT")
            else { return "trigger \(trigger.name) is missing or changed: the record's rows are no longer protected" }
        }
        return nil
    }

    /// SQL in upper case with runs of white space made one space, for comparing definitions.
    private static func normalized(_ sql: String) -> String {
        sql.uppercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
