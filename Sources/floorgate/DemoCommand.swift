import ArgumentParser
import FloorgateCore
import Foundation
import RecordProtocol
import Synchronization
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

            Exit status 0 only if every expected entry is in the exported DHR.

            Examples:
              floorgate demo
              floorgate demo --script --dir /tmp/floorgate-demo
              floorgate demo --operator-on-page --page-port 8480
            """
    )

    @Flag(help: "No pauses for a watching human: run straight through (tests, CI).")
    var script = false

    @Option(help: ArgumentHelp("Keep the station's files here (default: a new temporary directory).", valueName: "path"))
    var dir: String?

    @Option(help: ArgumentHelp("The device profiles.", valueName: "directory"))
    var profiles = "devices"

    @Option(help: ArgumentHelp("The station page's port on 127.0.0.1 (0: any free port).", valueName: "port"))
    var pagePort = 8480

    @Flag(help: "Wait for the station page to be opened, and leave the redline for the operator to sign there.")
    var operatorOnPage = false

    func validate() throws {
        guard (0...65535).contains(pagePort) else { throw ValidationError("--page-port: \(pagePort) is not a TCP port (0–65535)") }
    }

    func run() async throws {
        let directory = try prepareDirectory()
        let profilesDirectory = URL(fileURLWithPath: profiles).standardizedFileURL.path
        for name in ["serial-scanner-usb-adapter", "mitutoyo-dp1va-rs232", "norbar-tst", "atlas-copco-pf6000"] {
            guard FileManager.default.fileExists(atPath: "\(profilesDirectory)/\(name).toml") else {
                throw CommandFailure("the demo needs the device profile \(profilesDirectory)/\(name).toml; run it from the Floorgate checkout or give --profiles", exitCode: FloorgateExit.badUsage)
            }
        }
        let play = DemoPlay(
            directory: directory, profilesDirectory: profilesDirectory, pause: script ? .zero : .milliseconds(900),
            pagePort: pagePort, operatorOnPage: operatorOnPage)
        let missing: [String]
        do {
            missing = try await play.run()
        } catch {
            await play.stopAll()
            throw error
        }
        await play.stopAll()
        guard missing.isEmpty else {
            throw CommandFailure("the DHR lacks: " + missing.joined(separator: "; ") + " (files in \(directory))")
        }
        print("\nDemo complete: every expected entry is in the device history record.")
        print("  DHR: \(directory)/\(DemoScenario.serial)-dhr.html (and .json)")
        print("  files: \(directory) (record.sqlite, outbox.sqlite, station.toml, *.log)")
    }

    private func prepareDirectory() throws -> String {
        let path = dir ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("floorgate-demo-\(getpid())")
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        do {
            try FileManager.default.createDirectory(atPath: absolute, withIntermediateDirectories: true)
        } catch {
            throw CommandFailure("cannot create \(absolute): \(error)", exitCode: FloorgateExit.badUsage)
        }
        for stale in ["record.sqlite", "outbox.sqlite", "record.sock"] {
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
    private let children = Mutex<[ChildProcess]>([])

    init(directory: String, profilesDirectory: String, pause: Duration, pagePort: Int, operatorOnPage: Bool) {
        self.directory = directory
        self.profilesDirectory = profilesDirectory
        self.pause = pause
        self.pagePort = pagePort
        self.operatorOnPage = operatorOnPage
    }

    private var socket: String { "\(directory)/record.sock" }

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
        print("Floorgate demo station in \(directory)")
        let record = try start("record", ["record", "serve", "--db", "\(directory)/record.sqlite", "--socket", socket, "--password-rounds", "1000"])
        _ = try await record.line(startingWith: "listening on ")
        let client = RecordClient(socketPath: socket)
        _ = try await call(client, .recordImport, DemoScenario.recordImport)
        _ = try await call(client, .instructionApprove, [
            "part": "HX-200", "part_revision": "C", "operation": "010", "revision": "A", "signature": signature("ada", "bench-ada-1"),
        ])
        print("record: part HX-200 rev C, instruction 010 revision A approved (Ada Approver), work order WO-1001 released")

        let scanner = try start("scanner", ["simulate", "serial-scanner-usb-adapter", "--profiles", profilesDirectory])
        let caliper = try start("caliper", ["simulate", "mitutoyo-dp1va-rs232", "--profiles", profilesDirectory])
        let tester = try start("torque-tester", ["simulate", "norbar-tst", "--profiles", profilesDirectory])
        let script = "\(directory)/controller-results.txt"
        try DemoScenario.controllerScript.write(toFile: script, atomically: true, encoding: .utf8)
        let controller = try start("nutrunner", ["simulate", "open-protocol", "--port", "0", "--script", script, "--triggered", "--rate", "0"])
        let stationFile = try writeStation(
            scanner: try await scanner.line(startingWith: "pty "), caliper: try await caliper.line(startingWith: "pty "),
            tester: try await tester.line(startingWith: "pty "), controller: try await controller.line(startingWith: "listening on ")
        )
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
        let pageLine = try await gateway.line(startingWith: "", containing: "station page ")
        guard let start = pageLine.range(of: "http://")?.lowerBound else {
            if operatorOnPage { throw CommandFailure("demo: \(pageLine.trimmingCharacters(in: .whitespaces)); try another --page-port") }
            print("\nNo station page this time (\(pageLine.trimmingCharacters(in: .whitespaces))); the demo plays on without it.")
            return try await play(client: client, scanner: scanner, caliper: caliper, tester: tester, controller: controller)
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

        return try await play(client: client, scanner: scanner, caliper: caliper, tester: tester, controller: controller)
    }

    /// The build itself, once the station is up.
    private func play(
        client: RecordClient, scanner: ChildProcess, caliper: ChildProcess, tester: ChildProcess, controller: ChildProcess
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
        send(scanner, "]C0LOT-B-7731")
        try await completeStep("20", client: client, buildID: buildID)

        try await narrate("Engineering publishes a redline: the cover screws need more clamp load (revision B)")
        let redline = try await call(client, .redlinePublish, [
            "part": "HX-200", "part_revision": "C", "operation": "010", "new_revision": "B",
            "reason": "ECO-512: new gasket needs more clamp load", "steps": DemoScenario.steps(coverScrewLower: "1.15"),
            "signature": signature("eric", "bench-eric-1"),
        ])
        try await waitForBuild(client) { !($0["pending_redline"]?.isNull ?? true) }
        if operatorOnPage {
            try await narrate("The operator reads the redline on the station page and signs it")
            try await waitForBuild(client, timeout: .seconds(600)) { $0["pending_redline"]?.isNull ?? false }
        } else {
            try await narrate("The operator reads the redline and acknowledges it")
            _ = try await call(client, .redlineAcknowledge, [
                "build_id": buildID, "redline_id": redline["redline_id"] ?? .null, "signature": signature("olga", "bench-olga-1"),
            ])
        }

        try await narrate("Step 30: the nutrunner tightens both cover screws (each result acknowledged after commit)")
        send(controller, "trigger")
        send(controller, "trigger")
        try await completeStep("30", client: client, buildID: buildID)

        try await narrate("Step 40: the torque tester audits one screw")
        send(tester, "   1.22 N.m")
        try await completeStep("40", client: client, buildID: buildID)

        try await narrate("Quality closes the build; the device history record is exported")
        _ = try await call(client, .buildClose, [
            "build_id": buildID, "signature": signature("quinn", "bench-quinn-1", reason: "All results in limits; NC reworked."),
        ])
        let dhr = try await call(client, .dhrExport, ["serial": .string(DemoScenario.serial)])
        try (dhr.text + "\n").write(toFile: "\(directory)/\(DemoScenario.serial)-dhr.json", atomically: true, encoding: .utf8)
        try DeviceHistoryPage.html(dhr).write(toFile: "\(directory)/\(DemoScenario.serial)-dhr.html", atomically: true, encoding: .utf8)
        print(DemoCheck.summary(of: dhr))
        return DemoCheck.missing(in: dhr)
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

    private func writeStation(scanner: String, caliper: String, tester: String, controller: String) throws -> String {
        let port = controller.split(separator: ":").last.map(String.init) ?? "4545"
        let text = """
            # The demo station, written by `floorgate demo` (docs/station.md explains each key).
            station = "bench-3"
            operator = "olga"
            record_socket = "record.sock"
            outbox = "outbox.sqlite"
            profiles = "\(profilesDirectory)"
            serial_pattern = "regex:^SN-[0-9]{4}$"

            [page]
            port = \(pagePort)

            [[device]]
            name = "scanner"
            profile = "serial-scanner-usb-adapter"
            path = "\(scanner)"

            [[device]]
            name = "caliper"
            profile = "mitutoyo-dp1va-rs232"
            path = "\(caliper)"
            serial = "CAL-0042"

            [[device]]
            name = "torque-tester"
            profile = "norbar-tst"
            path = "\(tester)"
            serial = "TST-1187"

            [[device]]
            name = "nutrunner"
            profile = "atlas-copco-pf6000"
            host = "127.0.0.1"
            port = \(port)
            serial = "PF6-0042"

            """
        let path = "\(directory)/station.toml"
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

    /// Signs the step complete once the record has every result it needs.
    private func completeStep(_ key: String, client: RecordClient, buildID: JSONValue) async throws {
        try await waitForBuild(client) { build in
            build["active_step"]?["key"]?.stringValue == key
                && (build["active_step"]?["points"]?.arrayValue ?? []).allSatisfy { $0["open"]?.integerValue == 0 }
        }
        _ = try await call(client, .stepComplete, ["build_id": buildID, "signature": signature("olga", "bench-olga-1")])
    }

    @discardableResult
    private func waitForBuild(_ client: RecordClient, timeout: Duration = .seconds(30), _ condition: (JSONValue) -> Bool) async throws -> JSONValue {
        var latest: JSONValue = .null
        try await waitFor("the record to show the build's next state", timeout: timeout) { _ in
            latest = (try? await client.call(.buildGet, ["serial": .string(DemoScenario.serial)])) ?? .null
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
