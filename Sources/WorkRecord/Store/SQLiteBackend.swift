import Foundation
import Glibc
import GRDB
import RecordProtocol
import SQLiteStatements
import Synchronization

/// A station's record in one SQLite file: WAL, `synchronous=FULL`, the schema brought up to
/// date at open. The record's writer is the file's only writer: it holds the file's writer lock
/// and remembers the record between transactions (`WriterMemory`); its transactions span
/// several statements, each run on GRDB's serial queue.
final class SQLiteBackend: RecordBackend {
    private let queue: DatabaseQueue
    let writerExecutor: any TaskExecutor = WriterExecutor()
    private let notify: RecordNotificationSink
    /// The writer lock, held while the connection is open (nil when opened read-only, and
    /// once closed).
    private let lock: Mutex<RecordFileLock?>
    private let memory = WriterMemory()

    /// Opens (creating if needed) the record at `path` and migrates it; `readOnly` opens an
    /// existing file as it is, for verification.
    init(path: String, readOnly: Bool = false, notify: @escaping RecordNotificationSink = { _ in }) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.readonly = readOnly
        // The writer begins and commits its transactions itself, across several statements.
        configuration.allowsUnsafeTransactions = true
        configuration.prepareDatabase { db in
            if !db.configuration.readonly {
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        let isNew = !FileManager.default.fileExists(atPath: path)
        lock = Mutex(readOnly ? nil : try RecordFileLock(path: path))
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            self.notify = notify
            guard !readOnly else { return }
            if isNew {
                // The record holds names and results: owner and group only (the WAL inherits it).
                chmod(path, 0o640)
            }
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
            }
            try SQLiteSchema.migrator.migrate(queue)
        } catch let error as DatabaseError {
            throw SQLiteTransaction.storeError(error)
        }
    }

    func transaction<T: Sendable>(
        writing: Bool, _ body: (any RecordTransaction) async throws -> (T, [RecordNotification])
    ) async throws -> T {
        let transaction = SQLiteTransaction(queue: queue, writerMemory: writing ? memory : nil)
        try await transaction.execute(writing ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED", [])
        let value: T, notifications: [RecordNotification]
        do {
            if writing, let version = try await transaction.integer("PRAGMA data_version") {
                memory.check(dataVersion: version)
            }
            (value, notifications) = try await body(transaction)
            try await transaction.execute("COMMIT", [])
            if writing { memory.committed() }
        } catch {
            try? await transaction.execute("ROLLBACK", [])
            memory.forgetAll()
            throw error
        }
        if !notifications.isEmpty { notify(notifications) }
        return value
    }

    /// A trigger counts when its whole definition is the schema's, but for white space and case.
    func protectionProblem(_ transaction: any RecordTransaction) async throws -> String? {
        let definitions = Dictionary(
            try await transaction.rows("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'").map { row in
                (row["name"] as String? ?? "", (table: row["tbl_name"] as String? ?? "", sql: Self.normalized(row["sql"] as String? ?? "")))
            }, uniquingKeysWith: { first, _ in first })
        for trigger in RecordSchema.protectingTriggers {
            guard let definition = definitions[trigger.name], definition.table == trigger.table,
                  let expected = SQLiteSchema.triggerDefinitions[trigger.name], definition.sql == Self.normalized(expected)
            else { return "trigger \(trigger.name) is missing or changed: the record's rows are no longer protected" }
        }
        return nil
    }

    func close() async throws {
        try queue.close()
        lock.withLock { $0 = nil }
    }

    /// SQL in upper case with runs of white space made one space, for comparing definitions.
    private static func normalized(_ sql: String) -> String {
        sql.uppercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}

/// Statements on the record's SQLite connection, prepared once and kept (GRDB's statement
/// cache), bound and stepped through SQLite's C interface (`SteppedStatement`).
struct SQLiteTransaction: RememberingTransaction {
    let queue: DatabaseQueue
    let writerMemory: WriterMemory?

    func rows(_ sql: String, _ arguments: [RecordValue]) async throws(RecordStoreError) -> [RecordRow] {
        try run { db in
            let statement = SteppedStatement(try db.cachedStatement(sql: sql))
            let columns = statement.statement.columnNames
            return try statement.rows(arguments.map(Self.value)).map { RecordRow(columns: columns, values: $0.map(Self.value)) }
        }
    }

    func execute(_ sql: String, _ arguments: [RecordValue]) async throws(RecordStoreError) {
        try run { db in try SteppedStatement(db.cachedStatement(sql: sql)).run(arguments.map(Self.value)) }
    }

    func auditTimestamp() async throws(RecordStoreError) -> String {
        RecordClock.timestamp()
    }

    private func run<T>(_ body: (Database) throws -> T) throws(RecordStoreError) -> T {
        do {
            return try queue.inDatabase(body)
        } catch let error as DatabaseError {
            throw Self.storeError(error)
        } catch {
            throw RecordStoreError(.failed, "\(error)")
        }
    }

    /// A GRDB error as the record sees it: a refused change, a damaged file, or a failure.
    static func storeError(_ error: DatabaseError) -> RecordStoreError {
        let kind: RecordStoreError.Kind = switch error.resultCode.primaryResultCode {
        case .SQLITE_CONSTRAINT: .constraint
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: .damaged
        default: .failed
        }
        return RecordStoreError(kind, error.message ?? "\(error)")
    }

    private static func value(_ value: RecordValue) -> SQLiteValue {
        switch value {
        case .null: .null
        case .integer(let number): .integer(number)
        case .real(let number): .real(number)
        case .text(let text): .text(text)
        case .blob(let bytes): .blob(bytes)
        }
    }

    private static func value(_ value: SQLiteValue) -> RecordValue {
        switch value {
        case .null: .null
        case .integer(let number): .integer(number)
        case .real(let number): .real(number)
        case .text(let text): .text(text)
        case .blob(let bytes): .blob(bytes)
        }
    }
}
