import CoreMetrics

/// The gateway's metrics (docs/operations.md lists them), counted through swift-metrics: served
/// on `/metrics` where station.toml has a `[metrics]` table, no-ops otherwise.
enum GatewayMetrics {
    static let committed = Counter(label: "floorgate_results_committed_total")
    static let delivered = Counter(label: "floorgate_results_delivered_total")
    static let unbound = Counter(label: "floorgate_results_unbound_total")
    /// From the device's bytes read to the result's commit in the outbox.
    static let readToCommit = Timer(label: "floorgate_read_to_commit_seconds")
    /// From the outbox's commit to the record's answer.
    static let commitToDelivered = Timer(label: "floorgate_commit_to_delivered_seconds")
    /// One outbox transaction, fsync included.
    static let outboxCommit = Timer(label: "floorgate_outbox_commit_seconds")
    static let outboxPending = Gauge(label: "floorgate_outbox_pending")
    static let oldestPending = Gauge(label: "floorgate_outbox_oldest_pending_seconds")
    /// 1 while the host's clock is synchronized, 0 while it is not (read every minute).
    static let clockSynchronized = Gauge(label: "floorgate_clock_synchronized")
    /// The record answered again after it could not be reached.
    static let recordReconnects = Counter(label: "floorgate_record_reconnects_total")

    /// How many of the station's devices are in `state` (connected, lost, not_opened).
    static func devices(_ state: String) -> Gauge {
        Gauge(label: "floorgate_devices", dimensions: [("state", state)])
    }
}
