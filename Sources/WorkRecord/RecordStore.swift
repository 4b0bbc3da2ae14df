import Dispatch
public import GRDB
import Synchronization

/// The record's single writer. Requests queue here and run in arrival order; all those waiting
/// when a transaction starts share it (group commit), each in its own savepoint so one refused
/// request never undoes another. A request's answer is released only after the transaction
/// committed with `synchronous=FULL`, so every answer describes data on disk.
public final class RecordStore: Sendable {
    /// A request waiting for the writer and where its answer goes.
    private struct Job: Sendable {
        var call: RecordCall
        var completion: @Sendable (Result<RecordOutcome, WorkRecordError>) -> Void
    }

    private let database: DatabaseQueue
    private let service: RecordService
    private let pending = Mutex<(jobs: [Job], draining: Bool)>(([], false))
    private let drainQueue = DispatchQueue(label: "floorgate.record.writer")
    /// Called with the notifications of each committed batch, in commit order.
    private let notify: @Sendable ([RecordNotification]) -> Void

    /// Opens the record at `path`. `notify` receives notifications after their writes commit.
    public init(
        path: String, passwordRounds: Int = PasswordHasher.defaultRounds, notify: @escaping @Sendable ([RecordNotification]) -> Void = { _ in }
    ) throws {
        database = try RecordDatabase.open(path: path)
        service = RecordService(passwordRounds: passwordRounds)
        self.notify = notify
    }

    /// Queues `call`; `completion` runs on the writer's thread once its transaction committed
    /// (or failed). Completions run in the order calls were submitted.
    public func submit(_ call: RecordCall, completion: @escaping @Sendable (Result<RecordOutcome, WorkRecordError>) -> Void) {
        let startDrain = pending.withLock { state -> Bool in
            state.jobs.append(Job(call: call, completion: completion))
            defer { state.draining = true }
            return !state.draining
        }
        if startDrain { drainQueue.async { self.drain() } }
    }

    /// Runs `call` and waits for its committed answer.
    public func perform(_ call: RecordCall) async throws(WorkRecordError) -> RecordOutcome {
        let result = await withCheckedContinuation { continuation in
            submit(call) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Reads the record directly (no queue), for verification and exports of a quiet file.
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        try database.read(body)
    }

    /// Waits for queued requests to finish, then closes the database (checkpointing the WAL into
    /// the file).
    public func close() throws {
        try drainQueue.sync {
            try database.close()
        }
    }

    private func drain() {
        while true {
            let jobs = pending.withLock { state -> [Job] in
                let jobs = state.jobs
                state.jobs.removeAll(keepingCapacity: true)
                if jobs.isEmpty { state.draining = false }
                return jobs
            }
            if jobs.isEmpty { return }
            run(jobs)
        }
    }

    private func run(_ jobs: [Job]) {
        var results: [Result<RecordOutcome, WorkRecordError>] = []
        results.reserveCapacity(jobs.count)
        do {
            try database.write { db in
                results.removeAll(keepingCapacity: true)
                for job in jobs {
                    var outcome: Result<RecordOutcome, WorkRecordError> = .failure(WorkRecordError(.internalError, "not run"))
                    try db.inSavepoint {
                        do throws(WorkRecordError) {
                            outcome = .success(try service.execute(db, job.call))
                            return .commit
                        } catch {
                            outcome = .failure(error)
                            return error.keepsWrites ? .commit : .rollback
                        }
                    }
                    results.append(outcome)
                }
            }
        } catch {
            service.forgetDecodedInstructions()
            let failure = WorkRecordError(.internalError, "the record could not commit: \(error)")
            results = Array(repeating: .failure(failure), count: jobs.count)
        }
        notify(results.flatMap { (try? $0.get().notifications) ?? [] })
        for (job, result) in zip(jobs, results) {
            job.completion(result)
        }
    }
}
