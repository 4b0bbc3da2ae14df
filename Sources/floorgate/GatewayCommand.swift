import ArgumentParser
import DeviceIO
import FloorgateCore
import Foundation
import Gateway
import RecordProtocol
import Logging
import MetricsEndpoint
import NIOCore
import ServiceLifecycle
import StationPage
import UnixSignals
import WorkRecord

/// `floorgate gateway --config station.toml`: the station's gateway.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Run a station's gateway: devices in, results durably to the work-order record.",
        discussion: """
            Reads the station configuration (docs/station.md), opens every device with its \
            profile, stores each result in the station's outbox (SQLite, committed before \
            anything else happens to it) and delivers the outbox to the record in order. A \
            scan of a unit serial opens that unit's build; gauge and torque results go to the \
            active step. A device unplugged is reopened when it is back; while the record is \
            down, results wait in the outbox and are delivered, once each, when it is back.

            Standard output shows what happens, one line per event (devices, build, step, each \
            result with its verdict). The operator's station page is served on \
            http://127.0.0.1:8480/ unless station.toml's [page] says otherwise (beyond loopback \
            it is served over TLS and operators log in); its address is printed once it listens. \
            SIGTERM or SIGINT stops the devices, gives the outbox a few seconds to drain and \
            exits 0; what is left is delivered at the next start.

            Examples:
              floorgate gateway --config /etc/floorgate/station.toml
              floorgate gateway --config station.toml --quiet
            """
    )

    @Option(help: ArgumentHelp("The station configuration.", valueName: "file"))
    var config: String

    @Flag(help: "Do not print station events (logs still go to standard error).")
    var quiet = false

    @OptionGroup var log: LogOptions

    func run() async throws {
        log.apply()
        // One event loop reads every device (a few thousand frames a second at most) and serves
        // the page; one thread takes blocking calls. Each thread more is memory the station PC's
        // browser could use.
        NIOSingletons.groupLoopCountSuggestion = 1
        NIOSingletons.blockingPoolThreadCountSuggestion = 1
        let station: StationConfiguration
        do {
            station = try StationConfiguration.load(file: config)
        } catch {
            throw CommandFailure("\(error)", exitCode: FloorgateExit.badUsage)
        }
        let logger = Logger(label: "floorgate.gateway")
        if station.metrics != nil { MetricsEndpoint.bootstrap() }  // before any metric is made
        // Before anything listens or reads a device.
        let pageTLS: PageTLS?
        do {
            pageTLS = try station.page?.tls.map(PageTLS.load)
        } catch {
            throw CommandFailure("\(config): \(error)", exitCode: FloorgateExit.badUsage)
        }
        let outbox: Outbox
        do {
            outbox = try GatewayRuntime.openOutbox(station, logger: logger)
        } catch {
            throw CommandFailure("\(config): \(error)")
        }
        let manager = ServiceManager(environment: ProcessInfo.processInfo.environment)
        let quiet = quiet
        // The page's board follows the station's events only when there is a page to show them.
        let board = station.page.map { _ in StationBoard(station: station.station, operatorLogin: station.operatorLogin, deviceNames: station.devices.map(\.name)) }
        var runtime = GatewayRuntime(
            configuration: station, outbox: outbox, logger: logger,
            ready: {
                manager.ready(status: "\(station.devices.count) devices, record \(station.recordSocket)")
                if !quiet { Self.show("gateway       \(station.station) ready: \(station.devices.count) devices, outbox \(station.outboxPath)") }
            },
            view: { event in
                board?.post(event)
                if !quiet { Self.show(event.line) }
            }
        )
        if station.metrics != nil { runtime.outboxDepthInterval = .seconds(5) }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: runtime)]
        if let metrics = station.metrics {
            services.append(.init(service: MetricsEndpoint(host: metrics.address, port: metrics.port, logger: logger) { port in
                Self.show("metrics       http://\(metrics.address):\(port)/metrics")
            }))
        }
        if let page = station.page, let board {
            var context = StationPageServer.Context(
                board: board, record: RecordClient(socketPath: station.recordSocket, logger: logger),
                profiles: ProfileLoader.loadDirectory(station.profilesDirectory).profiles, historyPage: DeviceHistoryPage.html)
            context.tls = pageTLS
            let service = StationPageService(context: context, address: page.address, port: page.port, logger: logger) { reason in
                Self.show("page          station page unavailable (the gateway goes on without it): \(reason)")
            } onRunning: { port in
                Self.show("page          station page \(page.tls == nil ? "http" : "https")://\(page.address):\(port)/\(page.requiresLogin ? " (operators log in)" : "")")
            }
            services.append(.init(service: service))
        }
        if let interval = ServiceManager.watchdogInterval(environment: ProcessInfo.processInfo.environment) {
            services.append(.init(service: WatchdogService(manager: manager, interval: interval)))
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
        ))
        try await group.run()
        manager.stopping()
    }

    private static func show(_ line: String) {
        let time = Date.now.formatted(.iso8601.time(includingFractionalSeconds: false).timeSeparator(.colon))
        print("\(time)  \(line)")
        fflush(nil)
    }
}

/// Tells systemd the gateway is alive, at half its watchdog interval.
struct WatchdogService: Service {
    let manager: ServiceManager
    let interval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                manager.watchdog()
                try? await Task.sleep(for: interval)
            }
        }
    }
}
