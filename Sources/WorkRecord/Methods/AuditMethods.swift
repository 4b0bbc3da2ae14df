import FloorgateCore
import Foundation
import RecordProtocol

/// `audit.list`: the audit trail for an inspector, a page at a time, oldest first: who, when,
/// what (the action, the table and row), the row before and after. Password keys in user rows
/// are withheld; the entries are otherwise as stored, hashes and signatures included.
enum AuditMethods {
    /// The most entries one answer holds.
    static let largestPage: Int64 = 5_000

    static func list(_ context: MethodContext) async throws -> RecordOutcome {
        let from = try bound(context.params.optionalString("from"), key: "from", endOfDay: false) ?? ""
        let to = try bound(context.params.optionalString("to"), key: "to", endOfDay: true) ?? "9"
        let after = try context.params.optionalInteger("after") ?? 0
        let limit = try context.params.optionalInteger("limit") ?? 1_000
        guard (1...largestPage).contains(limit) else {
            throw WorkRecordError(.invalidParams, "\(context.params.path).limit must be from 1 to \(largestPage)")
        }
        let rows = try await context.transaction.rows(
            """
            SELECT seq, at, actor, peer, action, entity, entity_id, old, new, hash, key_id, signature FROM audit
            WHERE seq > ? AND at >= ? AND at <= ? ORDER BY seq LIMIT \(limit)
            """, after, from, to)
        let entries: [JSONValue] = rows.map { row in
            let table: String = row["entity"]
            return [
                "seq": .integer(row["seq"]), "at": .string(row["at"]), "actor": .string(row["actor"]), "peer": .string(row["peer"]),
                "action": .string(row["action"]), "table": .string(table), "row": .integer(row["entity_id"]),
                "old": snapshot(row["old"], table: table), "new": snapshot(row["new"], table: table),
                "hash": .string(row["hash"]), "key_id": JSONValue.optional(row["key_id"] as String?),
                "signature": JSONValue.optional(row["signature"] as String?),
            ]
        }
        let last = rows.count == Int(limit) ? rows.last.map { JSONValue.integer($0["seq"]) } : nil
        return RecordOutcome(["entries": .array(entries), "next_after": last ?? .null])
    }

    /// A row's snapshot as an object; a user's password key withheld.
    private static func snapshot(_ text: String?, table: String) -> JSONValue {
        guard let text, case .object(var members)? = try? JSONValue(parsing: Array(text.utf8)) else { return .null }
        if table == "user", members["password"] != nil { members["password"] = "(withheld: a PBKDF2 key)" }
        return .object(members)
    }

    /// A `from` or `to` bound as the record writes times: a day (`2026-12-08`, the whole day for
    /// `to`) or a time with its zone.
    private static func bound(_ text: String?, key: String, endOfDay: Bool) throws(WorkRecordError) -> String? {
        guard let text else { return nil }
        let day = Date.ISO8601FormatStyle().year().month().day()
        if text.utf8.count == 10, (try? day.parse(text)) != nil { return endOfDay ? text + "T23:59:59.999Z" : text }
        for style in [Date.ISO8601FormatStyle(includingFractionalSeconds: true), Date.ISO8601FormatStyle()] {
            if let date = try? style.parse(text) { return RecordClock.timestamp(date) }
        }
        throw WorkRecordError(.invalidParams, "params.\(key) '\(text)' is not a day (2026-12-08) or a time (2026-12-08T14:30:00Z)")
    }
}
