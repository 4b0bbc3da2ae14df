import Logging
import PostgresNIO
import RecordProtocol

/// `floorgate record migrate`: brings a record's schema to this version. A SQLite file migrates
/// whenever it is opened; a PostgreSQL record only here, under the database owner's role, one
/// migrator at a time (an advisory lock), never by a record server.
public enum RecordMigration {
    /// What a migration did.
    public struct Outcome: Sendable, Hashable {
        /// The schema version found (0: an empty database).
        public var from: Int64
        public var to: Int64
    }

    /// The schema version this Floorgate creates and serves.
    public static var schemaVersion: Int64 { PostgresSchema.version }

    /// Migrates the record at `location`; on PostgreSQL grants `roles` the privileges record
    /// servers need and no more (append-only tables: SELECT and INSERT only).
    public static func migrate(_ location: RecordLocation, grantingTo roles: [String] = []) async throws -> Outcome {
        switch location {
        case .sqlite(let path):
            guard roles.isEmpty else { throw RecordStoreError(.failed, "--grant is for a PostgreSQL record; a SQLite file has no roles") }
            let backend = try SQLiteBackend(path: path)
            try await backend.close()
            return Outcome(from: PostgresSchema.version, to: PostgresSchema.version)
        case .postgres(let url):
            let logger = Logger(label: "floorgate.record.migrate")
            let connection = try await PostgresConnector(url: url, logger: logger).connect()
            do {
                let outcome = try await migrate(connection, grantingTo: roles, logger: logger)
                try await connection.close()
                return outcome
            } catch {
                try? await connection.close()
                throw error
            }
        }
    }

    private static func migrate(_ connection: PostgresConnection, grantingTo roles: [String], logger: Logger) async throws -> Outcome {
        let transaction = PostgresTransaction(connection: connection, logger: logger)
        try await transaction.execute("BEGIN", [])
        do {
            try await transaction.execute("SELECT pg_advisory_xact_lock(?)", [.integer(PostgresBackend.migratorLock)])
            let found = try await PostgresSchema.installedVersion(transaction)
            guard found <= PostgresSchema.version else {
                throw RecordStoreError(
                    .failed, "the record has schema version \(found), newer than this Floorgate's \(PostgresSchema.version): upgrade Floorgate")
            }
            for migration in PostgresSchema.migrations where migration.version > found {
                for statement in migration.statements {
                    try await transaction.execute(statement, [])
                }
            }
            for role in roles {
                for statement in PostgresSchema.grants(to: role) {
                    try await transaction.execute(statement, [])
                }
            }
            try await transaction.execute("COMMIT", [])
            return Outcome(from: found, to: PostgresSchema.version)
        } catch {
            try? await transaction.execute("ROLLBACK", [])
            throw error
        }
    }
}
