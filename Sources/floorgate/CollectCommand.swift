import ArgumentParser
import DeviceIO
import FloorgateCore
import Foundation
import Gateway
import Logging
import Synchronization

/// `floorgate collect open-protocol`: tightening results from a controller into a SQLite file.
struct CollectCommand: AsyncParsableCommand, PrintsJSON {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "Collect a controller's results into a SQLite journal, acknowledging each after it is stored.",
        discussion: """
            open-protocol: connects to an Open Protocol tightening controller, starts a session, \
            subscribes to tightening results and stores each one durably (SQLite, WAL, \
            synchronous=FULL) before acknowledging it with MID 0062, so a result is never lost and \
            never stored twice, even if this process is killed. Reconnects with backoff; asks the \
            controller for results a disconnection skipped. Each newly stored result is printed \
            as a JSON line; the session's state changes are logged on standard error. An \
            unreadable result frame is stored as raw bytes (an error event) and acknowledged.

            Examples:
              floorgate collect open-protocol --controller 10.0.4.21:4545 --database results.sqlite
              floorgate collect open-protocol --controller 127.0.0.1:4545 --database /tmp/r.sqlite --stop-after 100
            """
    )

    @Argument(help: ArgumentHelp("The protocol: open-protocol.", valueName: "protocol"))
    var device: String

    @Option(help: ArgumentHelp("The controller's address.", valueName: "host:port"))
    var controller: String

    @Option(help: ArgumentHelp("The SQLite journal to store results in (created if missing).", valueName: "path"))
    var database: String

    @Option(help: "Exit once the journal holds this many results.")
    var stopAfter: Int?

    @Option(help: "Seconds without sending before a keep-alive.")
    var keepAlive: Double = 10

    @Option(help: "Seconds without hearing from the controller before the link counts as lost.")
    var linkTimeout: Double = 15

    @OptionGroup var output: JSONOutput

    @OptionGroup var log: LogOptions

    func run() async throws {
        log.apply()
        guard device == "open-protocol" else {
            throw ValidationError("collect: '\(device)' is not supported; valid: open-protocol")
        }
        let parts = controller.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]), (1...65535).contains(port) else {
            throw ValidationError("--controller: '\(controller)' is not HOST:PORT (e.g. 10.0.4.21:4545)")
        }
        guard (0.05...3600).contains(keepAlive), (0.1...3600).contains(linkTimeout), linkTimeout > keepAlive else {
            throw ValidationError("--keep-alive (0.05–3600 s) must be shorter than --link-timeout (0.1–3600 s)")
        }
        let outbox: Outbox
        do {
            outbox = try Outbox(path: database)
        } catch {
            throw CommandFailure("cannot open the journal '\(database)': \(error)")
        }
        let normalizer = Normalizer(
            source: OpenProtocolClient.source(controller: controller), kind: .torque, profileName: "open-protocol",
            unit: nil, resolution: nil, deviceSerial: nil
        )
        var configuration = OpenProtocolClient.Configuration(host: String(parts[0]), port: port)
        configuration.keepAliveInterval = .milliseconds(Int64(keepAlive * 1000))
        configuration.linkTimeout = .milliseconds(Int64(linkTimeout * 1000))
        let stopAfter = stopAfter
        let stored = Mutex(try outbox.count())
        if let stopAfter, stored.withLock({ $0 }) >= stopAfter { return }
        let client = OpenProtocolClient(
            configuration: configuration, sink: OutboxSink(outbox: outbox, normalizer: normalizer), history: outbox, logger: Logger(label: "floorgate.collect")
        ) { event, receipt in
            guard !receipt.wasAlreadyStored else { return false }
            print(event.jsonLine)
            fflush(nil)
            let total = stored.withLock { count in
                count += 1
                return count
            }
            return stopAfter.map { total >= $0 } ?? false
        }
        do {
            try await client.run()
        } catch {
            await outbox.close()
            throw error
        }
        await outbox.close()  // the commit times it holds
    }
}
