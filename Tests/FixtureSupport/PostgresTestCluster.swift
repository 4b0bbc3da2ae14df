public import LocalPostgres

/// The tests' PostgreSQL: one cluster per test process, each test taking a database of its own
/// on it (`createDatabase`); a test that needs a second server starts one of its own (`start`).
public typealias PostgresTestCluster = LocalPostgresCluster

extension LocalPostgresCluster {
    private static let started = Result { try LocalPostgresCluster.start() }

    /// The test process's cluster, started on first use.
    public static func shared() throws -> LocalPostgresCluster { try started.get() }
}
