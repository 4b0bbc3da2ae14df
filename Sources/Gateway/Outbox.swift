public import FloorgateCore
public import Foundation
import DeviceIO
import GRDB
public import NIOCore
import Synchronization
public import Logging

/// The station's durable queue of device results on their way to the record: a SQLite file in
/// WAL mode written with `synchronous=FULL`, so a result is on disk when its commit is reported.
///
/// - **One writer, group commit.** Every change to the file goes through one writer thread
///   (``OutboxWriter``): what is queued while a transaction is being written goes in the next one,
///   so one fsync covers many results under load, and one result alone when idle. Settling
///   delivered results shares that transaction.
/// - **Exactly once.** Each result gets its idempotency key (a UUIDv7) when it is first stored;
///   the key travels with every delivery attempt, so the record keeps it once. A result the
///   device itself numbers (an Open Protocol tightening id) is unique on (source, source key):
///   storing it again returns the first receipt and writes nothing.
/// - **Order.** Results are delivered in the order they were stored (`seq`).
/// - **Nothing dropped.** A result the record cannot bind to an open build (or that lacks what
///   the record needs, such as a unit) stays in the file as `unbound`, with the reason, for the
///   operator to see.
/// - **Typed rows.** A result is stored as columns (kind, exact value as text, unit, resolution,
///   angle, scanned text), beside the raw bytes and the decoded event line.
/// - **Timing.** Each row keeps when its frame's last byte was read and when its commit returned
///   (`CLOCK_MONOTONIC` ns); the commit time is written with the file's next transaction.
public final class Outbox: ResultHistory {
    /// The writer's connection: only ``OutboxWriter`` writes with it.
    private let queue: DatabaseQueue
    /// A read-only connection for everything that reads, so a read never waits behind a commit
    /// nor disturbs the writer's prepared statements.
    private let reader: DatabaseQueue
    private let writer: OutboxWriter
    private let committed: CommittedEntries

    /// Opens (creating or upgrading if needed) the outbox at `path` and starts its writer.
    public init(path: String, logger: Logger = Logger(label: "floorgate.outbox")) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)  // a reader (`floorgate` inspecting the file) may hold the lock
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Writes append and settle recent rows; reads are of recent rows: 1 MiB of page
            // cache per connection is plenty (SQLite's default is 2).
            try db.execute(sql: "PRAGMA cache_size = -1024")
        }
        queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
        }
        try Self.migrator.migrate(queue)
        var readOnly = configuration
        readOnly.readonly = true
        reader = try DatabaseQueue(path: path, configuration: readOnly)
        let committed = CommittedEntries()
        self.committed = committed
        writer = OutboxWriter(queue: queue, logger: logger) { committed.publish($0) }
    }

    deinit {
        writer.stop()
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
        migrator.registerMigration("typed results") { db in
            // The result's JSON text becomes columns; rows already stored keep everything they
            // held, read out of their JSON. Only pending rows are indexed by state: a row enters
            // that index when stored and leaves it when settled, both at its end, so settling
            // dirties one index page, not two regions of an index over every state.
            let states = State.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            try db.execute(sql: """
                CREATE TABLE outbox_typed (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    source TEXT NOT NULL,
                    sourceKey TEXT,
                    event TEXT NOT NULL,
                    kind TEXT CHECK (kind IN ('measure', 'torque', 'scan')),
                    value TEXT, unit TEXT, resolution TEXT, angle TEXT, text TEXT, aim TEXT,
                    deviceKind TEXT NOT NULL, profile TEXT NOT NULL, deviceSerial TEXT,
                    raw BLOB NOT NULL,
                    measuredAt INTEGER NOT NULL,
                    readNs INTEGER NOT NULL,
                    committedNs INTEGER,
                    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN (\(states))),
                    outcome TEXT,
                    UNIQUE (source, sourceKey)
                );
                INSERT INTO outbox_typed (seq, id, source, sourceKey, event, kind, value, unit, resolution, angle, text, aim,
                    deviceKind, profile, deviceSerial, raw, measuredAt, readNs, committedNs, state, outcome)
                SELECT seq, id, source, sourceKey, event, json_extract(result, '$.kind'), json_extract(result, '$.value'), json_extract(result, '$.unit'),
                    json_extract(result, '$.resolution'), json_extract(result, '$.angle'), json_extract(result, '$.text'), json_extract(result, '$.aim'),
                    COALESCE(json_extract(result, '$.device.kind'), 'gauge'), COALESCE(json_extract(result, '$.device.profile'), ''), json_extract(result, '$.device.serial'),
                    raw, measuredAt, readNs, committedNs, state, outcome
                FROM outbox ORDER BY seq;
                DROP TABLE outbox;
                ALTER TABLE outbox_typed RENAME TO outbox;
                CREATE INDEX outbox_pending ON outbox (seq) WHERE state = 'pending';
                """)
        }
        migrator.registerMigration("tightening context") { db in
            // What a torque controller said of a tightening besides torque and angle: the JSON
            // members result.record takes (TighteningContext), null for other results.
            try db.execute(sql: "ALTER TABLE outbox ADD COLUMN tightening TEXT")
        }
        return migrator
    }

    /// A signal after each commit that stored results: the drainer's cue to deliver.
    public var committedSignals: AsyncStream<Void> { committed.signals }

    /// The rows committed since the last call, oldest first, straight from the writer (nil when
    /// more were committed than are kept in memory: read them from the file).
    public func takeCommitted() -> [Entry]? { committed.take() }

    /// Stores `item` durably: returns after its commit, with its receipt.
    public func append(_ item: Item) async throws -> StoreReceipt {
        try await withCheckedThrowingContinuation { continuation in
            writer.submit(item, completion: .receipt(continuation))
        }
    }

    /// Queues `item` for the next commit and returns at once, so a device can go on while its
    /// result is being written; `gate` counts it until it is committed. Results queued one after
    /// another are committed in that order.
    ///
    /// `eventLoop` is the loop that read the result: the writer starts the commit once that
    /// loop's pass over its ready devices is done, so everything the pass read shares one commit.
    public func submit(_ item: Item, through gate: CommitGate, from eventLoop: any EventLoop) {
        gate.queued()
        writer.submit(item, completion: .gate(gate), from: eventLoop)
    }

    /// Applies `change` in the writer's next transaction and returns once it is committed.
    private func change(_ apply: @escaping @Sendable (Database) throws -> Void) async {
        await withCheckedContinuation { continuation in
            writer.submit(OutboxWriter.Change(apply: apply, done: continuation))
        }
    }

    /// Waits until every result queued so far is committed, or `deadline` passes; returns how
    /// many writes are still queued (at shutdown: results read from devices are not left in memory).
    public func flush(before deadline: ContinuousClock.Instant) async -> Int {
        while writer.unwritten > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return writer.unwritten
    }

    /// Writes what is queued and the commit times still held, and stops the writer; nothing can
    /// be written after. (Dropping the outbox does the same without waiting.)
    public func close() async {
        writer.stop()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let writer = writer
            Thread.detachNewThread {
                writer.waitUntilStopped()
                done.resume()
            }
        }
    }

    /// Wall-clock time as whole milliseconds since 1970: an integer column, no date formatting
    /// per row.
    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// The oldest results not yet delivered after row `sequence`, in order, and the row up to
    /// which the file was read: the last one given when `limit` were, else the file's last row.
    public func pending(after sequence: Int64 = 0, limit: Int = 256) async throws -> (entries: [Entry], readThrough: Int64) {
        try await reader.read { db in
            let entries = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM outbox WHERE seq > ? AND state = 'pending' ORDER BY seq LIMIT ?"),
                arguments: [sequence, limit]
            ).map(Self.entry)
            if entries.count == limit, let last = entries.last { return (entries, last.sequence) }
            let end = try Int64.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(MAX(seq), 0) FROM outbox")) ?? sequence
            return (entries, max(end, sequence))
        }
    }

    /// Results the record could not bind to a build, oldest first.
    public func unbound() async throws -> [Entry] {
        try await entries(sql: "SELECT * FROM outbox WHERE state = 'unbound' ORDER BY seq", arguments: [])
    }

    /// How many results wait for delivery.
    public func pendingCount() async throws -> Int {
        try await reader.read { db in
            try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM outbox WHERE state = 'pending'")) ?? 0
        }
    }

    /// How many results wait for delivery and when the oldest of them was measured.
    public func pendingSummary() async throws -> (count: Int, oldest: Date?) {
        try await reader.read { db in
            let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*), MIN(measuredAt) FROM outbox WHERE state = 'pending'"))
            let oldest = (row?[1] as Int64?).map { Date(timeIntervalSince1970: TimeInterval($0) / 1000) }
            return (row?[0] ?? 0, oldest)
        }
    }

    /// Every result, oldest first.
    public func all() async throws -> [Entry] {
        try await entries(sql: "SELECT * FROM outbox ORDER BY seq", arguments: [])
    }

    private func entries(sql: String, arguments: StatementArguments) async throws -> [Entry] {
        try await reader.read { db in
            try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).map(Self.entry)
        }
    }

    private static func entry(_ row: Row) throws -> Entry {
        let sequence: Int64 = row["seq"]
        func decimal(_ column: String) throws -> ExactDecimal? {
            guard let text: String = row[column] else { return nil }
            do {
                return try ExactDecimal(parsing: text)
            } catch {
                throw OutboxFileError(sequence: sequence, column: column, found: text)
            }
        }
        func known<Value>(_ column: String, _ make: (String) -> Value?) throws -> Value {
            let text: String = row[column] ?? ""
            guard let value = make(text) else { throw OutboxFileError(sequence: sequence, column: column, found: text) }
            return value
        }
        var payload: Payload?
        if row["kind"] as String? != nil {
            payload = Payload(
                kind: try known("kind", Payload.Kind.init(rawValue:)), value: try decimal("value"),
                unit: row["unit"] as String? == nil ? nil : try known("unit", MeasurementUnit.init(code:)),
                resolution: try decimal("resolution"), angle: try decimal("angle"), text: row["text"], aim: row["aim"],
                tightening: try (row["tightening"] as String?).map { text in
                    guard let context = (try? JSONValue(parsing: Array(text.utf8))).flatMap(TighteningContext.init(json:)) else {
                        throw OutboxFileError(sequence: sequence, column: "tightening", found: text)
                    }
                    return context
                }
            )
        }
        let raw: Data = row["raw"]
        let committed: Int64? = row["committedNs"]
        let state = try known("state", State.init(rawValue:))
        let item = Item(
            source: row["source"], sourceKey: row["sourceKey"], eventLine: row["event"], payload: payload,
            device: Device(kind: try known("deviceKind", DeviceKind.init(rawValue:)), profile: row["profile"], serial: row["deviceSerial"]),
            raw: RawBytes(Array(raw)), state: state, readAt: UInt64(max(0, row["readNs"] as Int64)),
            measuredAt: Date(timeIntervalSince1970: Double(row["measuredAt"] as Int64) / 1000)
        )
        return Entry(sequence: sequence, id: row["id"], item: item, committedAt: committed.map { UInt64(max(0, $0)) }, state: state, outcome: row["outcome"])
    }

    /// Records what became of results: delivered (with the record's answer) or unbound (with
    /// the reason), in the writer's next transaction.
    public func settle(_ outcomes: [(sequence: Int64, state: State, outcome: String)]) async {
        guard !outcomes.isEmpty else { return }
        await change { db in
            let update = try db.cachedStatement(sql: "UPDATE outbox SET state = ?, outcome = ? WHERE seq = ?")
            for (sequence, state, outcome) in outcomes {
                update.setUncheckedArguments([state.rawValue, outcome, sequence])
                try update.execute()
            }
        }
    }

    /// Records what became of one result (row `sequence`).
    public func settle(_ sequence: Int64, as state: State, outcome: String) async {
        await settle([(sequence, state, outcome)])
    }

    /// The build open at the station, kept so that a restarted gateway goes on with it.
    public func openBuildID() async throws -> Int64? {
        try await reader.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM station WHERE key = 'open_build'").flatMap { Int64($0) }
        }
    }

    /// Remembers (or, with nil, forgets) the build open at the station.
    public func rememberOpenBuild(_ buildID: Int64?) async {
        await change { db in
            if let buildID {
                try db.execute(sql: "INSERT OR REPLACE INTO station (key, value) VALUES ('open_build', ?)", arguments: [String(buildID)])
            } else {
                try db.execute(sql: "DELETE FROM station WHERE key = 'open_build'")
            }
        }
    }

    /// The connection's journal mode and `PRAGMA synchronous` value (2 = FULL).
    public func pragmas() throws -> (journalMode: String, synchronous: Int) {
        try queue.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "?", try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1)
        }
    }

    public func numericKeyGaps(source: String, window: Int) async throws -> (missing: [UInt64], highest: UInt64?) {
        let keys = try await reader.read { db in
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
    public func count() throws -> Int {
        try reader.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0 }
    }
}

/// The rows the writer committed, held in memory for the drainer until it takes them; at most
/// `limit`, beyond which they are dropped and the drainer reads the file instead.
final class CommittedEntries: Sendable {
    private struct Held {
        var entries: [Outbox.Entry] = []
        var overflowed = false
    }

    let signals: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation
    private let held = Mutex(Held())
    private let limit: Int

    init(limit: Int = 4096) {
        self.limit = limit
        (signals, signal) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func publish(_ entries: [Outbox.Entry]) {
        held.withLock { held in
            if held.overflowed { return }
            if held.entries.count + entries.count > limit {
                held.entries = []
                held.overflowed = true
            } else {
                held.entries += entries
            }
        }
        signal.yield()
    }

    func take() -> [Outbox.Entry]? {
        held.withLock { held in
            defer { held = Held() }
            return held.overflowed ? nil : held.entries
        }
    }
}
