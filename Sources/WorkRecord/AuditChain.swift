import Crypto
import FloorgateCore
import Foundation
import RecordProtocol

/// Who is writing: the signed-in or named user, and the process on the other end of the socket.
struct Actor: Sendable {
    /// The user the write is attributed to (a login, or `system` for the record's own writes).
    var user: String
    /// The connecting process, from its peer credentials (`uid=1000 gid=1000 pid=4242`), or
    /// `local` for a command working on the file directly.
    var peer: String
}

/// The audit trail: every write appends an entry (who, when, what, old → new) whose hash covers
/// the previous entry's hash, so any change to an entry, or to a row the entry describes, shows.
enum AuditChain {
    /// The `prev_hash` of the first entry.
    static let genesis = String(repeating: "0", count: 64)

    /// One audit entry's content, in the order it is hashed.
    struct Entry: Sendable {
        var seq: Int64
        var at: String
        var actor: String
        var peer: String
        var action: String
        var entity: String
        var entityID: Int64
        var old: String?
        var new: String?

        /// SHA-256 over the previous hash and every field, each written with its length first so
        /// no two different entries hash the same text.
        func hash(previous: String) -> String {
            var text = ""
            for field in [String(seq), previous, at, actor, peer, action, entity, String(entityID), old ?? "∅", new ?? "∅"] {
                text += "\(field.utf8.count):\(field)\n"
            }
            return DeviceEvent.hex(Array(SHA256.hash(data: Data(text.utf8))))
        }
    }

    /// The newest entry's place, hash and time.
    struct Head: Sendable {
        var seq: Int64
        var hash: String
        var at: String
    }

    /// The hash of the newest entry (the chain's head), or the genesis hash for an empty chain.
    static func head(_ transaction: any RecordTransaction) async throws -> String {
        try await newest(transaction)?.hash ?? genesis
    }

    /// The newest entry, or nil for an empty chain.
    static func newest(_ transaction: any RecordTransaction) async throws -> Head? {
        try await transaction.row("SELECT seq, hash, at FROM audit ORDER BY seq DESC LIMIT 1").map { Head(seq: $0["seq"], hash: $0["hash"], at: $0["at"]) }
    }

    /// Appends one entry after the current head (as the writer remembers it, else as read),
    /// signed with the server's `key`. Its time never goes before the head's: a clock set back
    /// gives the head's time again, so entries stay in time order.
    static func append(
        _ transaction: any RecordTransaction, actor: Actor, key: RecordServerKey?, action: String, entity: String, entityID: Int64,
        old: String?, new: String?
    ) async throws {
        let memory = transaction.memory
        let last: Head
        if let remembered = memory?.auditHead {
            last = remembered
        } else {
            last = try await newest(transaction) ?? Head(seq: 0, hash: genesis, at: "")
        }
        let entry = Entry(
            seq: last.seq + 1, at: max(try await transaction.auditTimestamp(), last.at), actor: actor.user, peer: actor.peer, action: action,
            entity: entity, entityID: entityID, old: old, new: new)
        let hash = entry.hash(previous: last.hash)
        try await transaction.execute(
            """
            INSERT INTO audit (seq, at, actor, peer, action, entity, entity_id, old, new, prev_hash, hash, key_id, signature)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            entry.seq, entry.at, entry.actor, entry.peer, entry.action, entry.entity, entry.entityID, entry.old,
            entry.new, last.hash, hash, key?.keyID, try key?.sign(hash: hash))
        memory?.auditHead = Head(seq: entry.seq, hash: hash, at: entry.at)
    }

    /// The row `id` of `table` as canonical JSON (columns sorted, blobs as hex), or nil when the
    /// row does not exist. What the audit entry stores and what `verify` compares.
    static func snapshot(_ transaction: any RecordTransaction, table: String, id: Int64) async throws -> String? {
        try await transaction.row("SELECT * FROM \"\(table)\" WHERE id = ?", id).map(snapshot(of:))
    }

    static func snapshot(of row: RecordRow) -> String {
        var text = "{"
        for (index, (column, value)) in zip(row.columns, row.values).sorted(by: { $0.0 < $1.0 }).enumerated() {
            if index > 0 { text += "," }
            JSONObjectWriter.appendQuoted(column, to: &text)
            text += ":"
            switch value {
            case .null: text += "null"
            case .integer(let number): text += String(number)
            case .real(let number): text += number.isFinite ? "\(number)" : "null"
            case .text(let string): JSONObjectWriter.appendQuoted(string, to: &text)
            case .blob(let bytes): text += "\"x'" + DeviceEvent.hex(bytes) + "'\""
            }
        }
        return text + "}"
    }
}

/// Writes to the record's tables that each append their audit entry: the only way rows change.
/// A new row's id is the table's largest plus one, allocated under the writer's lock, so both
/// stores give the same ids to the same requests.
struct AuditedWriter {
    let transaction: any RecordTransaction
    let actor: Actor
    /// The record server's key, signing each entry; nil writes unsigned entries (`verify --keys` refuses them).
    let key: RecordServerKey?

    /// Inserts a row and records it; returns its id.
    @discardableResult
    func insert(_ table: String, _ values: KeyValuePairs<String, (any RecordValueConvertible)?>, action: String) async throws -> Int64 {
        try await insertRow(table, values, action: action)["id"]
    }

    /// Inserts a row and records it; returns the row as stored.
    func insertRow(_ table: String, _ values: KeyValuePairs<String, (any RecordValueConvertible)?>, action: String) async throws -> RecordRow {
        try await insertRow(table, columns: values.map { ($0.key, RecordValue($0.value)) }, action: action)
    }

    /// Inserts a row of these columns and records it; returns the row as stored. One statement
    /// takes the id, inserts the row and gives it back, for the audit entry.
    func insertRow(_ table: String, columns values: [(column: String, value: RecordValue)], action: String) async throws -> RecordRow {
        let columns = ["id"] + values.map(\.column)
        // The id as a scalar subquery of its own: both stores answer MAX(id) from the index.
        let placeholders = ["(SELECT COALESCE(MAX(id), 0) + 1 FROM \"\(table)\")"] + Array(repeating: "?", count: values.count)
        guard let row = try await transaction.rows(
            """
            INSERT INTO "\(table)" (\(columns.joined(separator: ", "))) VALUES (\(placeholders.joined(separator: ", "))) RETURNING *
            """, values.map(\.value)).first
        else {
            throw WorkRecordError(.internalError, "inserting into \(table) gave no row back")
        }
        try await AuditChain.append(
            transaction, actor: actor, key: key, action: action, entity: table, entityID: row["id"], old: nil, new: AuditChain.snapshot(of: row))
        return row
    }

    /// The id the next row of `table` gets: its largest plus one, under the writer's lock.
    static func nextID(_ table: String, _ transaction: any RecordTransaction) async throws -> Int64 {
        try await transaction.integer("SELECT COALESCE(MAX(id), 0) + 1 FROM \"\(table)\"") ?? 1
    }

    /// Changes columns of one row and records old → new.
    func update(_ table: String, id: Int64, _ values: KeyValuePairs<String, (any RecordValueConvertible)?>, action: String) async throws {
        let old = try await AuditChain.snapshot(transaction, table: table, id: id)
        let assignments = values.map { "\($0.key) = ?" }.joined(separator: ", ")
        try await transaction.execute(
            "UPDATE \"\(table)\" SET \(assignments) WHERE id = ?", values.map { RecordValue($0.value) } + [.integer(id)])
        try await AuditChain.append(
            transaction, actor: actor, key: key, action: action, entity: table, entityID: id, old: old,
            new: try await AuditChain.snapshot(transaction, table: table, id: id))
    }
}

/// Timestamps as the record writes them: UTC, ISO 8601 with milliseconds.
enum RecordClock {
    static func timestamp(_ date: Date = Date()) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
