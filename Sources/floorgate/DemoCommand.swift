import ArgumentParser
import FloorgateCore
import Foundation
import LocalPostgres
import RecordProtocol
import Synchronization
import UnixSignals
import WorkRecord

/// `floorgate demo`: a whole station on its embedded defaults.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a demo station: a record, a gateway and four simulated devices build one unit.",
        discussion: """
            Starts a work-order record (SQLite) and imports a part, an instruction and a work \
            order; starts four simulated devices, each its own process (a serial barcode \
            scanner, a Mitutoyo caliper and a Norbar torque tester on pseudo-terminals, an Open \
            Protocol nutrunner controller on loopback TCP) and the gateway with a station \
            configuration naming them. Then plays a build of SN-0001: the serial scanned opens \
            the build on the approved revision; the caliper's readings land in the active step \
            (one out of limits raises a nonconformance, which quality dispositions for rework); \
            a label scan fills the next step; an engineer's redline arrives mid-build and the \
            operator acknowledges it; the nutrunner's results are acknowledged to it only after \
            the gateway committed them; the torque tester audits one screw; quality closes the \
            build, and the device history record is exported as JSON and HTML.

            The gateway's live view (devices, build, steps, each reading and its verdict) is \
            shown as it happens, and the operator's station page is served: open the address \
            the demo prints (http://127.0.0.1:8480/ by default) to watch the build in a browser. \
            With --operator-on-page the demo waits for the page to be opened before the scan, \
            and leaves the redline for the operator to read and sign there (user olga, \
            password bench-olga-1). The files stay in --dir (record.sqlite, outbox.sqlite, \
            station.toml, the DHR, each process's log).

            With --plant, the demo is a plant of two stations on one record: a throwaway \
            PostgreSQL cluster (needs Debian's postgresql package) with a record server per \
            station. bench-3 assembles the unit as above (operation 010); then the unit moves to \
            bench-7, whose own gateway, scanner and caliper do the final inspection (operation \
            020); the unit's DHR, read through bench-7, holds both.

            The device profiles are the installed ones (/usr/share/floorgate/devices), else \
            those of the source tree this floorgate was built from, unless --profiles names \
            others. SIGTERM or SIGINT stops the demo and every process it started, and exits 0.

            Exit status 0 only if every expected entry is in the exported DHR (or the demo was \
            stopped by a signal).

            Examples:
              floorgate demo
              floorgate demo --script --dir /tmp/floorgate-demo
              floorgate demo --operator-on-page --page-port 8480
              floorgate demo --plant
            """
    )

    @Flag(help: "No pauses for a watching human: run straight through (tests, CI).")
    var script = false

    @Option(help: ArgumentHelp("Keep the station's files here (default: a new temporary directory).", valueName: "path"))
    var dir: String?

    @Option(help: ArgumentHelp("The device profiles (default: the installed ones, else the source tree's).", valueName: "directory"))
    var profiles: String?

    /// The profiles the demo's devices use.
    static let profileNames = ["serial-scanner-usb-adapter", "mitutoyo-dp1va-rs232", "norbar-tst", "atlas-copco-pf6000"]
    /// Where the Debian package puts the shipped profiles.
    static let installedProfiles = "/usr/share/floorgate/devices"
    /// Where the demo looks for them without --profiles: installed (the Debian package's place),
    /// then the source tree this binary was built from.
    static let defaultProfileDirectories = [
        installedProfiles,
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("devices").path,
    ]

    @Option(help: ArgumentHelp("The station page's port on 127.0.0.1 (0: any free port).", valueName: "port"))
    var pagePort = 8480

    @Flag(help: "Wait for the station page to be opened, and leave the redline for the operator to sign there.")
    var operatorOnPage = false

    @Flag(help: "Two stations on one PostgreSQL record (a throwaway cluster): assembly at bench-3, final inspection at bench-7.")
    var plant = false

    @Flag(help: "Serve the gateway's and the record's metrics (Prometheus) on free ports of 127.0.0.1 and print where.")
    var metrics = false

    func validate() throws {
        guard (0...65535).contains(pagePort) else { throw ValidationError("--page-port: \(pagePort) is not a TCP port (0–65535)") }
        guard !(plant && metrics) else { throw ValidationError("--metrics is for the one-station demo; the plant demo serves none") }
    }

    func run() async throws {
        let directory = try prepareDirectory()
        let profilesDirectory = try Self.profilesDirectory(given: profiles)
        if plant && !LocalPostgresCluster.available {
            throw CommandFailure(
                "floorgate demo --plant runs its record on a throwaway PostgreSQL cluster, and PostgreSQL's server is not installed: sudo apt install postgresql (or make deps-postgres)")
        }
        let play = DemoPlay(
            directory: directory, profilesDirectory: profilesDirectory, pause: script ? .zero : .milliseconds(900),
            pagePort: pagePort, operatorOnPage: operatorOnPage, plant: plant, metrics: metrics)
        let ending = await Self.play(play)
        await play.stopAll()
        let missing: [String]
        switch ending {
        case .played(let result):
            missing = try result.get()
        case .stopped(let signal):
            print("\nDemo stopped by \(signal): its processes are stopped (files in \(directory)).")
            return
        }
        guard missing.isEmpty else {
            throw CommandFailure("the DHR lacks: " + missing.joined(separator: "; ") + " (files in \(directory))")
        }
        print("\nThe record verifies: \(try await play.verifyRecord())")
        print("  keys: \(play.keysFile); anchors: \(play.anchorFiles.joined(separator: ", "))")
        print("\nDemo complete: every expected entry is in the device history record.")
        print("  DHR: \(directory)/\(DemoScenario.serial)-dhr.html (and .json)")
        print("  files: \(directory) (\(plant ? "bench-3 and bench-7's outboxes and stations" : "record.sqlite, outbox.sqlite, station.toml"), *.log)")
    }

    /// How the demo ended: played through, or stopped by a signal.
    private enum Ending: Sendable {
        case played(Result<[String], any Error>)
        case stopped(UnixSignal)
    }

    /// Plays the build until it ends or SIGTERM or SIGINT stops it (the play is cancelled; the
    /// caller stops the processes either way).
    private static func play(_ play: DemoPlay) async -> Ending {
        await withTaskGroup(of: Ending?.self) { group in
            group.addTask {
                do {
                    return .played(.success(try await play.run()))
                } catch {
                    return .played(.failure(error))
                }
            }
            group.addTask {
                for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) { return .stopped(signal) }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .played(.failure(CancellationError()))
        }
    }

    /// `given`, or the first default place that holds every profile the demo needs.
    private static func profilesDirectory(given: String?) throws -> String {
        let candidates = given.map { [$0] } ?? defaultProfileDirectories
        for candidate in candidates {
            let directory = URL(fileURLWithPath: candidate).standardizedFileURL.path
            if profileNames.allSatisfy({ FileManager.default.fileExists(atPath: "\(directory)/\($0).toml") }) { return directory }
        }
        let needed = profileNames.map { $0 + ".toml" }.joined(separator: ", ")
        throw CommandFailure(
            "the demo needs the device profiles \(needed) in \(candidates.joined(separator: " or ")); give --profiles DIRECTORY",
            exitCode: FloorgateExit.badUsage)
    }

    private func prepareDirectory() throws -> String {
        let path = dir ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("floorgate-demo-\(getpid())")
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        do {
            try FileManager.default.createDirectory(atPath: absolute, withIntermediateDirectories: true)
        } catch {
            throw CommandFailure("cannot create \(absolute): \(error)", exitCode: FloorgateExit.badUsage)
        }
        let kept = ["record-keys", "record-anchors", "bench-3-record-anchors", "bench-7-record-anchors"]
        for stale in ["record.sqlite", "outbox.sqlite", "record.sock", "bench-3-outbox.sqlite", "bench-7-outbox.sqlite"] + kept {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: "\(absolute)/\(stale)\(suffix)") }
        }
        return absolute
    }
}

/// The demo's processes and the build it plays, step by step.
final class DemoPlay: Sendable {
    let directory: String
    let profilesDirectory: String
    let pause: Duration
    let pagePort: Int
    let operatorOnPage: Bool
    /// Two stations on one PostgreSQL record instead of one station on its SQLite file.
    let plant: Bool
    /// The gateway and the record serve metrics on free ports.
    let metrics: Bool
    private let children = Mutex<[ChildProcess]>([])
    /// The plant demo's database: a throwaway cluster (stopped and removed when the demo exits)
    /// and the record's database on it.
    private let cluster = Mutex<(cluster: LocalPostgresCluster, database: String)?>(nil)
    /// The role the plant demo's record servers connect as.
    private static let serverRole = "floorgate_demo"

    init(directory: String, profilesDirectory: String, pause: Duration, pagePort: Int, operatorOnPage: Bool, plant: Bool = false, metrics: Bool = false) {
        self.directory = directory
        self.profilesDirectory = profilesDirectory
        self.pause = pause
        self.pagePort = pagePort
        self.operatorOnPage = operatorOnPage
        self.plant = plant
        self.metrics = metrics
    }

    /// The assembly station's record socket (the only station's, without --plant).
    private var socket: String { plant ? socket(of: DemoScenario.assembly.station) : "\(directory)/record.sock" }

    private func socket(of station: String) -> String { "\(directory)/\(station).sock" }

    private func start(_ name: String, _ arguments: [String], onLine: @escaping @Sendable (String) -> Void = { _ in }) throws -> ChildProcess {
        let child = try ChildProcess(name: name, arguments: arguments, logFile: "\(directory)/\(name).log", onLine: onLine)
        children.withLock { $0.append(child) }
        return child
    }

    func stopAll() async {
        // The gateway first (it drains its outbox), the devices, the record last.
        for child in children.withLock({ $0.reversed() }) { await child.stop() }
    }

    private func narrate(_ text: String) async throws {
        print("\n▶ \(text)")
        fflush(nil)
        try await Task.sleep(for: pause)
    }

    /// Plays the build; returns what the exported DHR lacks (empty: all there).
    func run() async throws -> [String] {
        let database: String
        if plant {
            print("Floorgate plant demo in \(directory): two stations on one PostgreSQL record")
            database = try await startPlantDatabase()
        } else {
            print("Floorgate demo station in \(directory)")
            database = "\(directory)/record.sqlite"
        }
        let stations = plant ? [DemoScenario.assembly.station, DemoScenario.inspection.station] : [nil]
        let record = try start(
            "record", ["record", "serve", "--db", database, "--socket", socket, "--password-rounds", "1000"] + (metrics ? ["--metrics", "127.0.0.1:0"] : [])
                + (try keeping(for: stations[0])))
        _ = try await record.line(startingWith: "listening on ")
        let recordMetrics = metrics ? try await record.line(startingWith: "metrics on ") : nil
        let client = RecordClient(socketPath: socket)
        _ = try await call(client, .recordImport, DemoScenario.recordImport(plant: plant, pictures: try await putDrawings(client, revisionB: false)))
        try await registerKeys(client, stations: stations)
        for operation in plant ? [DemoScenario.assembly.operation, DemoScenario.inspection.operation] : [DemoScenario.assembly.operation] {
            _ = try await call(client, .instructionApprove, [
                "part": "HX-200", "part_revision": "C", "operation": .string(operation), "revision": "A", "signature": signature("ada", "bench-ada-1"),
            ])
        }
        _ = try await call(client, .recordImport, [
            "calibrations": DemoScenario.calibrations(today: Date()), "signature": signature("quinn", "bench-quinn-1"),
        ])
        print("record: calibration register: CAL-0042, CAL-0077, PF6-0042 and TST-1187 (due in 10 days), signed by Quinn Quality")
        if !plant {
            try await recordHistory(client)
            print("record: \(DemoScenario.History.serials.count) units of \(DemoScenario.History.workOrder) built before this one (the charts' history)")
        }
        print(plant
            ? "record: part HX-200 rev C, instructions 010 (assembly, bench-3) and 020 (final inspection, bench-7) approved, work order WO-1001 released"
            : "record: part HX-200 rev C, instruction 010 revision A approved (Ada Approver), work order WO-1001 released")

        let scanner = try start("scanner", ["simulate", "serial-scanner-usb-adapter", "--profiles", profilesDirectory])
        let caliper = try start("caliper", ["simulate", "mitutoyo-dp1va-rs232", "--profiles", profilesDirectory])
        let tester = try start("torque-tester", ["simulate", "norbar-tst", "--profiles", profilesDirectory])
        let script = "\(directory)/controller-results.txt"
        try DemoScenario.controllerScript.write(toFile: script, atomically: true, encoding: .utf8)
        let programs = "\(directory)/controller-programs.txt"
        try DemoScenario.controllerPrograms.write(toFile: programs, atomically: true, encoding: .utf8)
        let controller = try start("nutrunner", [
            "simulate", "open-protocol", "--port", "0", "--script", script, "--programs", programs, "--triggered", "--rate", "0",
        ])
        let controllerAddress = try await controller.line(startingWith: "listening on ")
        let stationFile = try writeStation(
            plant ? DemoScenario.assembly.station : "bench-3", socket: socket, pagePort: pagePort,
            devices: [
                ("scanner", "serial-scanner-usb-adapter", "path = \"\(try await scanner.line(startingWith: "pty "))\"", nil),
                ("caliper", "mitutoyo-dp1va-rs232", "path = \"\(try await caliper.line(startingWith: "pty "))\"", "CAL-0042"),
                ("torque-tester", "norbar-tst", "path = \"\(try await tester.line(startingWith: "pty "))\"", "TST-1187"),
                ("nutrunner", "atlas-copco-pf6000",
                 "host = \"127.0.0.1\"\nport = \(controllerAddress.split(separator: ":").last.map(String.init) ?? "4545")", "PF6-0042"),
            ])
        let gateway = try start("gateway", ["gateway", "--config", stationFile]) { line in
            print("    \(line)")
            fflush(nil)
        }
        _ = try await gateway.line(startingWith: "", timeout: .seconds(30))
        try await waitFor("the devices to connect") { _ in
            ["scanner", "caliper", "torque-tester", "nutrunner"].allSatisfy { name in
                gateway.hasPrinted { $0.contains("  \(name) ") && $0.contains(" connected ") }
            }
        }
        if let recordMetrics, let gatewayMetrics = try await gateway.line(startingWith: "", containing: "metrics ").split(separator: " ").last {
            print("\nMetrics: gateway \(gatewayMetrics), record \(recordMetrics)")
        }
        let pageLine = try await gateway.line(startingWith: "", containing: "station page ")
        guard let start = pageLine.range(of: "http://")?.lowerBound else {
            if operatorOnPage { throw CommandFailure("demo: \(pageLine.trimmingCharacters(in: .whitespaces)); try another --page-port") }
            print("\nNo station page this time (\(pageLine.trimmingCharacters(in: .whitespaces))); the demo plays on without it.")
            return try await play(client: client, scanner: scanner, caliper: caliper, tester: tester, controller: controller, gateway: gateway)
        }
        let page = String(pageLine[start...])
        print("\nStation page: \(page)  (open it in a browser to watch the build)")
        fflush(nil)
        if operatorOnPage {
            print("Waiting for the station page to be opened; the redline is yours to sign there (user olga, password bench-olga-1).")
            fflush(nil)
            try await waitFor("someone to open the station page at \(page)", timeout: .seconds(600)) { _ in
                (StationPageProbe.state(url: page)?["viewers"]?.integerValue ?? 0) > 0
            }
        }

        return try await play(client: client, scanner: scanner, caliper: caliper, tester: tester, controller: controller, gateway: gateway)
    }

    /// The build itself, once the station is up.
    private func play(
        client: RecordClient, scanner: ChildProcess, caliper: ChildProcess, tester: ChildProcess, controller: ChildProcess, gateway: ChildProcess
    ) async throws -> [String] {
        try await narrate("The operator scans the unit's serial label")
        send(scanner, "]C0\(DemoScenario.serial)")
        let buildID = try await waitForBuild(client) { $0["status"] == "open" }["build_id"] ?? .null

        try await narrate("Step 10: two caliper readings (the second is out of limits)")
        send(caliper, "01A+0012.004")
        send(caliper, "01A+0012.031")
        let build = try await waitForBuild(client) { !($0["open_ncs"]?.arrayValue?.isEmpty ?? true) }
        let ncID = build["open_ncs"]?.arrayValue?.first?["nc_id"] ?? .null

        try await narrate("Quality dispositions the nonconformance: rework; the bore is measured again")
        _ = try await call(client, .ncDisposition, [
            "nc_id": ncID, "disposition": "rework", "comment": "Burr at the bore edge; deburr and measure again.",
            "signature": signature("quinn", "bench-quinn-1"),
        ])
        send(caliper, "01A+0011.998")
        try await completeStep("10", client: client, buildID: buildID)

        try await narrate("Step 20: the operator scans the sensor board's lot label")
        send(scanner, DemoScenario.Board.label())
        try await completeStep("20", client: client, buildID: buildID)

        try await narrate("Engineering drafts a redline: the cover screws need more clamp load (revision B)")
        _ = try await call(client, .redlinePublish, [
            "part": "HX-200", "part_revision": "C", "operation": "010", "new_revision": "B",
            "reason": "ECO-512: new gasket needs more clamp load", "steps": DemoScenario.steps(coverScrewLower: "1.15", pictures: try await putDrawings(client, revisionB: true)),
            "signature": signature("eric", "bench-eric-1"),
        ])
        try await narrate("Ada Approver approves the redline: revision B takes effect and the open build is told")
        let redline = try await call(client, .instructionApprove, [
            "part": "HX-200", "part_revision": "C", "operation": "010", "revision": "B", "signature": signature("ada", "bench-ada-1"),
        ])
        try await waitForBuild(client) { !($0["pending_redline"]?.isNull ?? true) }
        // The redline locks the tool; it is commanded again under revision B once the redline is
        // acknowledged. Any state printed under revision A comes before that lock.
        try await waitFor("the redline to lock the nutrunner") { _ in
            gateway.lastPrinted { $0.contains("nutrunner") && $0.contains(" tool ") }?.contains("redline to revision B") == true
        }
        let beforeAcknowledgement = gateway.printedCount
        if operatorOnPage {
            try await narrate("The operator reads the redline on the station page and signs it")
            try await waitForBuild(client, timeout: .seconds(600)) { $0["pending_redline"]?.isNull ?? false }
        } else {
            try await narrate("The operator reads the redline and acknowledges it")
            _ = try await call(client, .redlineAcknowledge, [
                "build_id": buildID, "redline_id": redline["redline_id"] ?? .null, "signature": signature("olga", "bench-olga-1"),
            ])
        }

        try await narrate("Step 30: the gateway selects program 3, checks it, sets the batch of 2 and enables the nutrunner")
        try await waitFor("the nutrunner to be enabled") { _ in
            gateway.lastPrinted(since: beforeAcknowledgement) { $0.contains("nutrunner") && $0.contains(" tool ") }?.contains("tool ready: program 3") == true
        }
        try await narrate("The nutrunner tightens both cover screws (each result acknowledged after commit); the batch done locks it")
        send(controller, "trigger")
        send(controller, "trigger")
        try await waitFor("the nutrunner's batch to be done") { _ in
            gateway.lastPrinted(since: beforeAcknowledgement) { $0.contains("nutrunner") && $0.contains(" tool ") }?.contains("batch done") == true
        }
        try await completeStep("30", client: client, buildID: buildID)

        try await narrate("Step 40: the torque tester audits one screw")
        send(tester, "   1.22 N.m")
        try await completeStep("40", client: client, buildID: buildID)

        try await narrate("Quality closes the build; the device history record is exported")
        _ = try await call(client, .buildClose, [
            "build_id": buildID, "signature": signature("quinn", "bench-quinn-1", reason: "All results in limits; NC reworked."),
        ])
        guard plant else {
            try await release(client)
            return try await export(client)
        }
        return try await export(try await inspect())
    }

    /// The plant demo's second station: bench-7's gateway, scanner and caliper inspect the unit
    /// (operation 020) through bench-7's own record server; returns a client of that server.
    private func inspect() async throws -> RecordClient {
        let station = DemoScenario.inspection.station
        try await narrate("The unit moves to \(station) for final inspection (operation \(DemoScenario.inspection.operation)), on the same record")
        let record = try start("record-\(station)", [
            "record", "serve", "--db", try plantServerURL(), "--socket", socket(of: station), "--password-rounds", "1000",
        ] + (try keeping(for: station)))
        _ = try await record.line(startingWith: "listening on ")
        let scanner = try start("scanner-\(station)", ["simulate", "serial-scanner-usb-adapter", "--profiles", profilesDirectory])
        let caliper = try start("caliper-\(station)", ["simulate", "mitutoyo-dp1va-rs232", "--profiles", profilesDirectory])
        let stationFile = try writeStation(
            station, socket: socket(of: station), pagePort: 0,
            devices: [
                ("scanner", "serial-scanner-usb-adapter", "path = \"\(try await scanner.line(startingWith: "pty "))\"", nil),
                ("caliper", "mitutoyo-dp1va-rs232", "path = \"\(try await caliper.line(startingWith: "pty "))\"", "CAL-0077"),
            ])
        let gateway = try start("gateway-\(station)", ["gateway", "--config", stationFile]) { line in
            print("    [\(station)] \(line)")
            fflush(nil)
        }
        try await waitFor("\(station)'s devices to connect") { _ in
            ["scanner", "caliper"].allSatisfy { name in gateway.hasPrinted { $0.contains("  \(name) ") && $0.contains(" connected ") } }
        }
        let client = RecordClient(socketPath: socket(of: station))
        let operation = DemoScenario.inspection.operation
        try await narrate("The inspector at \(station) scans the serial: the record opens operation \(operation), this station's")
        send(scanner, "]C0\(DemoScenario.serial)")
        let buildID = try await waitForBuild(client, operation: operation) { $0["status"] == "open" }["build_id"] ?? .null
        try await narrate("The caliper measures the overall length")
        send(caliper, "01A+0086.030")
        try await completeStep("10", client: client, buildID: buildID, operation: operation)
        try await narrate("Quality closes the final inspection")
        _ = try await call(client, .buildClose, [
            "build_id": buildID, "signature": signature("quinn", "bench-quinn-1", reason: "Final inspection passed."),
        ])
        try await release(client)
        return client
    }

    /// The record server's key (each of the plant's servers has one, made here as `record init`
    /// would; the station's SQLite record makes its own beside it) and its anchor file, as
    /// `record serve` options.
    private func keeping(for station: String?) throws -> [String] {
        guard let station else { return ["--anchor-file", anchorFile(of: nil)] }
        do {
            _ = try RecordServerKey.loadOrCreate(path: serverKey(of: station))
        } catch {
            throw CommandFailure("demo: \(error)")
        }
        return ["--key", serverKey(of: station), "--anchor-file", anchorFile(of: station)]
    }

    private func serverKey(of station: String) -> String { "\(directory)/\(station)-record-server.key" }

    private func anchorFile(of station: String?) -> String { "\(directory)/\(station.map { "\($0)-" } ?? "")record-anchors" }

    /// The registered servers' public keys, exported for `verify --keys`.
    var keysFile: String { "\(directory)/record-keys" }

    /// Every anchor file the record servers write.
    var anchorFiles: [String] { plant ? [DemoScenario.assembly.station, DemoScenario.inspection.station].map(anchorFile) : [anchorFile(of: nil)] }

    /// Makes the plant's servers' keys (the station's server made its own), has the admin register
    /// each, and exports the registered keys to `keysFile`, as a site keeps them off the record's host.
    private func registerKeys(_ client: RecordClient, stations: [String?]) async throws {
        for station in stations {
            let key: RecordServerKey
            do {
                // bench-7's server starts later, with the key made here.
                key = try station.map { try RecordServerKey.loadOrCreate(path: serverKey(of: $0)).key }
                    ?? RecordServerKey.load(path: RecordServerKey.defaultPath(sqlite: "\(directory)/record.sqlite"))
            } catch {
                throw CommandFailure("demo: \(error)")
            }
            _ = try await call(client, .serverKeyRegister, [
                "public_key": .string(key.publicKey), "name": .string(station ?? "bench-3"), "signature": signature("sam", "bench-admin-1"),
            ])
        }
        let keys = try await call(client, .serverKeyList, [:])["keys"]?.arrayValue ?? []
        try RecordKeysCommand.Export.keysFile(keys).write(toFile: keysFile, atomically: true, encoding: .utf8)
        print("record: \(keys.count == 1 ? "its server's key" : "\(keys.count) servers' keys") registered by Sam Admin, exported to \(keysFile)")
    }

    /// Verifies the stopped record with the exported keys and the servers' anchors, as an
    /// investigator would; returns the verdict's line.
    func verifyRecord() async throws -> String {
        let location = plant ? try RecordLocation(try plantServerURL()) : .sqlite(path: "\(directory)/record.sqlite")
        var evidence = AuditVerifier.Evidence(keys: try AuditPublicKeys(parsing: try String(contentsOfFile: keysFile, encoding: .utf8), file: keysFile))
        for file in anchorFiles { evidence.anchors += try AuditAnchor.parse(try String(contentsOfFile: file, encoding: .utf8), file: file) }
        let report = try await RecordStore.verify(location, evidence)
        if let problem = report.problem { throw CommandFailure("the record does not verify: \(problem)", exitCode: FloorgateExit.auditChainBroken) }
        return "\(report.entries) audit entries, each signed by a registered server key, \(evidence.anchors.count) anchors held"
    }

    /// Quality releases the unit for distribution, its route accepted.
    private func release(_ client: RecordClient) async throws {
        try await narrate("Quality releases \(DemoScenario.serial) for distribution")
        _ = try await call(client, .unitRelease, ["serial": .string(DemoScenario.serial), "signature": signature("quinn", "bench-quinn-1")])
    }

    /// Exports the unit's DHR through `client` as JSON and HTML; returns what it lacks.
    private func export(_ client: RecordClient) async throws -> [String] {
        let dhr = try await call(client, .dhrExport, ["serial": .string(DemoScenario.serial)])
        try (dhr.text + "\n").write(toFile: "\(directory)/\(DemoScenario.serial)-dhr.json", atomically: true, encoding: .utf8)
        try DeviceHistoryPage.html(dhr).write(toFile: "\(directory)/\(DemoScenario.serial)-dhr.html", atomically: true, encoding: .utf8)
        print(DemoCheck.summary(of: dhr, plant: plant))
        return DemoCheck.missing(in: dhr, plant: plant)
    }

    private func startPlantDatabase() async throws -> String {
        let started: LocalPostgresCluster
        let database: String
        do {
            started = try LocalPostgresCluster.start()
            database = try started.createDatabase()
            try started.createRole(Self.serverRole)
        } catch {
            throw CommandFailure("demo: cannot start the plant's PostgreSQL: \(error)")
        }
        _ = try await RecordMigration.migrate(try RecordLocation(started.socketURL(database)), grantingTo: [Self.serverRole])
        cluster.withLock { $0 = (started, database) }
        print("record: a throwaway PostgreSQL cluster in \(started.directory), database \(database)")
        return try plantServerURL()
    }

    private func plantServerURL() throws -> String {
        guard let (cluster, database) = cluster.withLock({ $0 }) else { throw CommandFailure("demo: the plant's database is not started") }
        return cluster.socketURL(database, role: Self.serverRole)
    }

    /// Sends a frame from a simulated device; with the operator on the page, says when (epoch
    /// milliseconds), so a browser test can time the page against the device's frame.
    private func send(_ device: ChildProcess, _ frame: String) {
        device.send(frame)
        if operatorOnPage {
            print("    → \(device.name) \(frame) sent at \(Int64((Date.now.timeIntervalSince1970 * 1000).rounded())) ms")
            fflush(nil)
        }
    }

    /// Writes a station's configuration naming `devices` (name, profile, how to reach it as TOML
    /// lines, serial number); returns its path. The plant demo's files carry the station's name.
    private func writeStation(
        _ station: String, socket: String, pagePort: Int, devices: [(name: String, profile: String, connection: String, serial: String?)]
    ) throws -> String {
        let prefix = plant ? "\(station)-" : ""
        var text = """
            # The demo station, written by `floorgate demo` (docs/station.md explains each key).
            station = "\(station)"
            operator = "olga"
            record_socket = "\((socket as NSString).lastPathComponent)"
            status_socket = "\(prefix)gateway.sock"
            outbox = "\(prefix)outbox.sqlite"
            profiles = "\(profilesDirectory)"
            serial_pattern = "regex:^SN-[0-9]{4}$"

            [page]
            port = \(pagePort)
            \(metrics ? "\n[metrics]\nport = 0\n" : "")
            """
        for device in devices {
            text += """

                [[device]]
                name = "\(device.name)"
                profile = "\(device.profile)"
                \(device.connection)
                \(device.serial.map { "serial = \"\($0)\"\n" } ?? "")
                """
        }
        let path = "\(directory)/\(prefix)station.toml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func signature(_ user: String, _ password: String, reason: String? = nil) -> JSONValue {
        ["user": .string(user), "password": .string(password), "reason": reason.map(JSONValue.string) ?? .null]
    }

    private func call(_ client: RecordClient, _ method: RecordMethod, _ params: JSONValue) async throws -> JSONValue {
        do {
            return try await client.call(method, params.withIdempotencyKey(for: method))
        } catch {
            throw CommandFailure("demo: \(method) failed: \(error)")
        }
    }

    /// Puts each step's drawing into the record (again: a picture is kept once); the hashes by step key.
    private func putDrawings(_ client: RecordClient, revisionB: Bool) async throws -> [String: String] {
        var hashes: [String: String] = [:]
        for key in ["10", "20", "30", "40"] {
            let drawing = DemoScenario.Drawing.svg(step: key, revisionB: revisionB)
            let stored = try await call(client, .mediaPut, ["content_type": "image/svg+xml", "data": .string(Data(drawing.utf8).base64EncodedString())])
            hashes[key] = stored["hash"]?.stringValue
        }
        return hashes
    }

    /// Builds the units of `DemoScenario.History` through every step and closes them, as the
    /// station did before the demo's unit.
    private func recordHistory(_ client: RecordClient) async throws {
        for (index, serial) in DemoScenario.History.serials.enumerated() {
            let buildID = try await call(client, .buildOpen, ["serial": .string(serial), "station": "bench-3", "operator": "olga"])["build_id"] ?? .null
            let readings = DemoScenario.History.readings(index)
            func record(_ kind: String, _ value: String, unit: String? = nil, device: JSONValue) async throws {
                var params: [String: JSONValue] = ["build_id": buildID, "kind": .string(kind), "device": device, "operator": "olga", "station": "bench-3"]
                if let unit {
                    params["value"] = .string(value)
                    params["unit"] = .string(unit)
                } else {
                    params["text"] = .string(value)
                }
                _ = try await call(client, .resultRecord, .object(params))
            }
            func complete() async throws {
                _ = try await call(client, .stepComplete, ["build_id": buildID, "signature": signature("olga", "bench-olga-1")])
            }
            for bore in readings.bores { try await record("measure", bore, unit: "mm", device: ["kind": "gauge", "serial": "CAL-0042"]) }
            try await complete()
            try await record("scan", String(DemoScenario.Board.label(lot: DemoScenario.History.boardLot).dropFirst(3)), device: ["kind": "scanner"])
            try await complete()
            for screw in readings.screws {
                try await record("torque", screw, unit: "N.m", device: ["kind": "torque", "profile": "atlas-copco-pf6000", "serial": "PF6-0042"])
            }
            try await complete()
            try await record("torque", readings.audit, unit: "N.m", device: ["kind": "torque", "profile": "norbar-tst", "serial": "TST-1187"])
            try await complete()
            _ = try await call(client, .buildClose, ["build_id": buildID, "signature": signature("quinn", "bench-quinn-1")])
        }
    }

    /// Signs the step complete once the record has every result it needs.
    private func completeStep(_ key: String, client: RecordClient, buildID: JSONValue, operation: String? = nil) async throws {
        try await waitForBuild(client, operation: operation) { build in
            build["active_step"]?["key"]?.stringValue == key
                && (build["active_step"]?["points"]?.arrayValue ?? []).allSatisfy { $0["open"]?.integerValue == 0 }
        }
        _ = try await call(client, .stepComplete, ["build_id": buildID, "signature": signature("olga", "bench-olga-1")])
    }

    @discardableResult
    private func waitForBuild(
        _ client: RecordClient, operation: String? = nil, timeout: Duration = .seconds(30), _ condition: (JSONValue) -> Bool
    ) async throws -> JSONValue {
        var latest: JSONValue = .null
        try await waitFor("the record to show the build's next state", timeout: timeout) { _ in
            latest = (try? await client.call(.buildGet, ["serial": .string(DemoScenario.serial), "operation": operation.map(JSONValue.string) ?? .null])) ?? .null
            return !latest.isNull && condition(latest)
        }
        return latest
    }

    private func waitFor(_ what: String, timeout: Duration = .seconds(30), _ condition: (Int) async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        var attempt = 0
        while ContinuousClock.now < deadline {
            if try await condition(attempt) { return }
            attempt += 1
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CommandFailure("demo: timed out waiting for \(what); the logs in \(directory) say why")
    }
}
