import DeviceIO
import FloorgateCore
import Foundation
import Gateway
import Logging
import NIOCore
import NIOPosix
import Synchronization
import RecordProtocol
import Testing
import WorkRecord

/// A station under test, all real: a record on a Unix socket (SQLite file), the gateway's
/// runtime with its outbox file, and devices on pseudo-terminals.
final class StationHarness: @unchecked Sendable {
    let directory: String
    let scanner: PseudoTerminal
    let caliper: PseudoTerminal
    private var record: (server: RecordServer, store: RecordStore, group: MultiThreadedEventLoopGroup)?
    private var gateway: Task<Void, any Error>?
    let events = EventLog()

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    var socketPath: String { directory + "/record.sock" }
    var outboxPath: String { directory + "/outbox.sqlite" }
    var recordPath: String { directory + "/record.sqlite" }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("floorgate-station-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        scanner = try PseudoTerminal()
        caliper = try PseudoTerminal()
    }

    deinit {
        gateway?.cancel()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The example record (examples/record-import.json) with revision A approved, written to the
    /// file before anything listens, so the gateway never sees a half-prepared record.
    func prepareRecord() async throws {
        let store = try await RecordStore.open(.sqlite(path: recordPath), passwordRounds: 1_000)
        let example = try JSONValue(parsing: try Data(contentsOf: Self.repository.appendingPathComponent("examples/record-import.json")))
        for (method, params) in [
            (RecordMethod.recordImport, example),
            (.instructionApprove, ["part": "HX-200", "part_revision": "C", "operation": "010", "revision": "A",
                                     "signature": ["user": "ada", "password": "bench-ada-1"]] as JSONValue),
        ] {
            var members: [String: JSONValue] = [:]
            if case .object(let given) = params { members = given }
            members["idempotency_key"] = .string(UUIDv7.make())
            _ = try await store.perform(RecordCall(method: method, params: .object(members), peer: "test"))
        }
        try await store.close()
    }

    /// Serves the record file on the socket.
    func startRecord() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var logger = Logger(label: "record")
        logger.logLevel = .warning
        // The page's own limits are under test here; the record's pacing of wrong passwords has its own tests.
        var options = RecordServer.Options(socketPath: socketPath)
        options.signaturePacing = .off
        let (server, store) = try await RecordServer.start(.sqlite(path: recordPath), options: options, passwordRounds: 1_000, group: group, logger: logger)
        record = (server, store, group)
    }

    func stopRecord() async throws {
        guard let record else { return }
        try await record.server.close()
        try await record.group.shutdownGracefully()
        try await record.store.close()
        self.record = nil
    }

    var configurationText: String {
        """
        station = "bench-3"
        operator = "olga"
        record_socket = "record.sock"
        outbox = "outbox.sqlite"
        profiles = "\(Self.repository.appendingPathComponent("devices").path)"
        serial_pattern = "regex:^SN-[0-9]{4}$"

        [[device]]
        name = "scanner"
        profile = "serial-scanner-usb-adapter"
        path = "\(scanner.path)"

        [[device]]
        name = "caliper"
        profile = "mitutoyo-dp1va-rs232"
        path = "\(caliper.path)"
        serial = "CAL-7"
        """
    }

    /// Runs the gateway; `view` also sees each station event (the station page's board).
    func startGateway(view: @escaping @Sendable (StationEvent) -> Void = { _ in }) throws {
        let configuration = try StationConfiguration.parse(configurationText, file: "station.toml", relativeTo: directory)
        var logger = Logger(label: "gateway")
        logger.logLevel = .critical
        let events = events
        let outbox = try GatewayRuntime.openOutbox(configuration, logger: logger)
        let runtime = GatewayRuntime(configuration: configuration, outbox: outbox, logger: logger) { event in
            events.append(event)
            view(event)
        }
        gateway = Task { try await runtime.run() }
    }

    func stopGateway() async {
        gateway?.cancel()
        _ = await gateway?.result
        gateway = nil
    }

    /// A new client of the station's record.
    func client() -> RecordClient { RecordClient(socketPath: socketPath, answerTimeout: .seconds(30)) }

    /// Waits until `condition` holds, checking every 20 ms for up to `timeout`.
    func eventually(_ what: String, timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting for \(what)")
        throw CancellationError()
    }

    func build(_ serial: String = "SN-0001") async throws -> JSONValue {
        try await client().call(.buildGet, ["serial": .string(serial)])
    }

    func outboxEntries() async throws -> [Outbox.Entry] {
        try await Outbox(path: outboxPath).all()
    }
}

/// The station events a runtime showed.
final class EventLog: Sendable {
    private let events = Mutex<[StationEvent]>([])
    func append(_ event: StationEvent) { events.withLock { $0.append(event) } }
    var all: [StationEvent] { events.withLock { $0 } }
}
