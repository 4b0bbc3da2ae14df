import FloorgateCore
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Synchronization
import RecordProtocol

/// The plant's record in PostgreSQL, shared by every station's record server. Each server writes
/// through one connection; a transaction that writes first takes a transaction-scoped advisory
/// lock, so the writers of every server are totally ordered: ids are the table's largest plus one
/// and the audit chain grows one entry at a time, as on a station's SQLite file. Notifications are
/// written in the transaction (`notification` and NOTIFY): the writing server hands them to its
/// subscribers once committed, before the answers leave, as on SQLite; every other server's
/// listener reads them and hands them to its own.
final class PostgresBackend: RecordBackend {
    /// The advisory lock that orders every writer of the record.
    static let writerLock: Int64 = 0x466C_6F6F_7267_6174  // "Floorgat"
    /// The advisory lock that lets one migrator at a time change the schema.
    static let migratorLock: Int64 = 0x466C_6F6F_724D_6967  // "FloorMig"

    /// How long the database may leave a transaction's statement unanswered before it counts as
    /// unreachable: far above a plant's slowest statement (one waiting for the writers' lock),
    /// far below forever. A long transaction whose statements keep being answered (a station
    /// moved in) runs as long as it needs.
    static let silenceDeadline: Duration = .seconds(30)

    /// How long a lost database is left alone before the next attempt.
    private static let backoff = Backoff(initial: .milliseconds(250), maximum: .seconds(5))

    private let url: PostgresURL
    private let logger: Logger
    private let notify: RecordNotificationSink
    /// The thread of the writing connection, the same across reconnections: the writer runs there
    /// too (`writerExecutor`). A thread of its own, since the writer computes there (a verification;
    /// a signature's key derivation when the stored key changed since it was checked): no other
    /// connection waits behind it.
    private let writerThread: MultiThreadedEventLoopGroup
    private var eventLoop: any EventLoop { writerThread.next() }
    let writerExecutor: any TaskExecutor
    /// This server's name on the notifications it writes, so its listener skips them.
    private let origin = UUIDv7.make()
    private let writer: Mutex<WriterState>
    private let listener: Task<Void, Never>
    /// The listener's connection, closed by `close` so the listener's wait ends at once.
    private let listening: ListeningConnection

    /// The writing connection and, after it failed, when the next attempt to reconnect may be made.
    private struct WriterState: Sendable {
        var connection: PostgresConnection?
        var delay: Duration?
        var nextAttempt: ContinuousClock.Instant?
    }

    private init(
        url: PostgresURL, connection: PostgresConnection, writerThread: MultiThreadedEventLoopGroup, notify: @escaping RecordNotificationSink,
        logger: Logger
    ) {
        self.url = url
        self.logger = logger
        self.notify = notify
        self.writerThread = writerThread
        writerExecutor = EventLoopTaskExecutor(writerThread.next())
        writer = Mutex(WriterState(connection: connection))
        let listening = ListeningConnection()
        self.listening = listening
        listener = Task { [origin] in await Self.listen(url: url, origin: origin, into: listening, notify: notify, logger: logger) }
    }

    /// Connects to the record at `url` and checks its schema is this version's; then starts
    /// listening for notifications. Throws `unreachable` naming each server tried and why.
    static func connect(
        _ url: PostgresURL, notify: @escaping RecordNotificationSink, logger: Logger = Logger(label: "floorgate.record.postgres")
    ) async throws -> PostgresBackend {
        let writerThread = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnector(url: url, logger: logger, eventLoop: writerThread.next()).connect()
        } catch {
            try? await writerThread.shutdownGracefully()
            throw error
        }
        do {
            try await checkSchema(connection, url: url)
        } catch {
            try? await connection.close()
            try? await writerThread.shutdownGracefully()
            throw error
        }
        return PostgresBackend(url: url, connection: connection, writerThread: writerThread, notify: notify, logger: logger)
    }

    /// Refuses a database whose schema is not this version's, naming both versions.
    private static func checkSchema(_ connection: PostgresConnection, url: PostgresURL) async throws(RecordStoreError) {
        let transaction = PostgresTransaction(connection: connection, logger: connection.logger)
        let found = try await PostgresSchema.installedVersion(transaction)
        guard found == PostgresSchema.version else {
            let advice = found < PostgresSchema.version
                ? "run `floorgate record migrate --db \(url)` as the database's owner"
                : "this Floorgate is older than the record: upgrade it"
            throw RecordStoreError(
                .failed, "the record at \(url) has schema version \(found); this Floorgate needs version \(PostgresSchema.version): \(advice)")
        }
    }

    func transaction<T: Sendable>(
        writing: Bool, _ body: (any RecordTransaction) async throws -> (T, [RecordNotification])
    ) async throws -> T {
        let connection = try await writingConnection()
        let progress = AnsweredStatements()
        let transaction = PostgresTransaction(connection: connection, logger: logger, answered: progress)
        let deadline = watchdog(closing: connection, progress: progress)
        defer { deadline.cancel() }
        do {
            // A read (verify, a view) sees one snapshot while other servers go on writing.
            try await transaction.execute(writing ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", [])
            if writing {
                try await transaction.execute("SELECT pg_advisory_xact_lock(?)", [.integer(Self.writerLock)])
            }
            let (value, notifications) = try await body(transaction)
            if !notifications.isEmpty {
                for notification in notifications {
                    let line = JSONValue.object(["method": .string(notification.method), "params": notification.params]).text
                    try await transaction.execute(
                        "INSERT INTO notification (origin, payload) VALUES (?, ?)", [.text(origin), .text(line)])
                }
                try await transaction.execute("NOTIFY \(PostgresSchema.notificationChannel)", [])
            }
            try await commit(transaction)
            if !notifications.isEmpty { notify(notifications) }
            return value
        } catch {
            if connection.isClosed {
                lost(connection)
            } else {
                try? await transaction.execute("ROLLBACK", [])
            }
            throw error
        }
    }

    /// A database that stops answering (a half-open connection after a network fault or a
    /// failover) must not hold every request forever: after a whole deadline without an answer
    /// the connection is closed, the transaction fails as unreachable and the next one reconnects.
    private func watchdog(closing connection: PostgresConnection, progress: AnsweredStatements) -> Task<Void, Never> {
        let logger = logger, url = url
        return Task {
            var seen = progress.count
            while true {
                do {
                    try await Task.sleep(for: Self.silenceDeadline)
                } catch {
                    return  // the transaction ended
                }
                let now = progress.count
                if now == seen { break }
                seen = now
            }
            logger.warning("record database did not answer in time; closing the connection", metadata: ["database": "\(url)"])
            connection.close().whenComplete { _ in }
        }
    }

    /// Commits. When the connection is lost during the commit, the writes may or may not have
    /// reached the disk: they are answered as not done, and their idempotency keys make the
    /// callers' retries safe either way.
    private func commit(_ transaction: PostgresTransaction) async throws(RecordStoreError) {
        do {
            try await transaction.execute("COMMIT", [])
        } catch where error.kind == .unreachable {
            throw RecordStoreError(.unreachable, error.message + "; the commit's outcome is unknown, retry with the same idempotency key")
        }
    }

    /// The first protecting trigger that is gone, disabled or not exactly the schema's, named.
    func protectionProblem(_ transaction: any RecordTransaction) async throws -> String? {
        let rows = try await transaction.rows(
            """
            SELECT t.tgname AS name, c.relname AS "table", t.tgenabled::text AS enabled, pg_get_triggerdef(t.oid) AS definition,
                   c.relnamespace::regnamespace::text AS namespace, p.proname AS function, p.prosrc AS source
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid
            WHERE NOT t.tgisinternal
            """, [])
        let triggers = Dictionary(rows.map { ($0["name"] as String? ?? "", $0) }, uniquingKeysWith: { first, _ in first })
        func spaced(_ text: String) -> String { text.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
        for expected in RecordSchema.protectingTriggers {
            guard let trigger = triggers[expected.name], trigger["table"] as String? == expected.table,
                  trigger["enabled"] as String? == "O",
                  let definition = trigger["definition"] as String?, let namespace = trigger["namespace"] as String?,
                  spaced(definition.replacingOccurrences(of: " ON \(namespace).", with: " ON ")) == spaced(PostgresSchema.triggerDefinitions[expected.name] ?? ""),
                  trigger["function"] as String? == "floorgate_refuse",
                  spaced(trigger["source"] as String? ?? "") == PostgresSchema.refusalBody
            else { return "trigger \(expected.name) is missing or changed: the record's rows are no longer protected" }
        }
        return nil
    }

    func close() async throws {
        // The listener is not awaited: a connection closed while it LISTENs does not always end
        // postgres-nio's wait for notifications. Closing it and cancelling the task is enough.
        listener.cancel()
        listening.close()
        let connection = writer.withLock { state -> PostgresConnection? in
            defer { state.connection = nil }
            return state.connection
        }
        try await connection?.close()
        try await writerThread.shutdownGracefully()
    }

    /// The live writing connection, reconnecting when the last one was lost. While the database
    /// stays unreachable, requests fail at once until the backoff allows the next attempt.
    private func writingConnection() async throws(RecordStoreError) -> PostgresConnection {
        enum Next { case use(PostgresConnection), wait, reconnect }
        let next = writer.withLock { state -> Next in
            if let connection = state.connection, !connection.isClosed { return .use(connection) }
            state.connection = nil
            if let attempt = state.nextAttempt, ContinuousClock.now < attempt { return .wait }
            return .reconnect
        }
        switch next {
        case .use(let connection):
            return connection
        case .wait:
            throw RecordStoreError(.unreachable, "\(url) did not answer; the next attempt to reconnect is under way shortly")
        case .reconnect:
            do throws(RecordStoreError) {
                let connection = try await PostgresConnector(url: url, logger: logger, eventLoop: eventLoop).connect()
                writer.withLock { state in
                    state.connection = connection
                    state.delay = nil
                    state.nextAttempt = nil
                }
                logger.notice("record database reconnected", metadata: ["database": "\(url)"])
                return connection
            } catch {
                writer.withLock { state in
                    let delay = state.delay.map(Self.backoff.next(after:)) ?? Self.backoff.initial
                    state.delay = delay
                    state.nextAttempt = ContinuousClock.now + delay
                }
                throw error
            }
        }
    }

    private func lost(_ connection: PostgresConnection) {
        writer.withLock { state in
            if state.connection === connection { state.connection = nil }
        }
        logger.warning("record database connection lost", metadata: ["database": "\(url)"])
    }

    /// Hands every committed notification to `notify`, in commit order: LISTENs, and on each NOTIFY
    /// reads the notification rows it has not seen. After a lost connection it reconnects with
    /// backoff and goes on from the last row it handed over.
    private static func listen(
        url: PostgresURL, origin: String, into listening: ListeningConnection, notify: @escaping RecordNotificationSink, logger: Logger
    ) async {
        var lastSeen: Int64?
        var delay = backoff.initial
        while !Task.isCancelled {
            var current: PostgresConnection?
            do {
                let connection = try await PostgresConnector(url: url, logger: logger).connect()
                current = connection
                guard listening.hold(connection) else {
                    try? await connection.close()
                    return
                }
                let transaction = PostgresTransaction(connection: connection, logger: logger)
                if lastSeen == nil {
                    lastSeen = try await transaction.integer("SELECT COALESCE(MAX(id), 0) FROM notification") ?? 0
                }
                delay = backoff.initial
                try await connection.listen(on: PostgresSchema.notificationChannel) { wakes in
                    // Anything committed between connecting and listening is read at once.
                    lastSeen = try await deliver(after: lastSeen ?? 0, skipping: origin, transaction, notify: notify)
                    for try await _ in wakes {
                        lastSeen = try await deliver(after: lastSeen ?? 0, skipping: origin, transaction, notify: notify)
                    }
                }
                try? await connection.close()
            } catch {
                if let current, !current.isClosed { try? await current.close() }
                guard !Task.isCancelled else { return }
                logger.warning("record notifications interrupted", metadata: ["database": "\(url)", "error": "\(error)"])
            }
            try? await Task.sleep(for: delay)
            delay = backoff.next(after: delay)
        }
    }

    /// Hands the notification rows after `id` that other servers wrote to `notify`; returns the
    /// last id read.
    private static func deliver(
        after id: Int64, skipping origin: String, _ transaction: PostgresTransaction, notify: RecordNotificationSink
    ) async throws -> Int64 {
        let rows = try await transaction.rows("SELECT id, origin, payload FROM notification WHERE id > ? ORDER BY id", [.integer(id)])
        let notifications = rows.compactMap { row -> RecordNotification? in
            guard row["origin"] as String? != origin, let payload = row["payload"] as String?, let value = try? JSONValue(recordText: Array(payload.utf8)),
                  let method = value["method"]?.stringValue, let params = value["params"]
            else { return nil }
            return RecordNotification(method: method, params: params)
        }
        if !notifications.isEmpty { notify(notifications) }
        return rows.last?["id"] ?? id
    }
}

/// The listener's current connection, which `close` closes (a closed connection ends the wait for
/// notifications; task cancellation alone does not). Once closed, no new connection is held.
private final class ListeningConnection: Sendable {
    private let state = Mutex<(connection: PostgresConnection?, closed: Bool)>((nil, false))

    /// Holds `connection` as the current one; false once closed.
    func hold(_ connection: PostgresConnection) -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.connection = connection
            return true
        }
    }

    func close() {
        let connection = state.withLock { state -> PostgresConnection? in
            state.closed = true
            return state.connection
        }
        connection?.close().whenComplete { _ in }
    }
}

/// Statements on one PostgreSQL connection: `?` placeholders become `$1`, `$2`, … and values
/// are bound with their types; cells come back as the record's values.
/// How many statements of a transaction the database has answered: its watchdog's sign of life.
final class AnsweredStatements: Sendable {
    private let answered = Atomic<Int>(0)

    var count: Int { answered.load(ordering: .relaxed) }

    func add() { answered.add(1, ordering: .relaxed) }
}

struct PostgresTransaction: RecordTransaction {
    let connection: PostgresConnection
    let logger: Logger
    /// Counts the answers, for a watchdog; nil where none watches (migrations, checks).
    var answered: AnsweredStatements? = nil

    func rows(_ sql: String, _ arguments: [RecordValue]) async throws(RecordStoreError) -> [RecordRow] {
        do {
            var rows: [RecordRow] = []
            for try await row in try await connection.query(Self.query(sql, arguments), logger: logger) {
                rows.append(try Self.row(row))
            }
            answered?.add()
            return rows
        } catch {
            throw Self.storeError(error)
        }
    }

    func execute(_ sql: String, _ arguments: [RecordValue]) async throws(RecordStoreError) {
        do {
            try await connection.query(Self.query(sql, arguments), logger: logger)
            answered?.add()
        } catch {
            throw Self.storeError(error)
        }
    }

    /// The database's own clock, read under the writer's lock, so entries are in time order
    /// across servers whatever their clocks say.
    func auditTimestamp() async throws(RecordStoreError) -> String {
        let rows = try await rows(
            #"SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at"#, [])
        guard let at = rows.first?["at"] as String? else { throw RecordStoreError(.failed, "the database gave no time") }
        return at
    }

    /// `sql` with its `?` placeholders numbered (outside quoted text), and its bindings.
    static func query(_ sql: String, _ arguments: [RecordValue]) -> PostgresQuery {
        var numbered = "", index = 0, quote: Character?
        numbered.reserveCapacity(sql.utf8.count + 8)
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
                numbered.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                numbered.append(character)
            } else if character == "?" {
                index += 1
                numbered += "$\(index)"
            } else {
                numbered.append(character)
            }
        }
        precondition(index == arguments.count, "\(index) placeholders but \(arguments.count) arguments in: \(sql)")
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument {
            case .null: bindings.appendNull()
            case .integer(let number): bindings.append(number)
            case .real(let number): bindings.append(number)
            case .text(let text): bindings.append(text)
            case .blob(let bytes): bindings.append(ByteBuffer(bytes: bytes))
            }
        }
        return PostgresQuery(unsafeSQL: numbered, binds: bindings)
    }

    private static func row(_ row: PostgresRow) throws -> RecordRow {
        var columns: [String] = [], values: [RecordValue] = []
        for cell in row {
            columns.append(cell.columnName)
            values.append(try value(cell))
        }
        return RecordRow(columns: columns, values: values)
    }

    private static func value(_ cell: PostgresCell) throws -> RecordValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int8: return .integer(try cell.decode(Int64.self))
        case .int4: return .integer(Int64(try cell.decode(Int32.self)))
        case .int2: return .integer(Int64(try cell.decode(Int16.self)))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .float8, .float4: return .real(try cell.decode(Double.self))
        case .bytea: return .blob(Array(buffer: try cell.decode(ByteBuffer.self)))
        default: return .text(try cell.decode(String.self))
        }
    }

    /// A driver error as the record sees it: a refused change, a lost database, or a failure.
    static func storeError(_ error: any Error) -> RecordStoreError {
        if let error = error as? RecordStoreError { return error }
        guard let error = error as? PSQLError else { return RecordStoreError(.failed, "\(error)") }
        let state = error.serverInfo?[.sqlState] ?? ""
        let message = error.serverInfo?[.message] ?? "\(error.code)"
        switch error.code {
        case .server where state.hasPrefix("23"):
            return RecordStoreError(.constraint, message)
        case .server where ["08000", "08003", "08006", "57P01", "57P02", "57P03"].contains(state):
            return RecordStoreError(.unreachable, message)
        case .server where state == "42501":
            return RecordStoreError(.failed, "the database refused a privilege the record needs: \(message)")
        case .server:
            return RecordStoreError(.failed, message)
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
            return RecordStoreError(.unreachable, "the connection to the database was lost (\(error.code))")
        default:
            return RecordStoreError(.failed, "\(error.code): \(message)")
        }
    }
}
