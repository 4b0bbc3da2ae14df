import DeviceIO
import FloorgateCore
import Foundation
import GRDB
import RecordProtocol
import Testing

/// The calibration register through a running gateway: the record in this process on a real
/// socket, the gateway its own process, the caliper a pseudo-terminal speaking Mitutoyo's format.
@Suite("Calibration gating through a running gateway", .timeLimit(.minutes(4)))
struct GatewayCalibrationTests {
    @Test("an overdue caliper's reading is kept unbound with the record's reason and the station names the device; calibrated again, the next reading is recorded with its calibration")
    func overdueCaliper() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let bench = try await TestBench.setUp(in: scratch, caliperSerial: "CAL-0042")
        let client = bench.record.client
        _ = try await client.call("record.import", keyed(["users": [["login": "quinn", "name": "Quinn Quality", "roles": ["quality"], "password": "bench-quinn-1"]]]))
        let quinn: JSONValue = ["user": "quinn", "password": "bench-quinn-1"]
        _ = try await client.call("calibration.record", keyed([
            "asset": "CAL-0042", "status": "calibrated", "calibrated_on": "2025-01-02", "due_on": "2025-12-31", "certificate": "MET-1", "signature": quinn,
        ]))

        let gateway = try FloorgateChild(["gateway", "--config", scratch.path("station.toml"), "--quiet"])
        defer { gateway.kill(SIGKILL) }
        try bench.scanner.send(Array("SN-0009\r".utf8))
        try await Self.poll("the build to open", gateway) { (try? await client.call("build.get", ["serial": "SN-0009"]))?["status"] == "open" }

        // The gateway reads it, keeps it, and settles it as unbound with the record's reason.
        try bench.caliper.send(Array("01A+0012.345\r".utf8))
        let outbox = try DatabaseQueue(path: scratch.path("outbox.sqlite"), configuration: { var c = Configuration(); c.readonly = true; c.busyMode = .timeout(10); return c }())
        let overdue = "caliper CAL-0042: calibration overdue since 2025-12-31"
        try await Self.poll("the reading to be settled", gateway) {
            try await outbox.read { try String.fetchOne($0, sql: "SELECT state FROM outbox WHERE source = 'caliper'") } == "unbound"
        }
        let outcome = try await outbox.read { try String.fetchOne($0, sql: "SELECT outcome FROM outbox WHERE source = 'caliper'") } ?? ""
        #expect(outcome.contains("gauge CAL-0042: calibration overdue since 2025-12-31"), "\(outcome)")
        #expect(try await client.call("dhr.export", ["serial": "SN-0009"])["builds"]?.arrayValue?.first?["results"]?.arrayValue?.isEmpty == true)
        // The station names the device and why, in its status (the page shows the same words).
        try await Self.poll("the status to name the overdue caliper", gateway) {
            let status = try await FloorgateProcess.run(["status", "--socket", scratch.path("gateway.sock"), "--json"]).standardOutput
            return (try? JSONValue(parsing: Array(status.utf8)))?["devices"]?.arrayValue?.contains { $0["calibration"]?.stringValue == overdue } == true
        }

        // Calibrated again: the next reading is recorded, and the DHR names the calibration.
        _ = try await client.call("calibration.record", keyed([
            "asset": "CAL-0042", "status": "calibrated", "calibrated_on": "2026-01-05", "due_on": "2099-12-31", "certificate": "MET-2", "signature": quinn,
        ]))
        try bench.caliper.send(Array("01A+0012.346\r".utf8))
        var recorded: [JSONValue] = []
        try await Self.poll("the second reading to be recorded", gateway) {
            recorded = try await client.call("dhr.export", ["serial": "SN-0009"])["builds"]?.arrayValue?.first?["results"]?.arrayValue ?? []
            return !recorded.isEmpty
        }
        #expect(recorded.map { $0["value"] } == ["12.346"])
        #expect(recorded.first?["calibration"]?["certificate"] == "MET-2" && recorded.first?["device"]?["serial"] == "CAL-0042")
        gateway.kill(SIGTERM)
        _ = await gateway.wait(timeout: .seconds(15))
        try await bench.record.stop()
    }

    /// Waits until `condition` holds, failing after 60 s with what the gateway said.
    static func poll(_ what: String, _ gateway: FloorgateChild, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while try await !condition() {
            try #require(ContinuousClock.now < deadline, "waited 60 s for \(what): \(gateway.standardError.suffix(2000))")
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
