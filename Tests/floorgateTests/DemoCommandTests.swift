import FixtureSupport
import FloorgateCore
import Foundation
import LocalPostgres
import Testing

@Suite("floorgate demo", .timeLimit(.minutes(5)))
struct DemoCommandTests {
    private static let devices = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("devices").path

    @Test("--script plays the whole build with every device in its own process and exits 0 on a complete DHR")
    func scriptedBuild() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let demo = try FloorgateChild(["demo", "--script", "--page-port", "0", "--dir", scratch.url.path, "--profiles", Self.devices])
        let status = await demo.wait(timeout: .seconds(120))
        #expect(status == 0, "\(demo.standardOutput)\n\(demo.standardError)")
        let dhr = try JSONValue(parsing: try Data(contentsOf: scratch.url.appendingPathComponent("SN-0001-dhr.json")))
        let build = try #require(dhr["builds"]?.arrayValue?.first)
        let points = (build["results"]?.arrayValue ?? []).compactMap { $0["point"]?.stringValue }
        #expect(points == ["bore diameter", "bore diameter", "bore diameter", "board lot", "cover screws", "cover screws", "audit torque"])
        #expect(demo.standardOutput.contains("FAIL HIGH"))
        #expect(demo.standardOutput.contains("Demo complete"))
        let html = try String(contentsOf: scratch.url.appendingPathComponent("SN-0001-dhr.html"), encoding: .utf8)
        #expect(html.contains("SN-0001"))
        for file in ["record.sqlite", "outbox.sqlite", "station.toml", "gateway.log"] {
            #expect(FileManager.default.fileExists(atPath: scratch.path(file)), "\(file) kept in --dir")
        }
        // The record's registered keys and its server's anchors are left in --dir, and the
        // record verifies with them, as the demo's own check said.
        #expect(demo.standardOutput.contains("The record verifies"), "\(demo.standardOutput)")
        let kept = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path)
        let keys = try #require(kept.first { $0.contains("keys") }), anchors = try #require(kept.first { $0.contains("anchor") })
        let checked = try await FloorgateProcess.run(["verify", "--db", scratch.path("record.sqlite"), "--keys", scratch.path(keys), "--anchors", scratch.path(anchors)])
        #expect(checked.status == 0 && checked.standardOutput.contains("every entry signed by one of 1 registered keys"), "\(checked.standardOutput) \(checked.standardError)")

        // The demo station's record moves into a plant's record (PostgreSQL where installed):
        // the unit's DHR there holds the same history, and both records verify.
        let plant: String
        if PostgresTestCluster.available {
            let cluster = try await PostgresTestCluster.shared()
            plant = cluster.socketURL(try cluster.createDatabase())
            #expect(try await FloorgateProcess.run(["record", "migrate", "--db", plant]).status == 0)
        } else {
            plant = scratch.path("plant.sqlite")
        }
        let moved = try await FloorgateProcess.run(["record", "move-in", "--from", scratch.path("record.sqlite"), "--to", plant, "--by", "quinn"])
        #expect(moved.status == 0, "\(moved.standardError)")
        let outcome = try JSONValue(parsing: Array(moved.standardOutput.utf8))
        // The demo's unit (7 results) and the twenty built before it (6 results each).
        let serials = outcome["serials"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(serials.count == 21 && serials.contains("SN-0001") && outcome["copied"]?["result"] == .integer(7 + 20 * 6), "\(moved.standardOutput)")
        let there = try await FloorgateProcess.run(["dhr", "SN-0001", "--db", plant])
        #expect(there.status == 0, "\(there.standardError)")
        let movedBuild = try JSONValue(parsing: Array(there.standardOutput.utf8))["builds"]?.arrayValue?.first
        #expect(movedBuild?["results"]?.arrayValue?.map { [$0["key"], $0["value"], $0["verdict"], $0["raw_hex"]] }
            == build["results"]?.arrayValue?.map { [$0["key"], $0["value"], $0["verdict"], $0["raw_hex"]] })
        for record in [scratch.path("record.sqlite"), plant] {
            let verified = try await FloorgateProcess.run(["verify", "--db", record])
            #expect(verified.status == 0, "\(record): \(verified.standardError)")
        }
    }

    @Test("--plant: two stations on one PostgreSQL record; the unit is assembled at bench-3, inspected at bench-7, and its DHR holds both in route order",
          .enabled(if: PostgresTestCluster.available))
    func plantDemo() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let demo = try FloorgateChild(["demo", "--plant", "--script", "--page-port", "0", "--dir", scratch.url.path, "--profiles", Self.devices])
        let status = await demo.wait(timeout: .seconds(180))
        #expect(status == 0, "\(demo.standardOutput)\n\(demo.standardError)")
        let dhr = try JSONValue(parsing: try Data(contentsOf: scratch.url.appendingPathComponent("SN-0001-dhr.json")))
        let builds = dhr["builds"]?.arrayValue ?? []
        #expect(builds.map { [$0["operation"], $0["station"], $0["status"]] } == [["010", "bench-3", "complete"], ["020", "bench-7", "complete"]])
        #expect(builds.last?["results"]?.arrayValue?.map { $0["point"] } == ["overall length"])
        #expect(dhr["work_order"]?["route"]?.arrayValue?.map { $0["stations"] } == [["bench-3"], ["bench-7"]])
        for file in ["bench-3-outbox.sqlite", "bench-7-outbox.sqlite", "bench-3-station.toml", "bench-7-station.toml", "gateway-bench-7.log"] {
            #expect(FileManager.default.fileExists(atPath: scratch.path(file)), "\(file) kept in --dir")
        }
    }

    @Test("without the device profiles the demo says where it looked, exit 2")
    func missingProfiles() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let demo = try FloorgateChild(["demo", "--script", "--dir", scratch.url.path, "--profiles", scratch.path("nowhere")])
        #expect(await demo.wait(timeout: .seconds(20)) == 2)
        #expect(demo.standardError.contains("serial-scanner-usb-adapter.toml") && demo.standardError.contains(scratch.path("nowhere")), "\(demo.standardError)")
    }

    @Test("without --profiles it finds the profiles itself; SIGTERM or SIGINT stops it and every process it started",
          arguments: [SIGTERM, SIGINT])
    func stopsItsProcesses(_ signal: Int32) async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        // No --profiles: the demo no longer reads ./devices but finds the profiles of the source
        // tree it was built from (where no package installed them). With --operator-on-page it
        // waits, every process started, until the page is opened: a state a busy test run cannot miss.
        let demo = try FloorgateChild(["demo", "--operator-on-page", "--page-port", "0", "--dir", scratch.url.path])
        // The gateway is the last process it starts; by then the record and the four devices run.
        // Its status socket shows it is up (the demo's output may reach this process late).
        let deadline = ContinuousClock.now + .seconds(60)
        while !FileManager.default.fileExists(atPath: scratch.path("gateway.sock")) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let children = Self.children(of: demo.pid)
        #expect(children.count >= 6, "record, gateway, four devices: \(children)")
        demo.kill(signal)
        #expect(await demo.wait(timeout: .seconds(30)) == 0, "\(demo.standardError)")
        #expect(demo.standardOutput.contains("Demo stopped by"), "\(demo.standardOutput)")
        let left = children.filter { Self.contents("/proc/\($0)/stat") != nil }
        #expect(left.isEmpty, "still running after the demo stopped: \(left)")
    }

    @Test("--metrics: the gateway's and the record's metrics move with the build the demo plays")
    func metricsWhileItPlays() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        // --operator-on-page holds the demo, every device connected, until the page is opened,
        // and again at the redline until the operator signs it: two states a scrape cannot miss.
        let demo = try FloorgateChild(["demo", "--operator-on-page", "--metrics", "--page-port", "0", "--dir", scratch.url.path])
        defer { demo.kill(SIGKILL) }
        // The addresses, as the demo prints them (it holds at the page prompt, so they stay true).
        func line(_ prefix: String) async throws -> [Substring] {
            let deadline = ContinuousClock.now + .seconds(60)
            while true {
                if let line = demo.standardOutput.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) {
                    return line.split(separator: " ")
                }
                try #require(ContinuousClock.now < deadline, "no line '\(prefix)': \(demo.standardOutput)\n\(demo.standardError)")
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let addresses = try await line("Metrics: gateway ")  // Metrics: gateway URL, record URL
        let gateway = String(addresses[2].dropLast()), record = String(addresses[4])
        let page = String(try await line("Station page: ")[2])
        let deadline = ContinuousClock.now + .seconds(90)
        var samples = try await MetricsTests.scrape(gateway)
        while samples["floorgate_devices{state=\"connected\"}"] != 4 {
            try #require(ContinuousClock.now < deadline, "the demo's four devices did not connect: \(samples)")
            try await Task.sleep(for: .milliseconds(50))
            samples = try await MetricsTests.scrape(gateway)
        }
        #expect((samples["floorgate_results_committed_total"] ?? 0) == 0, "nothing is read before the page is opened: \(samples)")

        // Opening the page's live channel lets the demo play up to the redline: the serial scan,
        // three caliper readings (one out of limits, measured again after rework), the lot scan.
        let viewer = Process()
        viewer.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        viewer.arguments = ["-sN", "--max-time", "120", page + "events"]
        viewer.standardOutput = FileHandle.nullDevice
        try viewer.run()
        defer { if viewer.isRunning { viewer.terminate() } }
        var recorded = try await MetricsTests.scrape(record)
        while recorded["floorgate_record_calls_total{method=\"redline.publish\",code=\"0\"}"] != 1
            || samples["floorgate_results_delivered_total"] != 5
        {
            try #require(ContinuousClock.now < deadline, "the demo did not reach its redline: \(samples)\n\(recorded)")
            try await Task.sleep(for: .milliseconds(100))
            samples = try await MetricsTests.scrape(gateway)
            recorded = try await MetricsTests.scrape(record)
        }
        #expect(samples["floorgate_results_committed_total"] == 5, "\(samples)")
        #expect(samples["floorgate_read_to_commit_seconds_count"] == 5, "\(samples)")
        #expect(samples["floorgate_commit_to_delivered_seconds_count"] == 5, "\(samples)")
        #expect(samples["floorgate_devices{state=\"connected\"}"] == 4 && (samples["floorgate_results_unbound_total"] ?? 0) == 0, "\(samples)")
        #expect(recorded["floorgate_record_calls_total{method=\"nc.disposition\",code=\"0\"}"] == 1, "\(recorded)")
        // The demo's unit's first two steps, and the four of each of the twenty units built before it.
        #expect(recorded["floorgate_record_calls_total{method=\"step.complete\",code=\"0\"}"] == Double(2 + 20 * 4), "\(recorded)")
        #expect(recorded["floorgate_signature_attempts_total{outcome=\"accepted\"}"].map { $0 >= 4 } == true, "\(recorded)")

        demo.kill(SIGTERM)
        #expect(await demo.wait(timeout: .seconds(30)) == 0, "\(demo.standardError)")
    }

    /// The processes whose parent is `pid`, from /proc (read with readdir and read(2): while
    /// other tests start and end processes, entries come and go as the directory is listed).
    private static func children(of pid: pid_t) -> [pid_t] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        var found: [pid_t] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let child = pid_t(name), let stat = contents("/proc/\(child)/stat"), let end = stat.lastIndex(of: ")") else { continue }
            if stat[stat.index(after: end)...].split(separator: " ").dropFirst().first.flatMap({ pid_t($0) }) == pid { found.append(child) }
        }
        return found
    }

    /// A small file's text, or nil.
    private static func contents(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(descriptor, &buffer, buffer.count)
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }
}
