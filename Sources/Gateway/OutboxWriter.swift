import CoreMetrics
import DeviceIO
import FloorgateCore
import Foundation
import GRDB
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SQLiteStatements

/// The outbox file's one writer: a thread of its own that takes everything queued since its last
/// commit, writes it in one transaction with prepared statements, commits once (one fsync), and
/// only then tells each result's owner.
///
/// Results and other changes (settling delivered results, the station's open build) share the
/// transaction: a change with no result to go with waits up to `changeDelay` for one, so under
/// load settling costs no commit of its own. A transaction that fails (a full disk, an I/O error)
/// is written again, ahead of everything queued since, so nothing is lost or overtaken; its
/// results' owners wait meanwhile.
///
/// After each commit the new rows go to `committed` as outbox entries, so the drainer need not
/// read back what was just written. Each row's commit time (`CLOCK_MONOTONIC` ns) is written with
/// the next transaction; what is still held at `stop()` is written then.
final class OutboxWriter: Sendable {
    /// Who is told once a queued result is committed.
    enum Completion: Sendable {
        /// A device read ahead of its commits (see ``CommitGate``).
        case gate(CommitGate)
        /// An awaiting caller, given the result's receipt.
        case receipt(CheckedContinuation<StoreReceipt, any Error>)
    }

    /// A change to the file other than a new result (plain updates, which fail only as their
    /// transaction does), with its awaiting caller.
    struct Change: Sendable {
        var apply: @Sendable (Database) throws -> Void
        var done: CheckedContinuation<Void, Never>
    }

    private enum Work: Sendable {
        case insert(Outbox.Item, Completion)
        case change(Change)

        var isInsert: Bool {
            if case .insert = self { true } else { false }
        }
    }

    /// What the thread and the submitters share, under `lock` (whose value says whether the
    /// thread has something to do).
    private final class Shared: @unchecked Sendable {
        var queued: [Work] = []
        var writing = false
        var stopping = false
        /// An event loop will wake the thread at the end of its pass.
        var wakeScheduled = false
    }

    /// The writer's statements, prepared once on its connection; only the writer thread uses
    /// them.
    private final class Statements: @unchecked Sendable {
        let begin: SteppedStatement
        let commit: SteppedStatement
        let rollback: SteppedStatement
        let lookup: Statement
        let insert: SteppedStatement
        let commitTime: SteppedStatement

        init(_ db: Database) throws {
            begin = try SteppedStatement(db, sql: "BEGIN IMMEDIATE")
            commit = try SteppedStatement(db, sql: "COMMIT")
            rollback = try SteppedStatement(db, sql: "ROLLBACK")
            lookup = try db.makeStatement(sql: "SELECT id FROM outbox WHERE source = ? AND sourceKey = ?")
            insert = try SteppedStatement(db, sql: """
                INSERT INTO outbox (id, source, sourceKey, event, kind, value, unit, resolution, angle, text, aim,
                    deviceKind, profile, deviceSerial, raw, measuredAt, readNs, state, outcome, tightening)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            commitTime = try SteppedStatement(db, sql: "UPDATE outbox SET committedNs = ? WHERE seq = ?")
        }
    }

    private let lock = ConditionLock(value: false)
    private let shared = Shared()
    private let prepared = NIOLockedValueBox<Statements?>(nil)
    private let queue: DatabaseQueue
    private let logger: Logger
    private let backoff = Backoff()
    private let changeDelay: Double = 0.02
    private let committed: @Sendable ([Outbox.Entry]) -> Void
    private let stopped = ConditionLock(value: false)

    /// Starts the thread. `committed` is given the rows each commit stored.
    init(queue: DatabaseQueue, logger: Logger, committed: @escaping @Sendable ([Outbox.Entry]) -> Void) {
        self.queue = queue
        self.logger = logger
        self.committed = committed
        let thread = Thread { [self] in run() }
        thread.name = "floorgate-outbox"
        thread.start()
    }

    /// Queues `item` for the next commit; `completion` is told once it is committed.
    func submit(_ item: Outbox.Item, completion: Completion) {
        enqueue(.insert(item, completion))
    }

    /// Queues `item` from `eventLoop` without waking the thread at once: the thread is woken once
    /// the loop has handled every device that was ready in this pass (NIO runs the tasks it is
    /// given after the pass's I/O), so one commit takes the whole pass, as a select loop would.
    func submit(_ item: Outbox.Item, completion: Completion, from eventLoop: any EventLoop) {
        lock.lock()
        shared.queued.append(.insert(item, completion))
        let wakeLater = !shared.wakeScheduled
        shared.wakeScheduled = true
        lock.unlock()
        if wakeLater {
            eventLoop.execute { [self] in
                lock.lock()
                shared.wakeScheduled = false
                lock.unlock(withValue: !shared.queued.isEmpty || shared.stopping)
            }
        }
    }

    /// Queues `change` for the next commit.
    func submit(_ change: Change) {
        enqueue(.change(change))
    }

    private func enqueue(_ work: Work) {
        lock.lock()
        shared.queued.append(work)
        lock.unlock(withValue: true)
    }

    /// How many results and changes are queued or being written.
    var unwritten: Int {
        lock.lock()
        defer { lock.unlock() }
        return shared.queued.count + (shared.writing ? 1 : 0)
    }

    /// Lets the thread write what is queued and the commit times it holds, then end. Returns at
    /// once; `waitUntilStopped` waits for the thread.
    func stop() {
        lock.lock()
        shared.stopping = true
        lock.unlock(withValue: true)
    }

    /// Waits (blocking) until the thread has ended.
    func waitUntilStopped() {
        stopped.lock(whenValue: true)
        stopped.unlock()
    }

    private func run() {
        var heldCommitTimes: [(sequence: Int64, nanoseconds: UInt64)] = []
        while true {
            lock.lock(whenValue: true)
            var work = shared.queued
            shared.queued = []
            let stopping = shared.stopping
            shared.writing = !work.isEmpty
            lock.unlock(withValue: false)
            if work.isEmpty && stopping { break }
            if !stopping && !work.contains(where: \.isInsert) && lock.lock(whenValue: true, timeoutSeconds: changeDelay) {
                // Results arrived while the change waited: one commit for all.
                work += shared.queued
                shared.queued = []
                lock.unlock(withValue: false)
            }
            write(work, heldCommitTimes: &heldCommitTimes)
            lock.lock()
            shared.writing = false
            lock.unlock(withValue: !shared.queued.isEmpty || shared.stopping)
        }
        if !heldCommitTimes.isEmpty {
            do {
                let held = heldCommitTimes
                try queue.write { db in try Self.writeCommitTimes(held, with: self.statements(db)) }
            } catch {
                logger.error("cannot write the last commit times to the outbox", metadata: ["reason": "\(error)"])
            }
        }
        stopped.lock()
        stopped.unlock(withValue: true)
    }

    /// Writes `work` in one transaction, again and again until it commits.
    private func write(_ work: [Work], heldCommitTimes: inout [(sequence: Int64, nanoseconds: UInt64)]) {
        var retryDelay = backoff.initial
        while true {
            do {
                let held = heldCommitTimes
                let started = MonotonicClock.nanoseconds()
                let outcomes = try queue.writeWithoutTransaction { db in
                    let statements = try self.statements(db)
                    try statements.begin.run()
                    do {
                        try Self.writeCommitTimes(held, with: statements)
                        let outcomes = try work.map { try Self.apply($0, with: statements, db: db) }
                        try statements.commit.run()
                        return outcomes
                    } catch {
                        try? statements.rollback.run()
                        throw error
                    }
                }
                let committedAt = MonotonicClock.nanoseconds()
                GatewayMetrics.outboxCommit.recordNanoseconds(Int64(committedAt - started))
                heldCommitTimes = []
                var stored: [Outbox.Entry] = []
                for (item, outcome) in zip(work, outcomes) {
                    switch (item, outcome) {
                    case (.insert(let item, let completion), .stored(let receipt, let sequence)):
                        if let sequence {
                            heldCommitTimes.append((sequence, committedAt))
                            stored.append(Outbox.Entry(item, id: receipt.id, sequence: sequence, committedAt: committedAt))
                        }
                        switch completion {
                        case .gate(let gate): gate.committed()
                        case .receipt(let continuation): continuation.resume(returning: receipt)
                        }
                    case (.change(let change), .changed):
                        change.done.resume()
                    default:
                        preconditionFailure("an outbox write's outcome does not match its work")
                    }
                }
                if !stored.isEmpty {
                    GatewayMetrics.committed.increment(by: stored.count)
                    for entry in stored where entry.item.readAt <= committedAt {
                        GatewayMetrics.readToCommit.recordNanoseconds(Int64(committedAt - entry.item.readAt))
                    }
                    committed(stored)
                }
                return
            } catch {
                // The transaction rolled back as a whole: nothing of it is in the file. Write the
                // same again; the devices whose results these are wait meanwhile (CommitGate), and so
                // does an acknowledgement to a controller (OutboxSink).
                logger.critical("cannot commit to the outbox; retrying", metadata: ["reason": "\(error)", "writes": "\(work.count)", "retry_in": "\(retryDelay)"])
                Thread.sleep(forTimeInterval: Double(retryDelay.components.seconds) + Double(retryDelay.components.attoseconds) / 1e18)
                retryDelay = backoff.next(after: retryDelay)
            }
        }
    }

    private enum Outcome {
        /// The receipt, and the new row's sequence (nil when it was stored before).
        case stored(StoreReceipt, sequence: Int64?)
        case changed
    }

    /// The writer's statements, prepared on first use.
    private func statements(_ db: Database) throws -> Statements {
        if let statements = prepared.withLockedValue({ $0 }) { return statements }
        let statements = try Statements(db)
        prepared.withLockedValue { $0 = statements }
        return statements
    }

    private static func apply(_ work: Work, with statements: Statements, db: Database) throws -> Outcome {
        switch work {
        case .insert(let item, _):
            return try insert(item, with: statements, db: db)
        case .change(let change):
            try change.apply(db)
            return .changed
        }
    }

    private static func insert(_ item: Outbox.Item, with statements: Statements, db: Database) throws -> Outcome {
        if let key = item.sourceKey, let existing = try String.fetchOne(statements.lookup, arguments: [item.source, key]) {
            return .stored(StoreReceipt(id: existing, wasAlreadyStored: true), sequence: nil)
        }
        let id = UUIDv7.make(now: item.measuredAt)
        let payload = item.payload
        try statements.insert.run([
            .text(id), .text(item.source), SQLiteValue(item.sourceKey), .text(item.eventLine), SQLiteValue(payload?.kind.rawValue),
            SQLiteValue(payload?.value?.description), SQLiteValue(payload?.unit?.code), SQLiteValue(payload?.resolution?.description),
            SQLiteValue(payload?.angle?.description), SQLiteValue(payload?.text), SQLiteValue(payload?.aim), .text(item.device.kind.rawValue),
            SQLiteValue(item.device.profile), SQLiteValue(item.device.serial), .blob(Array(item.raw)), .integer(Outbox.milliseconds(item.measuredAt)),
            .integer(Int64(item.readAt)), .text(item.state.rawValue), SQLiteValue(item.reason),
            SQLiteValue(payload?.tightening.map { $0.json.text }),
        ])
        return .stored(StoreReceipt(id: id, wasAlreadyStored: false), sequence: db.lastInsertedRowID)
    }

    private static func writeCommitTimes(_ times: [(sequence: Int64, nanoseconds: UInt64)], with statements: Statements) throws {
        for (sequence, nanoseconds) in times {
            try statements.commitTime.run([.integer(Int64(nanoseconds)), .integer(sequence)])
        }
    }
}
