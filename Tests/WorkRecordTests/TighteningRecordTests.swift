import FixtureSupport
import FloorgateCore
import Foundation
import RecordProtocol
import Testing
import WorkRecord

/// The record judges what a commanded controller says of each tightening against the point:
/// the program and identifier it ran with, and where the tightening stands in its batch.
@Suite("Tightenings judged against what was commanded", .timeLimit(.minutes(4)))
struct TighteningRecordTests {
    /// A tightening of the example's cover screws (point `pset` 3) as the gateway delivers one
    /// from an Open Protocol controller.
    static func tightening(
        _ build: Int64, _ torque: String, pset: String? = "003", identifier: String? = "SN-0001", counter: Int64? = nil,
        batch: String? = "running", id: String = "0000000001"
    ) -> JSONValue {
        withKey([
            "build_id": .integer(build), "kind": "torque", "value": .string(torque), "unit": "N.m", "angle": "41",
            "device": ["kind": "torque", "profile": "atlas-copco-pf6000", "serial": "TOOL-7"], "operator": "olga", "station": "bench-3",
            "pset": pset.map(JSONValue.string) ?? .null, "identifier": identifier.map(JSONValue.string) ?? .null,
            "batch_size": 4, "batch_counter": counter.map(JSONValue.integer) ?? .null, "batch_status": batch.map(JSONValue.string) ?? .null,
            "tightening_id": .string(id), "tool": ["serial": "B1234567", "tightenings": 18211, "calibrated_on": "2026-10-01"],
        ])
    }

    /// Opens `serial` and walks it to the torque step (step 30).
    static func atTorqueStep(_ serial: String, _ client: RecordClient) async throws -> Int64 {
        let open = try await client.call("build.open", withKey(["serial": .string(serial), "station": "bench-3", "operator": "olga"]))
        let build = try #require(open["build_id"]?.integerValue)
        for value in ["12.001", "12.002"] { _ = try await client.call("result.record", reading(build: build, value)) }
        _ = try await client.call("step.complete", withKey(["build_id": .integer(build), "signature": signature("olga")]))
        _ = try await client.call("result.record", withKey([
            "build_id": .integer(build), "kind": "scan", "text": "LOT-1", "device": ["kind": "scanner"], "operator": "olga", "station": "bench-3",
        ]))
        _ = try await client.call("step.complete", withKey(["build_id": .integer(build), "signature": signature("olga")]))
        return build
    }

    static func openSlots(_ build: Int64, _ client: RecordClient) async throws -> Int64? {
        try await client.call("build.get", ["build_id": .integer(build)])["active_step"]?["points"]?.arrayValue?.first?["open"]?.integerValue
    }

    @Test("another program or identifier is invalid with an NC; a NOK within a running batch takes no place; the batch counts to done", arguments: RecordHarness.backends)
    func commandedBatch(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let build = try await Self.atTorqueStep("SN-0001", client)

        let wrongProgram = try await client.call("result.record", Self.tightening(build, "1.20", pset: "005", id: "0000000001"))
        #expect(wrongProgram["verdict"] == "invalid")
        #expect(wrongProgram["reason"]?.stringValue?.contains("program 005") == true)
        #expect(wrongProgram["nc_id"]?.integerValue != nil)
        let wrongUnit = try await client.call("result.record", Self.tightening(build, "1.20", identifier: "SN-0002", id: "0000000002"))
        #expect(wrongUnit["verdict"] == "invalid" && wrongUnit["nc_id"]?.integerValue != nil)
        #expect(wrongUnit["reason"]?.stringValue?.contains("SN-0002") == true)
        #expect(try await Self.openSlots(build, client) == 4, "an invalid tightening takes no place")

        // A NOK the controller counts within a running batch: recorded, no place, no NC.
        let retried = try await client.call("result.record", Self.tightening(build, "0.95", counter: 0, id: "0000000003"))
        #expect(retried["verdict"] == "fail_low" && retried["nc_id"] == .null)
        #expect(try await Self.openSlots(build, client) == 4)
        for (counter, status) in [(1, "running"), (2, "running"), (3, "running"), (4, "ok")] {
            let good = try await client.call("result.record", Self.tightening(build, "1.21", counter: Int64(counter), batch: status, id: "00000000\(10 + counter)"))
            #expect(good["verdict"] == "pass")
        }
        #expect(try await Self.openSlots(build, client) == 0)
        #expect(await recordError { _ = try await client.call("result.record", Self.tightening(build, "1.21", id: "0000000020")) } == .noOpenPoint)

        // The view and the DHR keep what the controller said of each tightening.
        let view = try await client.call("build.get", ["build_id": .integer(build)])
        let shown = try #require(view["active_step"]?["points"]?.arrayValue?.first?["results"]?.arrayValue)
        #expect(shown.filter { $0["batch_retry"] == true }.count == 1)
        let dhr = try await client.call("dhr.export", ["serial": "SN-0001"])
        let results = try #require(dhr["builds"]?.arrayValue?.first?["results"]?.arrayValue)
        let torques = results.filter { $0["unit"] == "N.m" }
        #expect(torques.count == 7)
        #expect(torques.first?["tightening"]?["pset"] == "005")
        #expect(torques[2]["tightening"]?["batch_retry"] == true)
        #expect(torques.last?["tightening"]?["batch_counter"] == 4 && torques.last?["tightening"]?["batch_status"] == "ok")
        #expect(torques.last?["tightening"]?["tool"]?["serial"] == "B1234567")
        #expect(torques.last?["tightening"]?["tool"]?["calibrated_on"] == "2026-10-01")
        #expect(results.first?["tightening"] == JSONValue.null, "a gauge reading has no tightening context")
        try await harness.stop()
        #expect(try await harness.verifyFile().problem == nil)
    }

    @Test("a batch the controller ends NOK raises a nonconformance", arguments: RecordHarness.backends)
    func batchEndedNotOK(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let build = try await Self.atTorqueStep("SN-0002", client)
        let failed = try await client.call("result.record", Self.tightening(build, "0.95", identifier: "SN-0002", counter: 0, batch: "nok"))
        #expect(failed["verdict"] == "fail_low" && failed["nc_id"]?.integerValue != nil)
        // The failure holds its place until quality dispositions it (the gateway keeps the tool
        // locked meanwhile); the build shows the NC.
        #expect(try await Self.openSlots(build, client) == 3)
        #expect(try await client.call("build.get", ["build_id": .integer(build)])["open_ncs"]?.arrayValue?.count == 1)
        try await harness.stop()

        // Within the limits, but the controller ended the batch NOK: invalid, with an NC.
        let (other, otherClient) = try await RecordHarness.approvedExample(backend)
        let second = try await Self.atTorqueStep("SN-0001", otherClient)
        let ended = try await otherClient.call("result.record", Self.tightening(second, "1.21", counter: 2, batch: "nok"))
        #expect(ended["verdict"] == "invalid" && ended["nc_id"]?.integerValue != nil)
        #expect(ended["reason"]?.stringValue?.contains("ended the batch NOK at 2 of 4") == true)
        try await other.stop()
    }

    @Test("malformed tightening members are refused with the parameter named, and nothing is stored")
    func malformed() async throws {
        let (harness, client) = try await RecordHarness.approvedExample()
        let build = try await Self.atTorqueStep("SN-0001", client)
        guard case .object(var params) = Self.tightening(build, "1.21") else { return }
        params["batch_status"] = "maybe"
        #expect(await recordError { _ = try await client.call("result.record", .object(params)) } == .invalidParams)
        params["batch_status"] = "running"
        params["batch_counter"] = -1
        #expect(await recordError { _ = try await client.call("result.record", .object(params)) } == .invalidParams)
        params["batch_counter"] = 1
        params["tool"] = ["calibrated_on": "last year"]
        #expect(await recordError { _ = try await client.call("result.record", .object(params)) } == .invalidParams)
        #expect(try await Self.openSlots(build, client) == 4)
        try await harness.stop()
    }
}
