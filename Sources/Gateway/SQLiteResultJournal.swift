public import FloorgateCore
import Foundation
import GRDB

/// A durable journal of device results in a SQLite file: the `DurableSink` the Open Protocol
/// client acknowledges through, and the seed of the station's outbox.
///
/// Every connection runs in WAL mode with `synchronous=FULL`, so a write transaction has reached
/// the disk when `store` returns. A result is unique on (source, source key): storing it again
/// returns the first receipt and writes nothing.
public final class SQLiteResultJournal: DurableSink, ResultHistory {
    private let queue: DatabaseQueue

    /// Opens (creating if needed) the journal at `path`.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)  // another process (a reader, a second collector) may hold the lock
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
        }
        try Self.migrator.migrate(queue)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("create results") { db in
            try db.create(table: "result") { table in
                table.column("id", .text).primaryKey()
                table.column("source", .text).notNull()
                table.column("sourceKey", .text)
                table.column("event", .text).notNull()
                table.column("raw", .blob).notNull()
                table.column("storedAt", .datetime).notNull()
                table.uniqueKey(["source", "sourceKey"])
            }
        }
        return migrator
    }

    public func store(_ result: DeviceResult) async throws -> StoreReceipt {
        try await queue.write { db in
            if let key = result.sourceKey,
               let existing = try String.fetchOne(
                   db, sql: "SELECT id FROM result WHERE source = ? AND sourceKey = ?", arguments: [result.source, key])
            {
                return StoreReceipt(id: existing, wasAlreadyStored: true)
            }
            let id = UUIDv7.make().uuidString.lowercased()
            try db.execute(
                sql: "INSERT INTO result (id, source, sourceKey, event, raw, storedAt) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [id, result.source, result.sourceKey, result.event.jsonLine, Data(result.event.raw), Date()]
            )
            return StoreReceipt(id: id, wasAlreadyStored: false)
        }
    }

    /// The connection's `PRAGMA synchronous` value (2 = FULL).
    public func synchronousMode() throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    public func numericKeyGaps(source: String, window: Int) async throws -> (missing: [UInt64], highest: UInt64?) {
        let keys = try await queue.read { db in
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT CAST(sourceKey AS INTEGER) AS number FROM result
                    WHERE source = ? AND sourceKey GLOB '[0-9]*' ORDER BY number DESC LIMIT ?
                    """,
                arguments: [source, window]
            )
        }
        let numbers = keys.filter { $0 >= 0 }.map(UInt64.init).sorted()
        var missing: [UInt64] = []
        // Walk the holes between neighbours; a hole wider than the window is not a gap but a
        // counter that was reset, and at most `window` ids are reported.
        for (lower, upper) in zip(numbers, numbers.dropFirst()) where upper - lower > 1 && upper - lower - 1 <= UInt64(window) {
            missing += (lower + 1)..<upper
        }
        return (Array(missing.suffix(window)), numbers.last)
    }

    /// How many results the journal holds.
    public func count() throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM result") ?? 0 }
    }
}
