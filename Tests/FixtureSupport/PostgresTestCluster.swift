import Foundation
public import LocalPostgres

/// The tests' PostgreSQL: one cluster per test process, each test taking a database of its own
/// on it (`createDatabase`); a test that needs a second server starts one of its own (`start`).
public typealias PostgresTestCluster = LocalPostgresCluster

extension LocalPostgresCluster {
    private static let started = Result { try LocalPostgresCluster.start() }

    /// The test process's cluster, started on first use. The start (initdb, pg_ctl: seconds) runs
    /// off the cooperative pool, as does every wait for it.
    public static func shared() async throws -> LocalPostgresCluster {
        try await offThePool { try started.get() }
    }

    /// A cluster of the test's own (a second server: a standby, a primary to crash), started off
    /// the cooperative pool.
    public static func startOwn() async throws -> LocalPostgresCluster {
        try await offThePool { try LocalPostgresCluster.start() }
    }

    /// `psql` run off the cooperative pool; in an async test the compiler picks this one.
    @discardableResult
    public func psql(_ database: String, _ sql: String, role: String? = nil) async throws -> String {
        try await offThePool { try self.psql(database, sql, role: role) }
    }

    /// `startSynchronousStandby(named:)` run off the cooperative pool (it starts a cluster and
    /// waits for it to stream).
    public func startSynchronousStandby(named name: String) async throws -> LocalPostgresCluster {
        try await offThePool { try self.startSynchronousStandby(named: name) }
    }
}
