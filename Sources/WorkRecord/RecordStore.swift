import NIOPosix
import RecordProtocol
import Synchronization

/// The record's single group-commit writer, over either backend. Requests queue here and run in
/// arrival order; all those waiting when a transaction starts share it (group commit), each in
/// its own savepoint so one refused request never undoes another. A request's answer is released
/// only after the transaction committed (SQLite with `synchronous=FULL`; PostgreSQL with its
/// `synchronous_commit`), so every answer describes data on disk.
///
/// A signature's password is checked (PBKDF2) before its request reaches the writer, when the
/// record has read that user's hash before: a signing does not stall the results queued behind
/// it. Meanwhile the same connection's later requests wait, so each keeps its order.
public final class RecordStore: Sendable {
    /// Work waiting for the writer.
    private enum Job: Sendable {
        /// A request and where its answer goes.
        case call(RecordCall, @Sendable (Result<RecordOutcome, WorkRecordError>) -> Void)
        /// Work on the record as a whole (a verification, a station's record moved in), in a
        /// transaction of its own after the calls queued before it; told when the store closed first.
        case exclusive(run: @Sendable (any RecordBackend) async -> Void, refused: @Sendable () -> Void)
    }

    private let backend: any RecordBackend
    private let service: RecordService
    private let state = Mutex<(jobs: [Job], drain: Task<Void, Never>?, closed: Bool)>(([], nil, false))
    /// Per ordering key (a connection, a peer) with a signature being checked: its requests that
    /// came after, in order.
    private let heldBehindCheck = Mutex<[String: [(RecordCall, Completion)]]>([:])

    private typealias Completion = @Sendable (Result<RecordOutcome, WorkRecordError>) -> Void

    /// The writer over `backend`; `passwordRounds` is the PBKDF2 work factor for new passwords,
    /// `pacing` how failed signatures slow the next attempts.
    public init(
        backend: any RecordBackend, passwordRounds: Int = PasswordHasher.defaultRounds, pacing: SignaturePacing = .standard,
        signingClock: SigningClock = .unchecked, resultTimes: ResultTimePolicy = ResultTimePolicy(), serverKey: RecordServerKey? = nil
    ) {
        self.backend = backend
        service = RecordService(
            passwordRounds: passwordRounds, pacing: pacing, signingClock: signingClock, resultTimes: resultTimes, serverKey: serverKey)
    }

    /// Opens the record at `location`: a SQLite file is created or migrated; a PostgreSQL
    /// database must already have this version's schema (`floorgate record migrate`). `notify`
    /// receives the notifications of every committed write, this writer's and (on PostgreSQL)
    /// every other server's. `readOnly` opens a SQLite file as it is, without migrating it (for
    /// verification).
    public static func open(
        _ location: RecordLocation, passwordRounds: Int = PasswordHasher.defaultRounds, pacing: SignaturePacing = .standard,
        signingClock: SigningClock = .unchecked, resultTimes: ResultTimePolicy = ResultTimePolicy(), serverKey: RecordServerKey? = nil,
        readOnly: Bool = false, notify: @escaping RecordNotificationSink = { _ in }
    ) async throws -> RecordStore {
        let backend: any RecordBackend
        switch location {
        case .sqlite(let path):
            backend = try SQLiteBackend(path: path, readOnly: readOnly, notify: notify)
        case .postgres(let url):
            backend = try await PostgresBackend.connect(url, notify: notify)
        }
        let store = RecordStore(
            backend: backend, passwordRounds: passwordRounds, pacing: pacing, signingClock: signingClock, resultTimes: resultTimes,
            serverKey: serverKey)
        // The users' stored keys, so that even a user's first signing is checked before the
        // writer's turn.
        let keys = try await store.exclusive(writing: false) { transaction, _ in
            try await transaction.rows(#"SELECT login, password FROM "user""#).map { ($0["login"] as String, $0["password"] as String) }
        }
        for (login, key) in keys { store.service.knownHashes.remember(key, of: login) }
        return store
    }

    /// Queues `call`; `completion` runs once its transaction committed (or failed). Completions
    /// run in the order calls were submitted.
    public func submit(_ call: RecordCall, completion: @escaping @Sendable (Result<RecordOutcome, WorkRecordError>) -> Void) {
        let check: (password: String, storedHash: String)?? = heldBehindCheck.withLock { held in
            if held[call.orderingKey] != nil {
                held[call.orderingKey]?.append((call, completion))
                return .none  // held: released in order once the check before it is done
            }
            let check = service.passwordCheckToRun(for: call)
            if check != nil { held[call.orderingKey] = [] }
            return .some(check)
        }
        switch check {
        case .none: return
        case .some(nil): enqueue(.call(call, completion))
        case .some(let check?): checkThenEnqueue(call, completion, check)
        }
    }

    /// Runs PBKDF2 for `call`'s signature on NIO's blocking pool, queues the call with the
    /// outcome, then releases the requests held behind it (its connection's, or its peer's).
    private func checkThenEnqueue(_ call: RecordCall, _ completion: @escaping Completion, _ check: (password: String, storedHash: String)) {
        Task {
            var checked = call
            let matches = try? await NIOThreadPool.singleton.runIfActive { PasswordHasher.matches(check.password, stored: check.storedHash) }
            checked.passwordCheck = matches.map { PasswordCheck(storedHash: check.storedHash, matches: $0) }
            enqueue(.call(checked, completion))
            release(call.orderingKey)
        }
    }

    /// Queues the requests held under `key` in order, up to the next one whose signature needs a
    /// check.
    private func release(_ key: String) {
        while true {
            let next: (RecordCall, Completion, (password: String, storedHash: String)?)? = heldBehindCheck.withLock { held in
                guard var calls = held[key], !calls.isEmpty else {
                    held[key] = nil
                    return nil
                }
                let (call, completion) = calls.removeFirst()
                held[key] = calls
                return (call, completion, service.passwordCheckToRun(for: call))
            }
            guard let (call, completion, check) = next else { return }
            if let check { return checkThenEnqueue(call, completion, check) }
            enqueue(.call(call, completion))
        }
    }

    /// Runs `call` and waits for its committed answer.
    public func perform(_ call: RecordCall) async throws(WorkRecordError) -> RecordOutcome {
        let result = await withCheckedContinuation { continuation in
            submit(call) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Verifies the record against its audit chain and what was kept outside it (`AuditVerifier`),
    /// in one consistent read.
    public func verify(_ evidence: AuditVerifier.Evidence = AuditVerifier.Evidence()) async throws -> AuditVerifier.Report {
        try await exclusive(writing: false) { transaction, backend in
            try await AuditVerifier.verify(transaction, backend: backend, evidence: evidence)
        }
    }

    /// Opens the record at `location` as it is (a SQLite file read-only), verifies it against
    /// `evidence` and closes it: what `floorgate verify` does.
    public static func verify(_ location: RecordLocation, _ evidence: AuditVerifier.Evidence = AuditVerifier.Evidence()) async throws -> AuditVerifier.Report {
        let store = try await RecordStore.open(location, readOnly: true)
        do {
            let report = try await store.verify(evidence)
            try await store.close()
            return report
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// The audit chain's newest entry, as an anchor to keep outside the record; nil while the chain is empty.
    public func anchor() async throws -> AuditAnchor? {
        try await exclusive(writing: false) { transaction, _ in
            try await AuditChain.newest(transaction).map { AuditAnchor(seq: $0.seq, hash: $0.hash, at: $0.at) }
        }
    }

    /// Runs `body` in one transaction of its own, in the writer's turn after the calls queued
    /// before it: work on the record as a whole. A `writing` body's writes commit together or
    /// not at all.
    func exclusive<T: Sendable>(
        writing: Bool, _ body: @escaping @Sendable (any RecordTransaction, any RecordBackend) async throws -> T
    ) async throws -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, any Error>, Never>) in
            enqueue(.exclusive(
                run: { backend in
                    do {
                        let value = try await backend.transaction(writing: writing) { transaction in
                            // Work on the whole record may change any build: they are reread after it.
                            defer { transaction.memory?.forgetBuilds() }
                            return (try await body(transaction, backend), [])
                        }
                        continuation.resume(returning: .success(value))
                    } catch {
                        continuation.resume(returning: .failure(error))
                    }
                },
                refused: { continuation.resume(returning: .failure(WorkRecordError(.internalError, "the record is closing"))) }))
        }
        return try result.get()
    }

    /// Waits for queued requests to finish, then closes the backend. Requests submitted after
    /// this are refused.
    public func close() async throws {
        let drain = state.withLock { state -> Task<Void, Never>? in
            state.closed = true
            return state.drain
        }
        await drain?.value
        try await backend.close()
    }

    private func enqueue(_ job: Job) {
        let accepted = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.jobs.append(job)
            if state.drain == nil {
                state.drain = Task(executorPreference: backend.writerExecutor) { await self.drain() }
            }
            return true
        }
        guard !accepted else { return }
        switch job {
        case .call(_, let completion):
            completion(.failure(WorkRecordError(.internalError, "the record is closing")))
        case .exclusive(_, let refused):
            refused()
        }
    }

    private func drain() async {
        while true {
            let jobs = state.withLock { state -> [Job] in
                let jobs = state.jobs
                state.jobs.removeAll(keepingCapacity: true)
                if jobs.isEmpty { state.drain = nil }
                return jobs
            }
            if jobs.isEmpty { return }
            var calls: [(RecordCall, @Sendable (Result<RecordOutcome, WorkRecordError>) -> Void)] = []
            for job in jobs {
                switch job {
                case .call(let call, let completion):
                    calls.append((call, completion))
                case .exclusive(let work, _):
                    await run(calls)
                    calls.removeAll()
                    await work(backend)
                }
            }
            await run(calls)
        }
    }

    private func run(_ calls: [(call: RecordCall, completion: @Sendable (Result<RecordOutcome, WorkRecordError>) -> Void)]) async {
        guard !calls.isEmpty else { return }
        let writing = calls.contains { $0.call.method.isWrite }
        var results: [Result<RecordOutcome, WorkRecordError>]
        let started = ContinuousClock.now
        defer { RecordMetrics.commit.record(since: started) }
        do {
            results = try await backend.transaction(writing: writing) { transaction in
                var results: [Result<RecordOutcome, WorkRecordError>] = []
                results.reserveCapacity(calls.count)
                for (call, _) in calls {
                    var outcome: Result<RecordOutcome, WorkRecordError> = .failure(WorkRecordError(.internalError, "not run"))
                    try await transaction.savepoint("request") {
                        do throws(WorkRecordError) {
                            outcome = .success(try await service.execute(transaction, call))
                            return true
                        } catch {
                            outcome = .failure(error)
                            return error.keepsWrites
                        }
                    }
                    results.append(outcome)
                }
                return (results, results.flatMap { (try? $0.get().notifications) ?? [] })
            }
        } catch {
            service.forgetDecodedInstructions()
            let failure = Self.failure(error)
            results = Array(repeating: .failure(failure), count: calls.count)
        }
        for (call, result) in zip(calls, results) {
            call.completion(result)
        }
    }

    /// What every request of a transaction that could not commit is answered.
    private static func failure(_ error: any Error) -> WorkRecordError {
        if let error = error as? RecordStoreError, error.kind == .unreachable {
            return WorkRecordError(.internalError, "record database unreachable: \(error.message)")
        }
        return WorkRecordError(.internalError, "the record could not commit: \(error)")
    }
}
