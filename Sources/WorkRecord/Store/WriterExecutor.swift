import Dispatch
import RecordProtocol

/// The thread a SQLite record's writer runs on: a serial queue of its own, so the writer never
/// waits for a thread of the shared cooperative pool and a transaction's statements run one after
/// another on one thread (GRDB's own calls block it while SQLite works).
final class WriterExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: the queue is immutable and DispatchQueue is thread-safe.
    private let queue = DispatchQueue(label: "floorgate.record.writer")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
