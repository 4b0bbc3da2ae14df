public import FloorgateCore
public import Foundation
import DeviceIO
import GRDB
public import Logging
import Synchronization

/// The station's durable queue of device results on their way to the record: a SQLite file in
/// WAL mode written with `synchronous=FULL`, so a result is on disk when `append` returns.
///
/// - **Group commit.** Results that arrive while a transaction is being written wait and go
///   together in the next one: one fsync for many results under load, one at once when idle.
/// - **Exactly once.** Each result gets its idempotency key (a UUIDv7) when it is first stored;
///   the key travels with every delivery attempt, so the record keeps it once. A result the
///   device itself numbers (an Open Protocol tightening id) is unique on (source, source key):
///   storing it again returns the first receipt and writes nothing.
/// - **Order.** Results are delivered in the order they were stored (`seq`).
/// - **Nothing dropped.** A result the record cannot bind to an open build (or that lacks what
///   the record needs, such as a unit) stays in the file as `unbound`, with the reason, for the
///   operator to see.
/// - **Timing.** Each row keeps when its frame's last byte was read and when its commit returned
///   (`CLOCK_MONOTONIC` ns); the commit time is written with the row's next change (delivery).
public actor Outbox: ResultHistory {
    /// Where a result is on its way.
    public enum State: String, Sendable, Hashable {
        case pending, delivered, unbound
        /// Bytes that were no result (a frame cut short, garbage), kept as the device sent them.
        case skipped
    }

    /// One stored result.
    public struct Entry: Sendable, Hashable {
        public var sequence: Int64
        public var id: String
        public var source: String
        public var sourceKey: String?
        /// What the device sent, as `floorgate decode` prints it.
        public var eventLine: String
        /// The normalized result: the record's `result.record` params without the build,
        /// operator and station, which are added at delivery.
        public var result: JSONValue
        public var raw: RawBytes
        /// Wall-clock time the result was read (for the record's `measured_at`).
        public var measuredAt: Date
        public var readAt: UInt64
        public var committedAt: UInt64?
        public var state: State
        /// The record's answer (delivered) or its reason (unbound).
        public var outcome: String?
    }

    /// A result to store.
    public struct Item: Sendable, Hashable {
        /// The device's identity, stable across reconnects (the station's name for it).
        public var source: String
        /// The device's own key for the result (Open Protocol tightening id), if any.
        public var sourceKey: String?
        public var eventLine: String
        public var result: JSONValue
        public var raw: RawBytes
        /// `unbound` for a result the normalizer could not make deliverable (no unit).
        public var state: State
        /// Why, for a result stored as unbound.
        public var reason: String?
        public var readAt: UInt64
        public var measuredAt: Date

        public init(
            source: String, sourceKey: String?, eventLine: String, result: JSONValue, raw: RawBytes,
            state: State = .pending, reason: String? = nil, readAt: UInt64, measuredAt: Date = Date()
        ) {
            self.source = source
            self.sourceKey = sourceKey
            self.eventLine = eventLine
            self.result = result
            self.raw = raw
            self.state = state
            self.reason = reason
            self.readAt = readAt
            self.measuredAt = measuredAt
        }
    }

    private struct Waiter {
        var item: Item
        var ticket: CommitTicket
    }

    private let queue: DatabaseQueue
    private let logger: Logger
    private var waiting: [Waiter] = []
    private var isWriting = false
    /// Commit times not yet written to their rows.
    private var commitTimes: [String: UInt64] = [:]
    private let (appended, appendedContinuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))

    /// Opens (creating if needed) the outbox at `path`.
    public init(path: String, logger: Logger = Logger(label: "floorgate.outbox")) throws {
        self.logger = logger
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)  // a reader (`floorgate` inspecting the file) may hold the lock
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
        migrator.registerMigration("create outbox") { db in
            try db.create(table: "outbox") { table in
                table.autoIncrementedPrimaryKey("seq")
                table.column("id", .text).notNull().unique()
                table.column("source", .text).notNull()
                table.column("sourceKey", .text)
                table.column("event", .text).notNull()
                table.column("result", .text).notNull()
                table.column("raw", .blob).notNull()
                table.column("measuredAt", .integer).notNull()  // ms since 1970 (UTC)
                table.column("readNs", .integer).notNull()
                table.column("committedNs", .integer)
                table.column("state", .text).notNull().defaults(to: State.pending.rawValue)
                table.column("outcome", .text)
                table.uniqueKey(["source", "sourceKey"])
            }
            try db.create(index: "outbox_state", on: "outbox", columns: ["state", "seq"])
        }
        migrator.registerMigration("station state") { db in
            try db.create(table: "station") { table in
                table.primaryKey("key", .text)
                table.column("value", .text).notNull()
            }
        }
        return migrator
    }

    /// A signal after each commit that added rows: the drainer's cue to deliver.
    public nonisolated var appendedResults: AsyncStream<Void> { appended }

    /// Stores `item` durably: returns after its commit.
    public func append(_ item: Item) async throws -> StoreReceipt {
        try await submit(item).receipt()
    }

    /// Queues `item` for the next commit and returns at once, so a device can go on while its
    /// result is being written; results queued one after another are committed in that order.
    public func submit(_ item: Item) -> CommitTicket {
        let ticket = CommitTicket()
        waiting.append(Waiter(item: item, ticket: ticket))
        if !isWriting {
            isWriting = true
            Task { await writeWaiting() }
        }
        return ticket
    }

    /// Writes everything waiting, one transaction per round, until nothing waits.
    private func writeWaiting() async {
        let backoff = Backoff()
        var retryDelay = backoff.initial
        while !waiting.isEmpty {
            let batch = waiting
            waiting = []
            let times = commitTimes
            commitTimes = [:]
            do {
                let receipts = try await queue.write { db in
                    try Self.writeCommitTimes(times, db: db)
                    return try batch.map { try Self.insert($0, db: db) }
                }
                let committed = MonotonicClock.nanoseconds()
                for receipt in receipts where !receipt.wasAlreadyStored { commitTimes[receipt.id] = committed }
                for (waiter, receipt) in zip(batch, receipts) { waiter.ticket.finish(.success(receipt)) }
                appendedContinuation.yield()
                retryDelay = backoff.initial
            } catch {
                // The transaction rolled back (a full disk, an I/O error): write the same results
                // again, ahead of everything queued since, so none is lost or overtaken. Their
                // devices wait meanwhile (DeviceFeed), and so does an acknowledgement to a
                // controller (OutboxSink).
                commitTimes.merge(times) { current, _ in current }
                waiting = batch + waiting
                logger.critical("cannot commit to the outbox; retrying", metadata: ["reason": "\(error)", "results": "\(batch.count)", "retry_in": "\(retryDelay)"])
                try? await Task.sleep(for: retryDelay)
                retryDelay = backoff.next(after: retryDelay)
            }
        }
        isWriting = false
    }

    /// Waits until every result queued so far is committed, or `deadline` passes; returns how
    /// many are still queued (at shutdown: results read from devices are not left in memory).
    public func flush(before deadline: ContinuousClock.Instant) async -> Int {
        while (isWriting || !waiting.isEmpty) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return waiting.count
    }

    private static func insert(_ waiter: Waiter, db: Database) throws -> StoreReceipt {
        let item = waiter.item
        // Cached statements: compiled once per connection, not once per result.
        if let key = item.sourceKey,
           let existing = try String.fetchOne(
               db.cachedStatement(sql: "SELECT id FROM outbox WHERE source = ? AND sourceKey = ?"), arguments: [item.source, key])
        {
            return StoreReceipt(id: existing, wasAlreadyStored: true)
        }
        let id = UUIDv7.make().uuidString.lowercased()
        try db.cachedStatement(sql: """
            INSERT INTO outbox (id, source, sourceKey, event, result, raw, measuredAt, readNs, state, outcome)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                id, item.source, item.sourceKey, item.eventLine, item.result.text, Data(item.raw), Self.milliseconds(item.measuredAt),
                Int64(item.readAt), item.state.rawValue, item.reason,
            ])
        return StoreReceipt(id: id, wasAlreadyStored: false)
    }

    /// Wall-clock time as whole milliseconds since 1970: an integer column, no date formatting
    /// per row.
    private static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    private static func writeCommitTimes(_ times: [String: UInt64], db: Database) throws {
        guard !times.isEmpty else { return }
        let update = try db.cachedStatement(sql: "UPDATE outbox SET committedNs = ? WHERE id = ? AND committedNs IS NULL")
        for (id, time) in times {
            try update.execute(arguments: [Int64(time), id])
        }
    }

    /// The oldest results not yet delivered, in order.
    public func pending(limit: Int = 64) async throws -> [Entry] {
        try await entries(sql: "SELECT * FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT ?", arguments: [limit])
    }

    /// Results the record could not bind to a build, oldest first.
    public func unbound() async throws -> [Entry] {
        try await entries(sql: "SELECT * FROM outbox WHERE state = 'unbound' ORDER BY seq", arguments: [])
    }

    /// How many results wait for delivery.
    public func pendingCount() async throws -> Int {
        try await queue.read { db in
            try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM outbox WHERE state = 'pending'")) ?? 0
        }
    }

    /// Every result, oldest first.
    public func all() async throws -> [Entry] {
        try await entries(sql: "SELECT * FROM outbox ORDER BY seq", arguments: [])
    }

    private func entries(sql: String, arguments: StatementArguments) async throws -> [Entry] {
        try await queue.read { db in
            try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).map(Self.entry)
        }
    }

    private static func entry(_ row: Row) throws -> Entry {
        let result: String = row["result"]
        let raw: Data = row["raw"]
        let committed: Int64? = row["committedNs"]
        let state: String = row["state"]
        return Entry(
            sequence: row["seq"], id: row["id"], source: row["source"], sourceKey: row["sourceKey"], eventLine: row["event"],
            result: try JSONValue(parsing: Array(result.utf8)), raw: RawBytes(Array(raw)),
            measuredAt: Date(timeIntervalSince1970: Double(row["measuredAt"] as Int64) / 1000), readAt: UInt64(max(0, row["readNs"] as Int64)), committedAt: committed.map { UInt64(max(0, $0)) },
            state: State(rawValue: state) ?? .pending, outcome: row["outcome"]
        )
    }

    /// Records what became of results: delivered (with the record's answer) or unbound (with
    /// the reason), all in one transaction. Rows' commit times still held are written with them.
    public func settle(_ outcomes: [(id: String, state: State, outcome: String)]) async throws {
        guard !outcomes.isEmpty else { return }
        let times = outcomes.map { commitTimes.removeValue(forKey: $0.id) }
        try await queue.write { db in
            let update = try db.cachedStatement(sql: "UPDATE outbox SET state = ?, outcome = ?, committedNs = COALESCE(committedNs, ?) WHERE id = ?")
            for (outcome, time) in zip(outcomes, times) {
                try update.execute(arguments: [outcome.state.rawValue, outcome.outcome, time.map(Int64.init), outcome.id])
            }
        }
    }

    /// Writes the commit times still held in memory (at shutdown: rows not yet settled keep
    /// theirs).
    public func writeHeldCommitTimes() async throws {
        let times = commitTimes
        commitTimes = [:]
        try await queue.write { db in try Self.writeCommitTimes(times, db: db) }
    }

    /// Records what became of one result.
    public func settle(_ id: String, as state: State, outcome: String) async throws {
        try await settle([(id, state, outcome)])
    }

    /// The build open at the station, kept so that a restarted gateway goes on with it.
    public func openBuildID() async throws -> Int64? {
        try await queue.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM station WHERE key = 'open_build'").flatMap { Int64($0) }
        }
    }

    /// Remembers (or, with nil, forgets) the build open at the station.
    public func rememberOpenBuild(_ buildID: Int64?) async throws {
        try await queue.write { db in
            if let buildID {
                try db.execute(sql: "INSERT OR REPLACE INTO station (key, value) VALUES ('open_build', ?)", arguments: [String(buildID)])
            } else {
                try db.execute(sql: "DELETE FROM station WHERE key = 'open_build'")
            }
        }
    }

    /// The connection's `PRAGMA synchronous` value (2 = FULL).
    public nonisolated func synchronousMode() throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    public func numericKeyGaps(source: String, window: Int) async throws -> (missing: [UInt64], highest: UInt64?) {
        let keys = try await queue.read { db in
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT CAST(sourceKey AS INTEGER) AS number FROM outbox
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

    /// How many results the outbox holds.
    public nonisolated func count() throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0 }
    }
}

/// A result queued in the outbox: `receipt()` returns once it is committed (or throws why not).
public final class CommitTicket: Sendable {
    private enum State {
        case waiting([CheckedContinuation<StoreReceipt, any Error>])
        case done(Result<StoreReceipt, any Error>)
    }

    private let state = Mutex(State.waiting([]))

    /// The receipt, once the result's transaction committed.
    public func receipt() async throws -> StoreReceipt {
        try await withCheckedThrowingContinuation { continuation in
            let done: Result<StoreReceipt, any Error>? = state.withLock { state in
                switch state {
                case .waiting(var waiters):
                    waiters.append(continuation)
                    state = .waiting(waiters)
                    return nil
                case .done(let result):
                    return result
                }
            }
            if let done { continuation.resume(with: done) }
        }
    }

    func finish(_ result: Result<StoreReceipt, any Error>) {
        let waiters: [CheckedContinuation<StoreReceipt, any Error>] = state.withLock { state in
            guard case .waiting(let waiters) = state else { return [] }
            state = .done(result)
            return waiters
        }
        for waiter in waiters { waiter.resume(with: result) }
    }
}
