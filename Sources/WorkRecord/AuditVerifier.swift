import RecordProtocol


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

    /// What is kept outside the record that the chain must agree with.
    public struct Evidence: Sendable {
        /// A head hash kept elsewhere (printed in a DHR, logged): the chain must pass through it.
        public var expectedHead: String?
        /// The registered servers' public keys: every entry must carry a signature one of them made.
        public var keys: AuditPublicKeys?
        /// Heads the servers wrote to anchor files: the chain must pass through every one, the
        /// same entry at the same place.
        public var anchors: [AuditAnchor]

        public init(expectedHead: String? = nil, keys: AuditPublicKeys? = nil, anchors: [AuditAnchor] = []) {
            self.expectedHead = expectedHead?.lowercased()
            self.keys = keys
            self.anchors = anchors
        }
    }

    /// How many rows are read at a time: a plant's record does not fit in memory at once.
    private static let pageSize = 5_000

    /// Verifies the record in one consistent read, against what `evidence` kept outside it. A
    /// chain rewritten from an earlier entry onwards, or cut short, no longer passes through an
    /// expected head or an anchor; an entry appended by anyone but a record server is not signed
    /// by a registered key; entries must be in time order.
    static func verify(_ transaction: any RecordTransaction, backend: any RecordBackend, evidence: Evidence) async throws -> Report {
        var report = try await verifyChain(transaction, evidence: evidence)
        if report.problem == nil { report.problem = try await backend.protectionProblem(transaction) }
        return report
    }

    /// Every row of `table` in order of `key`, a page at a time.
    private static func pages(
        _ transaction: any RecordTransaction, table: String, key: String, _ body: ([RecordRow]) throws -> Void
    ) async throws {
        var after = Int64.min
        while true {
            let page = try await transaction.rows(
                "SELECT * FROM \"\(table)\" WHERE \(key) > ? ORDER BY \(key) LIMIT \(pageSize)", [.integer(after)])
            try body(page)
            guard page.count == pageSize, let last = page.last?[key] as Int64? else { return }
            after = last
        }
    }

    /// The first problem found, ending the walk.
    private struct Stop: Error {
        var report: Report
    }

    private static func verifyChain(_ transaction: any RecordTransaction, evidence: Evidence) async throws -> Report {
        let expectedHead = evidence.expectedHead
        var anchors: [Int64: AuditAnchor] = [:]
        for anchor in evidence.anchors {
            if let other = anchors[anchor.seq], other.hash != anchor.hash {
                return Report(entries: 0, rows: 0, head: AuditChain.genesis, problem: "the anchors of \(other.at) and \(anchor.at) name two different entries \(anchor.seq): the chain was rewritten between them")
            }
            anchors[anchor.seq] = anchor
        }
        var previous = AuditChain.genesis
        var previousAt = ""
        var expectedSeq: Int64 = 1
        var newest: [String: [Int64: String?]] = [:]
        var sawExpectedHead = expectedHead == nil || expectedHead == AuditChain.genesis
        var count = 0
        var rows = 0
        func stop(_ problem: String) -> Stop {
            Stop(report: Report(entries: count, rows: rows, head: previous, problem: problem))
        }
        do {
            try await pages(transaction, table: "audit", key: "seq") { entries in
                for row in entries {
                    guard let seq = row["seq"] as Int64?, let at = row["at"] as String?, let actor = row["actor"] as String?,
                          let peer = row["peer"] as String?, let action = row["action"] as String?, let entity = row["entity"] as String?,
                          let entityID = row["entity_id"] as Int64?, let storedPrevious = row["prev_hash"] as String?,
                          let storedHash = row["hash"] as String?
                    else { throw stop("audit entry \(expectedSeq) has a field missing") }
                    let entry = AuditChain.Entry(
                        seq: seq, at: at, actor: actor, peer: peer, action: action, entity: entity, entityID: entityID,
                        old: row["old"], new: row["new"])
                    guard entry.seq == expectedSeq else { throw stop("audit entry \(expectedSeq) is missing (next entry is \(entry.seq))") }
                    guard storedPrevious == previous else {
                        throw stop("audit entry \(entry.seq) (\(entry.action) \(entry.entity) \(entry.entityID)) does not follow entry \(entry.seq - 1): its previous hash differs")
                    }
                    let hash = entry.hash(previous: previous)
                    guard storedHash == hash else {
                        throw stop("audit entry \(entry.seq) (\(entry.action) \(entry.entity) \(entry.entityID)) was altered: its content no longer gives its hash")
                    }
                    let named = "audit entry \(entry.seq) (\(entry.action) \(entry.entity) \(entry.entityID), \(entry.at))"
                    if let keys = evidence.keys, let problem = keys.problem(keyID: row["key_id"], signature: row["signature"], hash: hash) {
                        throw stop("\(named) \(problem)")
                    }
                    guard entry.at >= previousAt else { throw stop("\(named) is dated before entry \(entry.seq - 1) (\(previousAt)): entries never go back in time") }
                    if let anchor = anchors.removeValue(forKey: entry.seq), anchor.hash != hash {
                        throw stop("\(named) is not the entry anchored at \(anchor.at) (hash \(anchor.hash)): the chain was rewritten at or before it")
                    }
                    if hash == expectedHead { sawExpectedHead = true }
                    newest[entry.entity, default: [:]][entry.entityID] = entry.new
                    previous = hash
                    previousAt = entry.at
                    expectedSeq += 1
                    count += 1
                }
            }
            if let missing = anchors.values.min(by: { $0.seq < $1.seq }) {
                throw stop("the chain ends at entry \(expectedSeq - 1), before entry \(missing.seq) anchored at \(missing.at): it was cut short")
            }
            guard sawExpectedHead else {
                throw stop("the chain does not pass through the head \(expectedHead ?? "") kept outside the record: it was rewritten or cut short")
            }
            for table in RecordSchema.auditedTables {
                var described = newest[table] ?? [:]
                try await pages(transaction, table: table, key: "id") { page in
                    for row in page {
                        guard let id = row["id"] as Int64? else { throw stop("\(table) has a row without an id") }
                        guard let entry = described.removeValue(forKey: id) else { throw stop("\(table) row \(id) is not in the audit chain") }
                        guard entry == AuditChain.snapshot(of: row) else {
                            throw stop("\(table) row \(id) differs from what the audit chain recorded for it")
                        }
                        rows += 1
                    }
                }
                if let (id, _) = described.min(by: { $0.key < $1.key }) {
                    throw stop("\(table) row \(id) is in the audit chain but missing from the record")
                }
            }
        } catch let found as Stop {
            return found.report
        }
        return Report(entries: count, rows: rows, head: previous, problem: nil)
    }
}
