import Foundation
public import LocalPostgres

/// The tests' PostgreSQL: one cluster per test process, each test taking a database of its own
/// on it (`createDatabase`); a test that needs a second server starts one of its own (`start`).
public typealias PostgresTestCluster = LocalPostgresCluster

extension LocalPostgresCluster {
    private static let started = Result { try LocalPostgresCluster.start() }

    /// The test process's cluster, started on first use. The start (initdb, pg_ctl: seconds) runs
    /// on a thread of its own, as does every wait for it: on the two threads of Swift's
    /// cooperative pool it would stall every other test for that long.
    public static func shared() async throws -> LocalPostgresCluster {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: started) }
        }
    }
}
