import Crypto
import FloorgateCore
import Foundation
import GRDB

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

    /// The hash of the newest entry (the chain's head), or the genesis hash for an empty chain.
    static func head(_ db: Database) throws -> String {
        try String.fetchOne(db.cachedStatement(sql: "SELECT hash FROM audit ORDER BY seq DESC LIMIT 1")) ?? genesis
    }

    /// Appends one entry after the current head.
    static func append(
        _ db: Database, actor: Actor, action: String, entity: String, entityID: Int64, old: String?, new: String?
    ) throws {
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"))
        let seq: Int64 = (last?["seq"] ?? 0) + 1
        let previous: String = last?["hash"] ?? genesis
        let entry = Entry(
            seq: seq, at: RecordClock.timestamp(), actor: actor.user, peer: actor.peer, action: action,
            entity: entity, entityID: entityID, old: old, new: new)
        try db.cachedStatement(sql: """
                INSERT INTO audit (seq, at, actor, peer, action, entity, entity_id, old, new, prev_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                entry.seq, entry.at, entry.actor, entry.peer, entry.action, entry.entity, entry.entityID, entry.old,
                entry.new, previous, entry.hash(previous: previous),
            ])
    }

    /// The row `id` of `table` as canonical JSON (columns sorted, blobs as hex), or nil when the
    /// row does not exist. What the audit entry stores and what `verify` compares.
    static func snapshot(_ db: Database, table: String, id: Int64) throws -> String? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM \(table) WHERE id = ?"), arguments: [id]) else {
            return nil
        }
        return snapshot(of: row)
    }

    static func snapshot(of row: Row) -> String {
        var text = "{"
        for (index, (column, value)) in row.sorted(by: { $0.0 < $1.0 }).enumerated() {
            if index > 0 { text += "," }
            JSONObjectWriter.appendQuoted(column, to: &text)
            text += ":"
            switch value.storage {
            case .null: text += "null"
            case .int64(let number): text += String(number)
            case .double(let number): text += number.isFinite ? "\(number)" : "null"
            case .string(let string): JSONObjectWriter.appendQuoted(string, to: &text)
            case .blob(let data): text += "\"x'" + DeviceEvent.hex(data) + "'\""
            }
        }
        return text + "}"
    }
}

/// Writes to the record's tables that each append their audit entry: the only way rows change.
struct AuditedWriter {
    let db: Database
    let actor: Actor

    /// Inserts a row and records it; returns its id.
    @discardableResult
    func insert(_ table: String, _ values: KeyValuePairs<String, (any DatabaseValueConvertible)?>, action: String) throws -> Int64 {
        let columns = values.map(\.key)
        let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        try db.cachedStatement(sql: "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(placeholders))")
            .execute(arguments: StatementArguments(values.map(\.value)))
        let id = db.lastInsertedRowID
        try AuditChain.append(
            db, actor: actor, action: action, entity: table, entityID: id, old: nil,
            new: try AuditChain.snapshot(db, table: table, id: id))
        return id
    }

    /// Changes columns of one row and records old → new.
    func update(_ table: String, id: Int64, _ values: KeyValuePairs<String, (any DatabaseValueConvertible)?>, action: String) throws {
        let old = try AuditChain.snapshot(db, table: table, id: id)
        let assignments = values.map { "\($0.key) = ?" }.joined(separator: ", ")
        try db.cachedStatement(sql: "UPDATE \(table) SET \(assignments) WHERE id = ?")
            .execute(arguments: StatementArguments(values.map(\.value) + [id]))
        try AuditChain.append(
            db, actor: actor, action: action, entity: table, entityID: id, old: old,
            new: try AuditChain.snapshot(db, table: table, id: id))
    }
}

/// Timestamps as the record writes them: UTC, ISO 8601 with milliseconds.
enum RecordClock {
    static func timestamp(_ date: Date = Date()) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
