import Foundation

/// Runs blocking `work` (a child process run to its end, a socket read, initdb) on a thread of its
/// own and waits for it without holding a thread of Swift's cooperative pool.
///
/// Every test of the process shares that pool, and it has one thread per core: two here. A test
/// that blocks on it for seconds stalls every other test for as long — a controller played by a
/// test then falls silent and its collector rightly drops the link.
public func offThePool<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}
