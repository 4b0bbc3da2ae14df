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

    /// Verifies the record in `db`.
    public static func verify(_ db: Database) throws -> Report {
        var previous = AuditChain.genesis
        var expectedSeq: Int64 = 1
        var newest: [String: [Int64: String?]] = [:]
        let entries = try Row.fetchCursor(db.cachedStatement(sql: "SELECT * FROM audit ORDER BY seq"))
        var count = 0
        while let row = try entries.next() {
            let entry = AuditChain.Entry(
                seq: row["seq"], at: row["at"], actor: row["actor"], peer: row["peer"], action: row["action"],
                entity: row["entity"], entityID: row["entity_id"], old: row["old"], new: row["new"])
            guard entry.seq == expectedSeq else {
                return Report(entries: count, rows: 0, head: previous, problem: "audit entry \(expectedSeq) is missing (next entry is \(entry.seq))")
            }
            guard row["prev_hash"] as String == previous else {
                return Report(entries: count, rows: 0, head: previous, problem: "audit entry \(entry.seq) (\(entry.action) \(entry.entity) \(entry.entityID)) does not follow entry \(entry.seq - 1): its previous hash differs")
            }
            let hash = entry.hash(previous: previous)
            guard row["hash"] as String == hash else {
                return Report(entries: count, rows: 0, head: previous, problem: "audit entry \(entry.seq) (\(entry.action) \(entry.entity) \(entry.entityID)) was altered: its content no longer gives its hash")
            }
            newest[entry.entity, default: [:]][entry.entityID] = entry.new
            previous = hash
            expectedSeq += 1
            count += 1
        }
        var rows = 0
        for table in RecordDatabase.auditedTables {
            var described = newest[table] ?? [:]
            let cursor = try Row.fetchCursor(db.cachedStatement(sql: "SELECT * FROM \(table) ORDER BY id"))
            while let row = try cursor.next() {
                let id: Int64 = row["id"]
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
}
