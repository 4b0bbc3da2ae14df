import DeviceIO
import FloorgateCore
import Foundation
import GRDB
import Logging
import NIOCore
import NIOPosix
import RecordProtocol
import Testing
import WorkRecord

/// The gateway process killed with SIGKILL at random moments while a caliper streams readings on
/// a pty and an Open Protocol controller streams tightenings; DESIGN.md "Delivery guarantees"
/// checked on the files afterwards. `FLOORGATE_LONG_TESTS=1` kills it 50 times, else 3 times.
@Suite("Gateway killed while devices stream", .timeLimit(.minutes(10)), .serialized)
struct GatewayKillTests {
    /// An instruction with room for every reading: ten gauge points and five torque points of a
    /// thousand places each, limits wide enough that nothing fails; a work order of `serials`.
    static func enduranceImport(serials: [String] = ["SN-0009"]) -> JSONValue {
        let gauges: [JSONValue] = (1...10).map { ["name": .string("g\($0)"), "kind": "measure", "unit": "mm", "lower": "0", "upper": "10000", "count": 1000] }
        let torques: [JSONValue] = (1...5).map { ["name": .string("t\($0)"), "kind": "torque", "unit": "N.m", "lower": "0", "upper": "100", "count": 1000] }
        return [
            "users": [["login": "olga", "name": "Olga Operator", "roles": ["operator"], "password": "bench-olga-1"],
                      ["login": "ada", "name": "Ada Approver", "roles": ["approver"], "password": "bench-ada-1"]],
            "parts": [["number": "P-1", "revision": "A", "description": "endurance part"]],
            "instructions": [["part": "P-1", "part_revision": "A", "operation": "010", "revision": "A", "title": "Endurance",
                              "steps": [["key": "10", "title": "Stream", "points": .array(gauges + torques)]]]],
            "work_orders": [[
                "number": "WO-9", "part": "P-1", "part_revision": "A", "quantity": .integer(Int64(serials.count)), "operations": ["010"],
                "serials": .array(serials.map(JSONValue.string)),
            ]],
        ]
    }

    @Test("every committed result is in the record exactly once; the controller loses nothing; serial losses are counted")
    func killNine() async throws {
        let rounds = ProcessInfo.processInfo.environment["FLOORGATE_LONG_TESTS"] == nil ? 3 : 50
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let controller = try await SimulatorChild.start(["--rate", "20"])
        let bench = try await TestBench.setUp(
            in: scratch, station: "endurance",
            more: "[[device]]\nname = \"nutrunner\"\nprofile = \"atlas-copco-pf6000\"\nhost = \"127.0.0.1\"\nport = \(controller.port)")
        let (record, scanner, caliper, client) = (bench.record, bench.scanner, bench.caliper, bench.record.client)

        var gateway = try FloorgateChild(["gateway", "--config", scratch.path("station.toml"), "--quiet"])
        try scanner.send(Array("SN-0009\r".utf8))
        let deadline = ContinuousClock.now + .seconds(20)
        while (try? await client.call("build.get", ["serial": "SN-0009"]))?["status"] != "open" {
            try #require(ContinuousClock.now < deadline, "the build did not open: \(gateway.standardError)")
            try await Task.sleep(for: .milliseconds(20))
        }

        // The caliper streams readings 1, 2, 3, … (as thousandths) every 10 ms from another thread.
        let streaming = streamReadings(to: caliper)
        for _ in 0..<rounds {
            try await Task.sleep(for: .milliseconds(Int64.random(in: 150...600)))
            gateway.kill(SIGKILL)
            _ = await gateway.wait(timeout: .seconds(5))
            gateway = try FloorgateChild(["gateway", "--config", scratch.path("station.toml"), "--quiet"])
        }
        try await Task.sleep(for: .milliseconds(300))
        streaming.cancel()
        let sent = await streaming.value
        controller.child.kill(SIGTERM)
        _ = await controller.child.wait(timeout: .seconds(5))

        // Let the last gateway deliver everything, then stop it the polite way.
        let outbox = try DatabaseQueue(path: scratch.path("outbox.sqlite"), configuration: { var c = Configuration(); c.readonly = true; c.busyMode = .timeout(10); return c }())
        let drained = ContinuousClock.now + .seconds(60)
        while case let pending = try await outbox.read({ db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE state = 'pending'") ?? 1 }), pending > 0 {
            try #require(ContinuousClock.now < drained, "the outbox did not drain: \(pending) results pending")
            try await Task.sleep(for: .milliseconds(50))
        }
        // Stopped once it is up and answers on its status socket: a SIGTERM that comes before its
        // signal handling is installed ends it as any process (a busy run drains the outbox
        // before the last gateway has started).
        while try await FloorgateProcess.run(["status", "--socket", scratch.path("gateway.sock"), "--json"]).standardOutput.isEmpty {
            try #require(ContinuousClock.now < drained, "the last gateway did not answer on its status socket")
            try await Task.sleep(for: .milliseconds(50))
        }
        gateway.kill(SIGTERM)
        let status = await gateway.wait(timeout: .seconds(15))
        #expect(status == 0, "\(gateway.standardError.suffix(3000))")

        let rows = try outbox.read { db in
            try Row.fetchAll(db, sql: "SELECT id, source, sourceKey, value, state, outcome FROM outbox ORDER BY seq")
        }
        let results = try await client.call("dhr.export", ["serial": "SN-0009"])["builds"]?.arrayValue?.first?["results"]?.arrayValue ?? []
        let recordedKeys = results.compactMap { $0["key"]?.stringValue }

        // Every delivered result is in the record exactly once, and nothing else is.
        let delivered = rows.filter { ($0["state"] as String) == "delivered" && ($0["source"] as String) != "scanner" }.map { $0["id"] as String }
        #expect(Set(recordedKeys).count == recordedKeys.count, "a result recorded twice")
        #expect(Set(recordedKeys) == Set(delivered))
        // Nothing is left pending; the only unbound results are the controller's first ones,
        // committed before the scan that opened the build was delivered.
        let scanIndex = try #require(rows.firstIndex { ($0["source"] as String) == "scanner" })
        for (index, row) in rows.enumerated() where !["delivered", "skipped"].contains(row["state"] as String) {
            #expect(row["state"] as String == "unbound" && index < scanIndex, "\(row["source"] as String): \(row["state"] as String) \(row["outcome"] as String? ?? "")")
        }

        // The controller's tightening ids are all there, once each: 1…n without a gap.
        let tightenings = rows.filter { ($0["source"] as String) == "nutrunner" }.compactMap { ($0["sourceKey"] as String?).flatMap { Int($0.prefix { $0.isNumber }) } }
        #expect(!tightenings.isEmpty)
        #expect(tightenings.sorted() == Array(1..<((tightenings.max() ?? 0) + 1)))

        // The caliper's readings arrive in order, none twice; those lost were read by a killed
        // gateway before their commit (the kernel keeps everything not yet read).
        let readings = rows.filter { ($0["source"] as String) == "caliper" && ($0["state"] as String) == "delivered" }
            .compactMap { row -> Int? in (row["value"] as String?).flatMap { Double($0) }.map { Int(($0 * 1000).rounded()) } }
        #expect(readings == readings.sorted() && Set(readings).count == readings.count)
        let lost = sent - readings.count
        print("kill -9 × \(rounds): \(sent) caliper readings sent, \(readings.count) recorded, \(lost) lost in read-to-commit windows; \(tightenings.count) tightenings, none lost")
        #expect(lost <= rounds * 10, "more readings lost than a read-ahead of a couple of events per kill explains")

        try await record.stop()
    }
}

/// A bench under test in a scratch directory: the endurance record served, a scanner and a
/// caliper on pseudo-terminals, and station.toml naming them (and the devices in `more`).
struct TestBench {
    let record: EnduranceRecord
    let scanner: PseudoTerminal
    let caliper: PseudoTerminal

    static func setUp(in scratch: ScratchDirectory, station: String = "bench-9", caliperSerial: String? = nil, more: String = "") async throws -> TestBench {
        let record = try await EnduranceRecord.serve(in: scratch)
        let scanner = try PseudoTerminal()
        let caliper = try PseudoTerminal()
        try writeTestStation(
            to: scratch.path("station.toml"), station: station, recordSocket: "record.sock", outbox: "outbox.sqlite",
            scanner: scanner.path, caliper: caliper.path, caliperSerial: caliperSerial, more: more)
        return TestBench(record: record, scanner: scanner, caliper: caliper)
    }
}

/// The endurance record served in this process on `record.sock` of a scratch directory, its
/// instruction approved: what a gateway under test delivers to.
struct EnduranceRecord {
    let server: RecordServer
    let store: RecordStore
    let group: MultiThreadedEventLoopGroup
    let client: RecordClient

    /// Serves `importing` (the endurance part by default) with operation 010 revision A of `part` approved.
    static func serve(in scratch: ScratchDirectory, importing: JSONValue = GatewayKillTests.enduranceImport(), part: String = "P-1") async throws -> EnduranceRecord {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var logger = Logger(label: "record")
        logger.logLevel = .critical
        let (server, store) = try await RecordServer.start(
            .sqlite(path: scratch.path("record.sqlite")), options: .init(socketPath: scratch.path("record.sock")),
            passwordRounds: 1_000, group: group, logger: logger)
        let client = RecordClient(socketPath: scratch.path("record.sock"))
        _ = try await client.call("record.import", keyed(importing))
        _ = try await client.call("instruction.approve", keyed(["part": .string(part), "part_revision": "A", "operation": "010", "revision": "A",
                                                          "signature": ["user": "ada", "password": "bench-ada-1"]]))
        return EnduranceRecord(server: server, store: store, group: group, client: client)
    }

    func stop() async throws {
        try await server.close()
        try await group.shutdownGracefully()
        try await store.close()
    }
}
