import NIOCore

/// Runs tasks on one NIO event loop: the PostgreSQL writer's statements, their answers and the
/// rules between them then stay on the thread that owns the connection, instead of crossing
/// threads twice for every statement (which cost more CPU than the statements themselves).
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: the event loop is immutable and thread-safe.
    private let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        eventLoop.execute { job.runSynchronously(on: executor) }
    }
}
