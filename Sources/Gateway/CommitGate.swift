import Synchronization

/// How far one device is read ahead of its commits: at most `depth` of its results wait for the
/// outbox's commit; beyond that its channel reads no further (the kernel keeps the bytes) until
/// commits catch up. What is read but not yet committed is what a crash can lose.
///
/// The device's channel counts each result it queues (`queued()`) and asks before each read
/// (`mayRead(orResume:)`); the outbox's writer counts each commit (`committed()`), and wakes a
/// held channel once fewer than `depth` wait.
public final class CommitGate: Sendable {
    private struct State {
        var waiting = 0
        var resume: (@Sendable () -> Void)?
    }

    /// Results that may wait for their commit before reading stops.
    public let depth: Int
    private let state = Mutex(State())

    public init(depth: Int = 8) {
        self.depth = depth
    }

    /// Results queued and not yet committed.
    public var waiting: Int { state.withLock { $0.waiting } }

    /// A result was queued for the outbox.
    func queued() {
        state.withLock { $0.waiting += 1 }
    }

    /// True when the channel may read now; otherwise `resume` is called once, when it may.
    func mayRead(orResume resume: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            guard state.waiting >= depth else { return true }
            state.resume = resume
            return false
        }
    }

    /// A result queued through this gate is committed.
    func committed() {
        let resume: (@Sendable () -> Void)? = state.withLock { state in
            state.waiting -= 1
            guard state.waiting < depth, let resume = state.resume else { return nil }
            state.resume = nil
            return resume
        }
        resume?()
    }
}
