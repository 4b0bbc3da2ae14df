import CoreMetrics
import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore
import Prometheus
public import ServiceLifecycle

/// The process's metrics in Prometheus's text format on `GET /metrics`, on a listener of their own
/// (`[metrics]` in station.toml, `record serve --metrics`): never on the station page's. The
/// gateway's and the record's code count through swift-metrics; this gives the counts a
/// Prometheus registry and serves them. Off unless configured: without it every metric is a no-op.
public struct MetricsEndpoint: Service {
    /// The registry every metric of this process goes to, once `bootstrap` ran.
    private static let registry = PrometheusCollectorRegistry()

    let host: String
    let port: Int
    let logger: Logger
    let onRunning: @Sendable (Int) async -> Void

    /// Points swift-metrics at the registry; once per process, before any metric is made.
    public static func bootstrap() {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Latencies from a fraction of a millisecond (a commit) to seconds (a record down).
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .seconds(2.5), .seconds(5), .seconds(10),
        ]
        MetricsSystem.bootstrap(factory)
    }

    /// Serves on `host:port` (0: any free port; `onRunning` gets the port).
    public init(host: String, port: Int, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.host = host
        self.port = port
        self.logger = logger
        self.onRunning = onRunning
    }

    public func run() async throws {
        let router = Router()
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: Self.registry.emitToBuffer())))
        }
        let port = port, onRunning = onRunning
        let application = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "floorgate-metrics"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
        try await application.run()  // a service of the caller's group, which handles the signals
    }
}
