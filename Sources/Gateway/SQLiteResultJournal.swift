public import FloorgateCore
import Foundation
import GRDB

/// A durable journal of device results in a SQLite file: the `DurableSink` the Open Protocol
/// client acknowledges through, and the seed of the station's outbox.
///
/// Every connection runs in WAL mode with `synchronous=FULL`, so a write transaction has reached
/// the disk when `store` returns. A result is unique on (source, source key): storing it again
/// returns the first receipt and writes nothing.
public final class SQLiteResultJournal: DurableSink {
    private let queue: DatabaseQueue

    /// Opens (creating if needed) the journal at `path`.
    public init(path: String) throws {
        var configuration = Configuration()
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

    /// The highest numeric source key stored for `source` (an Open Protocol controller's highest
    /// tightening id), or nil when there is none.
    public func highestNumericSourceKey(source: String) throws -> UInt64? {
        try queue.read { db in
            try Int64.fetchOne(
                db,
                sql: "SELECT MAX(CAST(sourceKey AS INTEGER)) FROM result WHERE source = ? AND sourceKey NOT GLOB '*[^0-9]*'",
                arguments: [source]
            ).map { UInt64(max(0, $0)) }
        }
    }

    /// How many results the journal holds.
    public func count() throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM result") ?? 0 }
    }
}
