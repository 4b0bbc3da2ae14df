import FixtureSupport
import FloorgateCore
import Foundation
import RecordProtocol
import Testing
import WorkRecord

/// The calibration register on a real record: entries signed and audited, results gated by
/// them, the impact query and the DHR's calibration at the time of measurement.
@Suite("Calibration register", .timeLimit(.minutes(4)))
struct CalibrationRecordTests {
    /// A gauge reading of device `serial` (nil: none) measured at `measuredAt`.
    static func reading(build: Int64, _ value: String, serial: String?, measuredAt: String) -> JSONValue {
        withKey([
            "build_id": .integer(build), "kind": "measure", "value": .string(value), "unit": "mm",
            "device": ["kind": "gauge", "profile": "mitutoyo-usb-itn", "serial": serial.map(JSONValue.string) ?? .null],
            "operator": "olga", "station": "bench-3", "measured_at": .string(measuredAt),
        ])
    }

    /// The record's refusal of `body`'s call: its code and its words (nil code when it was taken).
    static func refusal(_ body: () async throws -> Void) async -> (code: RecordErrorCode?, message: String) {
        do {
            try await body()
            return (nil, "taken")
        } catch {
            return ((error as? RecordCallError)?.code, "\(error)")
        }
    }

    static func entry(_ asset: String, _ members: [String: JSONValue], signer: String = "quinn") -> JSONValue {
        var params = members
        params["asset"] = .string(asset)
        params["signature"] = signature(signer)
        return withKey(.object(params))
    }

    @Test("a register with entries refuses unknown, overdue and failed devices; nothing refused is stored", arguments: RecordHarness.backends)
    func gatesResults(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let build = try #require(try await client.call("build.open", withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"]))["build_id"]?.integerValue)

        // No register yet: any device's reading is taken, as before calibrations were kept.
        _ = try await client.call("result.record", Self.reading(build: build, "12.001", serial: "CAL-7", measuredAt: "2026-10-15T09:00:00.000Z"))

        // An entry signed by someone without the quality role is refused and leaves nothing.
        let calibrated: [String: JSONValue] = ["status": "calibrated", "calibrated_on": "2026-11-02", "interval_days": 180, "certificate": "MET-1187"]
        #expect(await recordError { _ = try await client.call("calibration.record", Self.entry("CAL-7", calibrated, signer: "olga")) } == .roleNotPermitted)
        #expect(try await harness.count("SELECT COUNT(*) FROM calibration") == 0)

        // A calibration of another device: from now on the register gates every gauge.
        _ = try await client.call("calibration.record", Self.entry("CAL-9", ["status": "calibrated", "calibrated_on": "2025-01-01", "due_on": "2025-06-30", "certificate": "MET-0009"]))
        let unknown = await Self.refusal { _ = try await client.call("result.record", Self.reading(build: build, "12.002", serial: "CAL-7", measuredAt: "2026-12-01T09:00:00.000Z")) }
        #expect(unknown.code == .deviceNotInRegister)
        #expect(unknown.message.contains("gauge CAL-7: unknown to the calibration register"))
        #expect(await recordError { _ = try await client.call("result.record", Self.reading(build: build, "12.002", serial: nil, measuredAt: "2026-12-01T09:00:00.000Z")) } == .deviceNotInRegister)

        // CAL-7 calibrated with a 180-day interval: due 2027-05-01, computed by the record.
        let entry = try await client.call("calibration.record", Self.entry("CAL-7", calibrated))
        #expect(entry["due_on"] == "2027-05-01")
        #expect(entry["status"] == "calibrated")
        _ = try await client.call("result.record", Self.reading(build: build, "12.003", serial: "CAL-7", measuredAt: "2026-12-01T09:00:00.000Z"))

        // CAL-9 fell due on 2025-06-30: taken on that day, refused the day after, naming the date.
        let second = try #require(try await client.call("build.open", withKey(["serial": "SN-0002", "station": "bench-3", "operator": "olga"]))["build_id"]?.integerValue)
        _ = try await client.call("result.record", Self.reading(build: second, "12.000", serial: "CAL-9", measuredAt: "2025-06-30T23:59:59.999Z"))
        let overdue = await Self.refusal { _ = try await client.call("result.record", Self.reading(build: second, "12.000", serial: "CAL-9", measuredAt: "2025-07-01T00:00:00.000Z")) }
        #expect(overdue.code == .calibrationOverdue)
        #expect(overdue.message.contains("gauge CAL-9: calibration overdue since 2025-06-30"))

        // A failed calibration needs its assessment, then lists what CAL-7 measured since its
        // last good calibration (2026-11-02): the reading of 2026-12-01, not that of 2026-10-15.
        let failed: [String: JSONValue] = ["status": "failed", "calibrated_on": "2026-12-05"]
        #expect(await recordError { _ = try await client.call("calibration.record", Self.entry("CAL-7", failed)) } == .invalidParams)
        var assessed = failed
        assessed["assessment"] = "reads 0.03 mm long above 100 mm; bores under 20 mm unaffected"
        let failure = try await client.call("calibration.record", Self.entry("CAL-7", assessed))
        #expect(failure["affected"]?["since"] == "2026-11-02")
        #expect(failure["affected"]?["results"]?.arrayValue?.map { $0["value"] } == ["12.003"])
        #expect(failure["affected"]?["units"]?.arrayValue?.map { $0["serial"] } == ["SN-0001"])
        #expect(await recordError { _ = try await client.call("result.record", Self.reading(build: second, "12.004", serial: "CAL-7", measuredAt: "2026-12-06T09:00:00.000Z")) } == .deviceOutOfService)

        // Scans are never gated: SN-0002's board lot is scanned by a scanner without a serial.
        _ = try await client.call("result.record", Self.reading(build: second, "12.001", serial: "CAL-9", measuredAt: "2025-06-29T10:00:00.000Z"))
        _ = try await client.call("step.complete", withKey(["build_id": .integer(second), "signature": signature("olga")]))
        _ = try await client.call("result.record", withKey([
            "build_id": .integer(second), "kind": "scan", "text": "LOT-B-7731", "device": ["kind": "scanner"], "operator": "olga", "station": "bench-3",
        ]))
        #expect(try await harness.count("SELECT COUNT(*) FROM result") == 5, "only the five results taken are stored")

        // The trace lists every result of the device, or those since a date.
        let trace = try await client.call("trace.device", ["asset": "CAL-7"])
        #expect(trace["results"]?.arrayValue?.map { $0["value"] } == ["12.001", "12.003"])
        #expect(trace["calibration"]?["status"] == "failed")
        let since = try await client.call("trace.device", ["asset": "CAL-7", "since": "2026-11-01"])
        #expect(since["result_count"] == 1 && since["units"]?.arrayValue?.first?["work_order"] == "WO-1001")

        // The register and each device's history.
        let device = try await client.call("calibration.get", ["asset": "CAL-7"])
        #expect(device["history"]?.arrayValue?.map { $0["status"] } == ["calibrated", "failed"])
        let due = try await client.call("calibration.list", ["due_within_days": 0])
        #expect(Set(due["devices"]?.arrayValue?.compactMap { $0["asset"]?.stringValue } ?? []) == ["CAL-7", "CAL-9"])

        // Entries are in the audit chain and never change.
        #expect(try await harness.verifyFile().problem == nil)
        await #expect(throws: (any Error).self) { try await harness.tamper(["UPDATE calibration SET due_on = '2099-12-31' WHERE asset = 'CAL-9'"]) }
        try await harness.stop()
    }

    @Test("a point may admit an uncalibrated reference device; the DHR shows each result's calibration at the time", arguments: RecordHarness.backends)
    func referenceDeviceAndDHR(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        _ = try await client.call("record.import", withKey([
            "parts": [["number": "FX-1", "revision": "A"]],
            "instructions": [["part": "FX-1", "part_revision": "A", "operation": "010", "revision": "A", "title": "Fixture check", "steps": [
                ["key": "10", "title": "Reference", "points": [["name": "reference length", "kind": "measure", "unit": "mm", "lower": "9", "upper": "11", "allow_uncalibrated": true]]],
                ["key": "20", "title": "Gauge", "points": [["name": "bore", "kind": "measure", "unit": "mm", "lower": "11", "upper": "13"]]],
            ]]],
            "work_orders": [["number": "WO-7", "part": "FX-1", "part_revision": "A", "quantity": 1, "operations": ["010"], "serials": ["FX-0001"]]],
        ]))
        _ = try await client.call("instruction.approve", withKey(["part": "FX-1", "part_revision": "A", "operation": "010", "revision": "A", "signature": signature("ada")]))
        // The register, imported (each entry signed by quinn); without a signature it is refused.
        let calibrations: JSONValue = [["asset": "CAL-7", "status": "calibrated", "calibrated_on": "2026-11-02", "due_on": "2027-05-01", "certificate": "MET-1187"]]
        #expect(await recordError { _ = try await client.call("record.import", withKey(["calibrations": calibrations])) } == .invalidParams)
        let imported = try await client.call("record.import", withKey(["calibrations": calibrations, "signature": signature("quinn")]))
        #expect(imported["calibrations"] == 1)

        let build = try #require(try await client.call("build.open", withKey(["serial": "FX-0001", "station": "bench-3", "operator": "olga"]))["build_id"]?.integerValue)
        _ = try await client.call("result.record", CalibrationRecordTests.reading(build: build, "10.000", serial: "REF-1", measuredAt: "2026-12-01T09:00:00.000Z"))
        _ = try await client.call("step.complete", withKey(["build_id": .integer(build), "signature": signature("olga")]))
        #expect(await recordError { _ = try await client.call("result.record", CalibrationRecordTests.reading(build: build, "12.0", serial: "REF-1", measuredAt: "2026-12-01T09:01:00.000Z")) } == .deviceNotInRegister)
        _ = try await client.call("result.record", CalibrationRecordTests.reading(build: build, "12.000", serial: "CAL-7", measuredAt: "2026-12-01T09:02:00.000Z"))

        let dhr = try await client.call("dhr.export", ["serial": "FX-0001"])
        let results = dhr["builds"]?.arrayValue?.first?["results"]?.arrayValue ?? []
        #expect(results.map { $0["calibration"]?["due_on"] ?? .null } == [.null, "2027-05-01"])
        #expect(results.last?["calibration"]?["certificate"] == "MET-1187")
        // The signature of the entry is among the DHR's signatures.
        let signatureID = try #require(results.last?["calibration"]?["signature_id"])
        #expect(dhr["signatures"]?.arrayValue?.contains { $0["signature_id"] == signatureID && $0["record_type"] == "calibration" } == true)
        let page = DeviceHistoryPage.html(dhr)
        #expect(page.contains("calibrated, due 2027-05-01, certificate MET-1187"))
        try await harness.stop()
    }

    @Test("a week of builds: a failure found on day 7 lists exactly the units measured since the gauge's last good calibration, on day 4", arguments: RecordHarness.backends)
    func impactAfterAWeek(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let serials = (1...14).map { String(format: "WK-%03d", $0) }
        _ = try await client.call("record.import", withKey([
            "parts": [["number": "WK-1", "revision": "A"]],
            "instructions": [["part": "WK-1", "part_revision": "A", "operation": "010", "revision": "A", "title": "Shaft", "steps": [
                ["key": "10", "title": "Shaft", "points": [["name": "shaft", "kind": "measure", "unit": "mm", "lower": "7.95", "upper": "8.05"]]],
            ]]],
            "work_orders": [["number": "WO-WK", "part": "WK-1", "part_revision": "A", "quantity": 14, "operations": ["010"], "serials": .array(serials.map(JSONValue.string))]],
        ]))
        _ = try await client.call("instruction.approve", withKey(["part": "WK-1", "part_revision": "A", "operation": "010", "revision": "A", "signature": signature("ada")]))
        _ = try await client.call("calibration.record", Self.entry("CAL-7", ["status": "calibrated", "calibrated_on": "2026-10-01", "interval_days": 90, "certificate": "MET-0930"]))
        // Two units a day, 2 to 8 November; the gauge is calibrated again on the 5th, before that day's units.
        for (index, serial) in serials.enumerated() {
            let day = 2 + index / 2
            if index == 6 {
                _ = try await client.call("calibration.record", Self.entry("CAL-7", ["status": "calibrated", "calibrated_on": "2026-11-05", "interval_days": 90, "certificate": "MET-1105"]))
            }
            let build = try await GenealogyRecordTests.open(serial, client)
            let time = String(format: "2026-11-%02dT%02d:30:00.000Z", day, index % 2 == 0 ? 9 : 14)
            _ = try await client.call("result.record", Self.reading(build: build, index == 9 ? "8.061" : "8.004", serial: "CAL-7", measuredAt: time))
        }
        let failure = try await client.call("calibration.record", Self.entry("CAL-7", [
            "status": "failed", "calibrated_on": "2026-11-09", "assessment": "jaws worn: reads 0.02 mm short; re-measure the shafts",
        ]))
        let affected = try #require(failure["affected"])
        #expect(affected["since"] == "2026-11-05")
        #expect(affected["units"]?.arrayValue?.compactMap { $0["serial"]?.stringValue } == Array(serials[6...]))
        #expect(affected["units"]?.arrayValue?.map { $0["failed"] } == [0, 0, 0, 1, 0, 0, 0, 0])
        #expect(affected["result_count"] == 8 && affected["unit_count"] == 8)
        // The same list from the trace, and the whole week without --since.
        let since = try await client.call("trace.device", ["asset": "CAL-7", "since": "2026-11-05"])
        #expect(since["results"] == affected["results"])
        #expect(try await client.call("trace.device", ["asset": "CAL-7"])["unit_count"] == 14)
        try await harness.stop()
    }

    @Test("a device failed in the middle of a pipelined batch is refused from the next result on, in the same commit", arguments: RecordHarness.backends)
    func failureWithinABatch(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        _ = try await client.call("calibration.record", Self.entry("CAL-7", ["status": "calibrated", "calibrated_on": "2026-11-02", "due_on": "2027-05-01", "certificate": "MET-1"]))
        let first = try await GenealogyRecordTests.open("SN-0001", client), second = try await GenealogyRecordTests.open("SN-0002", client)
        let answers = await client.pipeline([
            ("result.record", Self.reading(build: first, "12.001", serial: "CAL-7", measuredAt: "2026-12-01T09:00:00.000Z")),
            ("calibration.record", Self.entry("CAL-7", ["status": "out-of-service"])),
            ("result.record", Self.reading(build: second, "12.002", serial: "CAL-7", measuredAt: "2026-12-01T09:01:00.000Z")),
            ("calibration.record", Self.entry("CAL-7", ["status": "calibrated", "calibrated_on": "2026-12-01", "due_on": "2027-06-01", "certificate": "MET-2"])),
            ("result.record", Self.reading(build: second, "12.003", serial: "CAL-7", measuredAt: "2026-12-01T09:02:00.000Z")),
        ])
        let codes = answers.map { answer -> RecordErrorCode? in
            if case .failure(let error) = answer { return error.code }
            return nil
        }
        #expect(codes == [nil, nil, .deviceOutOfService, nil, nil])
        #expect(try await harness.count("SELECT COUNT(*) FROM result") == 2)
        try await harness.stop()
    }
}

