import CoreMetrics
import DeviceIO
import FloorgateCore
import Foundation
public import Logging
import RecordProtocol
public import ServiceLifecycle

/// The gateway of one station as a service: a supervisor per serial or HID device and a client per
/// network controller feed the outbox; the drainer delivers the outbox to the record through
/// the station; the station follows the record's notifications.
///
/// On graceful shutdown (SIGTERM, SIGINT) the devices stop first, then the drainer gets
/// `shutdownGrace` to deliver what the outbox holds; whatever is left stays in the outbox
/// file and is delivered at the next start.
public struct GatewayRuntime: Service {
    public let configuration: StationConfiguration
    public var shutdownGrace: Duration = .seconds(5)
    /// Whether the host's clock is synchronized, read at start and every minute.
    public var clockWatch = ClockWatch()
    /// How often the outbox's depth is read for the metrics; nil where none are served.
    public var outboxDepthInterval: Duration?
    private let outbox: Outbox
    private let logger: Logger
    private let view: @Sendable (StationEvent) -> Void
    private let ready: @Sendable () -> Void

    /// Opens the station's outbox: before anything listens or reads a device, so that a gateway
    /// that cannot keep what its devices send says so at once, naming the file and the key.
    public static func openOutbox(_ configuration: StationConfiguration, logger: Logger) throws(OutboxOpenError) -> Outbox {
        do {
            return try Outbox(path: configuration.outboxPath, logger: logger)
        } catch {
            throw OutboxOpenError(path: configuration.outboxPath, reason: "\(error)")
        }
    }

    /// `outbox` is the station's (`openOutbox`); the runtime closes it when it stops. `view`
    /// sees every station event (the terminal view, the station page); `ready` is called once the
    /// devices are starting.
    public init(
        configuration: StationConfiguration, outbox: Outbox, logger: Logger,
        ready: @escaping @Sendable () -> Void = {}, view: @escaping @Sendable (StationEvent) -> Void
    ) {
        self.configuration = configuration
        self.outbox = outbox
        self.logger = logger
        self.ready = ready
        self.view = view
    }

    public func run() async throws {
        let outbox = outbox
        let pragmas = try outbox.pragmas()
        logger.info("outbox open", metadata: [
            "path": "\(configuration.outboxPath)", "journal_mode": "\(pragmas.journalMode)", "synchronous": "\(pragmas.synchronous)",
        ])
        let record = RecordClient(socketPath: configuration.recordSocket, followsNotifications: true, logger: logger)
        let identity = Station.Identity(
            station: configuration.station, operatorLogin: configuration.operatorLogin, serialPattern: configuration.serialPattern
        )
        let logger = logger
        let station = Station(identity: identity, record: record, logger: logger, openBuildID: try await outbox.openBuildID()) { buildID in
            await outbox.rememberOpenBuild(buildID)
        }
        let drainer = OutboxDrainer(outbox: outbox, station: station, logger: logger)
        let clockWatch = clockWatch
        let calibrationWatch = CalibrationWatch(configuration)
        let status = StationStatus(station: configuration.station, deviceNames: configuration.devices.map(\.name))
        let statusSocket = StatusSocket(
            path: configuration.statusSocket, status: status, outbox: outbox,
            record: RecordClient(socketPath: configuration.recordSocket, answerTimeout: .seconds(2), logger: logger))
        await withTaskGroup(of: Void.self) { background in
            background.addTask {
                for await event in station.events {
                    status.apply(event)
                    view(event)
                }
            }
            background.addTask { await statusSocket.run(logger: logger) }
            background.addTask { await station.follow(record.notifications) }
            ready()
            await cancelWhenGracefulShutdown {
                await withTaskGroup(of: Void.self) { running in
                    running.addTask { await drainer.run() }
                    running.addTask { await clockWatch.run(logger: logger) { await station.clockChanged($0) } }
                    running.addTask { await calibrationWatch.run(record: record, station: station, logger: logger) }
                    if let interval = outboxDepthInterval {
                        running.addTask { await Self.publishOutboxDepth(outbox, every: interval) }
                    }
                    for device in configuration.devices {
                        running.addTask { await runDevice(device, outbox: outbox, station: station) }
                    }
                }
            }
            logger.info("stopping: delivering what the outbox holds", metadata: ["grace": "\(shutdownGrace)"])
            let deadline = ContinuousClock.now + shutdownGrace
            let unwritten = await outbox.flush(before: deadline)
            if unwritten > 0 { logger.critical("results read but not committed at shutdown", metadata: ["results": "\(unwritten)"]) }
            let left = await drainer.deliverPending(before: deadline)
            await outbox.close()
            logger.info("stopped", metadata: ["left_in_outbox": "\(left)"])
            background.cancelAll()
        }
    }

    /// Sets the outbox gauges every `interval` until cancelled.
    private static func publishOutboxDepth(_ outbox: Outbox, every interval: Duration) async {
        while !Task.isCancelled {
            if let (count, oldest) = try? await outbox.pendingSummary() {
                GatewayMetrics.outboxPending.record(count)
                GatewayMetrics.oldestPending.record(oldest.map { max(0, Date().timeIntervalSince($0)) } ?? 0)
            }
            try? await Task.sleep(for: interval)
        }
    }

    private func runDevice(_ device: StationConfiguration.Device, outbox: Outbox, station: Station) async {
        var deviceLogger = logger
        deviceLogger[metadataKey: "device"] = "\(device.name)"
        let logger = deviceLogger
        let normalizer = Normalizer(source: device.name, profile: device.profile, deviceSerial: device.serial)
        switch (device.connection, device.profile.transport) {
        case (.node(let node), .serial), (.node(let node), .hidraw), (.node(let node), .usb):
            let supervisor = DeviceSupervisor(device: NodeStationDevice(name: device.name, profile: device.profile, node: node), logger: logger)
            let gate = CommitGate()
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await status in supervisor.statuses { await station.deviceChanged(name: device.name, status: status) }
                }
                await supervisor.run {
                    DeviceReadingHandler(normalizer: normalizer, outbox: outbox, gate: gate, logger: logger)
                }
            }
        case (.network(let host, let port), _):
            var configuration = OpenProtocolClient.Configuration(host: host, port: port)
            configuration.source = device.name
            configuration.toolNumber = device.toolNumber
            // A commanded tool follows the open build's active step (ToolOrderRule).
            let orders = device.commands ? ToolOrders() : nil
            if let orders {
                await station.command(tool: device.name, profile: device.profile.name, unit: device.profile.unit, orders: orders)
            }
            // Connected once a session is established, not when a connection merely opens.
            let client = OpenProtocolClient(
                configuration: configuration,
                sink: OutboxSink(outbox: outbox, normalizer: normalizer), history: outbox, orders: orders, logger: logger,
                onLink: { status in await station.deviceChanged(name: device.name, status: status) },
                onToolState: { state in await station.toolChanged(name: device.name, state: state) }
            ) { _, _ in false }
            do {
                try await client.run()
            } catch {
                logger.error("controller session ended", metadata: ["reason": "\(error)"])
            }
        default:
            logger.error("the device's connection does not fit its profile's transport")
        }
    }
}

/// Why the gateway does not start: its outbox cannot be opened.
public struct OutboxOpenError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String

    public var description: String {
        "the outbox \(path) (station.toml `outbox`) cannot be opened: \(reason); its directory must exist and be writable by the gateway's user"
    }
}
