import Synchronization

/// What the SQLite record's writer remembers between its transactions, so that a result costs
/// its writes and not the reads that found them: the audit chain's head, the binding state of
/// each build a result was recorded against (its active step's results and its nonconformances),
/// and what the calibration register said of each device that gave one.
///
/// Sound because the writer knows every change to the file: its server holds the file's writer
/// lock (`RecordFileLock`), and a commit by any other connection (an insider's `sqlite3`, a tool
/// that ignored the lock) shows in `PRAGMA data_version` at the writer's next transaction, which
/// then forgets everything. A request undone by its savepoint restores the audit head and forgets
/// the builds it touched; a transaction that does not commit forgets everything. The plant's PostgreSQL record is
/// written by every server of the plant and remembers nothing.
///
/// Used only by the writer, one transaction at a time; the lock is never contended.
final class WriterMemory: Sendable {
    /// What a savepoint needs to undo what was remembered after it: the head then, and how many
    /// changes to the builds the undo log held.
    struct Mark: Sendable {
        fileprivate let auditHead: AuditChain.Head?
        fileprivate let undoCount: Int
    }

    /// A change to the remembered builds, and how to undo it.
    private enum Undo: Sendable {
        /// Build `id` was taken or remembered: undone, it is reread (keeping its state before
        /// would keep a second reference to its arrays, and each result would copy them).
        case reread(id: Int64)
        /// Every build was forgotten; these were remembered before.
        case builds([Int64: BuildState])
    }

    private struct Contents: Sendable {
        var auditHead: AuditChain.Head?
        /// Builds by id, as `result.record` last left them (`BuildState.ResultScope.bindingFacts`).
        var builds: [Int64: BuildState] = [:]
        /// The current transaction's changes to `builds`, newest last, for savepoints to undo.
        var undo: [Undo] = []
        /// The file's `data_version` when the writer last looked: another connection's commit changes it.
        var dataVersion: Int64?
        /// The calibration register's newest entry by asset (nil: not in the register), as read.
        var calibrations: [String: CalibrationEntry?] = [:]
        /// Whether the register holds any entry, once read.
        var registerHoldsEntries: Bool?

        mutating func forgetBuilds() {
            // Only writes other than results add to the register: what it said is read again too.
            calibrations = [:]
            registerHoldsEntries = nil
            guard !builds.isEmpty else { return }
            undo.append(.builds(builds))
            builds = [:]
        }
    }

    /// Builds remembered at most; past it, all are forgotten and reread as results come.
    static let buildLimit = 4_096

    private let contents = Mutex(Contents())

    /// The audit chain's head after the writer's last append, if known.
    var auditHead: AuditChain.Head? {
        get { contents.withLock { $0.auditHead } }
        set { contents.withLock { $0.auditHead = newValue } }
    }

    /// Build `id` as the last result recorded against it left it, if remembered, taken out of
    /// memory so that the caller holds it alone and appends to it in place; `remember` puts it back.
    func takeBuild(_ id: Int64) -> BuildState? {
        contents.withLock { contents in
            guard let build = contents.builds.removeValue(forKey: id) else { return nil }
            contents.undo.append(.reread(id: id))
            return build
        }
    }

    /// Remembers `build` as it is after a result was recorded against it.
    func remember(_ build: BuildState) {
        contents.withLock { contents in
            if contents.builds.count >= Self.buildLimit, contents.builds[build.id] == nil { contents.forgetBuilds() }
            contents.builds[build.id] = build
            contents.undo.append(.reread(id: build.id))
        }
    }

    /// What the calibration register said of `asset` when last read: `.some(nil)` when it did
    /// not know the device, nil when not remembered.
    func calibration(of asset: String) -> CalibrationEntry?? {
        contents.withLock { $0.calibrations[asset] }
    }

    /// Remembers what the calibration register says of `asset` (nil: it does not know it).
    func remember(calibration entry: CalibrationEntry?, of asset: String) {
        contents.withLock { contents in
            if contents.calibrations.count >= Self.buildLimit { contents.calibrations = [:] }
            contents.calibrations[asset] = .some(entry)
        }
    }

    /// Whether the calibration register holds any entry, if known.
    var registerHoldsEntries: Bool? {
        get { contents.withLock { $0.registerHoldsEntries } }
        set { contents.withLock { $0.registerHoldsEntries = newValue } }
    }

    /// Forgets every build and what the calibration register said: after any write other than a
    /// result (a step completed, a nonconformance dispositioned, a redline published, a
    /// calibration recorded…), what a build looks like is reread.
    func forgetBuilds() {
        contents.withLock { $0.forgetBuilds() }
    }

    /// Checks the file's `data_version` at the start of a writing transaction; a change since the
    /// last look means another connection committed, and everything remembered is forgotten.
    func check(dataVersion: Int64) {
        contents.withLock { contents in
            guard contents.dataVersion != dataVersion else { return }
            contents = Contents(dataVersion: dataVersion)
        }
    }

    /// The transaction committed: what is remembered is on disk, nothing is left to undo.
    func committed() {
        contents.withLock { $0.undo.removeAll(keepingCapacity: true) }
    }

    /// Forgets everything but the data version: after a transaction that did not commit.
    func forgetAll() {
        contents.withLock { $0 = Contents(dataVersion: $0.dataVersion) }
    }

    /// Where a savepoint starts.
    func mark() -> Mark {
        contents.withLock { Mark(auditHead: $0.auditHead, undoCount: $0.undo.count) }
    }

    /// Undoes what was remembered since `mark`: the savepoint's writes were undone.
    func rollBack(to mark: Mark) {
        contents.withLock { contents in
            contents.auditHead = mark.auditHead
            while contents.undo.count > mark.undoCount, let change = contents.undo.popLast() {
                switch change {
                case .reread(let id): contents.builds[id] = nil
                case .builds(let before): contents.builds = before
                }
            }
        }
    }
}

/// A transaction of a store whose writer remembers between transactions (the SQLite record's).
protocol RememberingTransaction: RecordTransaction {
    /// The writer's memory, in a writing transaction; nil in a read.
    var writerMemory: WriterMemory? { get }
}

extension RecordTransaction {
    /// What the writer remembers between transactions; nil on a store that remembers nothing and
    /// in a read.
    var memory: WriterMemory? { (self as? any RememberingTransaction)?.writerMemory }
}
