import FixtureSupport
import FloorgateCore
import Foundation
import RecordProtocol
import Testing
import WorkRecord

@Suite("Moving a station's record into the plant's", .timeLimit(.minutes(3)))
struct MoveInTests {
    /// A station's SQLite record holding the whole documented session (docs/record-protocol.md):
    /// two units, results, a nonconformance and its disposition, a redline and its
    /// acknowledgement, a correction, signatures of every kind.
    private static func stationRecord() async throws -> RecordHarness {
        let station = try await RecordHarness(.sqlite)
        let client = station.client()
        for example in try ProtocolDocumentTests.examples() {
            _ = try await client.exchange(rawLine: example.request.text)
        }
        try await station.stop()
        return station
    }

    /// The unit's DHR from the record at `location`.
    private static func dhr(_ serial: String, at location: RecordLocation) async throws -> JSONValue {
        let store = try await RecordStore.open(location, passwordRounds: 1_000)
        let dhr = try await store.perform(RecordCall(method: .dhrExport, params: ["serial": .string(serial)], peer: "test")).result
        try await store.close()
        return dhr
    }

    /// `value` without what differs between two records holding the same history: ids (and the
    /// references made of them), the audit chain's head and length, the time of the export, and
    /// which stations the route names (a station's routes stay behind: the plant routes its own).
    private static func withoutIDs(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            let kept = members.filter { key, _ in
                !(key == "id" || key.hasSuffix("_id") || key.hasSuffix("_signature") || key.hasPrefix("audit_")
                    || ["corrects", "remeasures_nc", "generated_at", "stations"].contains(key))
            }
            return .object(kept.mapValues(withoutIDs))
        case .array(let elements):
            return .array(elements.map(withoutIDs))
        default:
            return value
        }
    }

    /// Where `left` and `right` differ, as paths (`builds[0].results[1].value`), for messages.
    private static func differences(_ left: JSONValue, _ right: JSONValue, at path: String = "") -> [String] {
        switch (left, right) {
        case (.object(let a), .object(let b)):
            return Set(a.keys).union(b.keys).sorted().flatMap { key in
                differences(a[key] ?? .null, b[key] ?? .null, at: path.isEmpty ? key : "\(path).\(key)")
            }
        case (.array(let a), .array(let b)) where a.count == b.count:
            return zip(a, b).enumerated().flatMap { index, pair in differences(pair.0, pair.1, at: "\(path)[\(index)]") }
        default:
            return left == right ? [] : ["\(path): \(left.text) ≠ \(right.text)"]
        }
    }

    @Test("every unit moves with its whole history: the DHRs match but for ids and heads, both records verify, the station's is untouched", arguments: RecordHarness.backends)
    func unitsMoveWithTheirHistory(_ backend: RecordBackendKind) async throws {
        let station = try await Self.stationRecord()
        let sourceHead = try await station.verifyFile().head
        let plant = try await RecordHarness(backend)
        try await plant.stop()
        let plantEntries = try await plant.count("SELECT COUNT(*) FROM audit")

        let outcome = try await RecordMoveIn.move(from: station.databasePath, to: plant.location, mover: "quinn")
        #expect(outcome.serials == ["SN-1", "SN-2"])
        #expect(outcome.sourceHead == sourceHead)
        #expect(outcome.copied["build"] == 2 && (outcome.copied["result"] ?? 0) >= 4, "\(outcome.copied)")

        for serial in outcome.serials {
            let before = Self.withoutIDs(try await Self.dhr(serial, at: station.location))
            let after = Self.withoutIDs(try await Self.dhr(serial, at: plant.location))
            #expect(after == before, "\(serial)'s DHR changed in the move: \(Self.differences(before, after).prefix(5))")
        }
        let moved = try await plant.verifyFile()
        #expect(moved.problem == nil, "\(moved.problem ?? "")")
        #expect(try await plant.count("SELECT COUNT(*) FROM audit WHERE action = 'move-in' AND peer LIKE '%\(sourceHead)%'") > 0)
        let untouched = try await station.verifyFile()
        #expect(untouched.problem == nil && untouched.head == sourceHead)

        // Moving the same station again is refused whole: the plant holds those builds.
        let entries = try await plant.count("SELECT COUNT(*) FROM audit")
        #expect(entries > plantEntries)
        await #expect(throws: WorkRecordError.self) { _ = try await RecordMoveIn.move(from: station.databasePath, to: plant.location, mover: "quinn") }
        #expect(try await plant.count("SELECT COUNT(*) FROM audit") == entries)
    }

    @Test("a revision's pictures move with it: the plant serves their bytes and its DHR names them", arguments: RecordHarness.backends)
    func picturesMove(_ backend: RecordBackendKind) async throws {
        let station = try await RecordHarness(.sqlite)
        let client = station.client()
        _ = try await client.call("record.import", withKey(try RecordHarness.exampleImport))
        let stored = try await client.call("media.put", withKey(["content_type": "image/png", "data": .string(Data(StepPictureTests.png).base64EncodedString())]))
        let hash = try #require(stored["hash"])
        _ = try await client.call("record.import", withKey([
            "instructions": [["part": "HX-200", "part_revision": "C", "operation": "030", "revision": "A", "title": "Bore check", "steps": [[
                "key": "10", "title": "Check bore", "pictures": [["hash": hash, "caption": "gauge position"]],
                "points": [["name": "bore", "kind": "measure", "unit": "mm", "lower": "11.98", "upper": "12.02"]],
            ]]]],
            "work_orders": [["number": "WO-30", "part": "HX-200", "part_revision": "C", "quantity": 1, "operations": ["030"], "serials": ["PIC-1"], "status": "released"]],
        ]))
        _ = try await client.call("instruction.approve", withKey(["part": "HX-200", "part_revision": "C", "operation": "030", "revision": "A", "signature": signature("ada")]))
        let build = try await client.call("build.open", withKey(["serial": "PIC-1", "station": "bench-3", "operator": "olga"]))
        _ = try await client.call("result.record", reading(build: try #require(build["build_id"]?.integerValue), "12.001"))
        try await station.stop()
        let plant = try await RecordHarness(backend)
        try await plant.stop()
        let outcome = try await RecordMoveIn.move(from: station.databasePath, to: plant.location, mover: "quinn")
        #expect(outcome.serials == ["PIC-1"] && outcome.copied["media"] == 1, "\(outcome.copied)")
        let store = try await RecordStore.open(plant.location, passwordRounds: 1_000)
        let served = try await store.perform(RecordCall(method: .mediaGet, params: ["hash": hash], peer: "test")).result
        try await store.close()
        #expect(served["data"] == .string(Data(StepPictureTests.png).base64EncodedString()))
        let dhr = try await Self.dhr("PIC-1", at: plant.location)
        #expect(dhr["builds"]?.arrayValue?.first?["instruction_revisions"]?.arrayValue?.first?["pictures"] == [["step": "10", "hash": hash, "caption": "gauge position"]])
        #expect(try await plant.verifyFile().problem == nil)
    }

    @Test("components, part identifiers and calibration entries move with the units: the plant traces the assembly as the station did, and its register keeps time order", arguments: RecordHarness.backends)
    func genealogyAndCalibrationsMove(_ backend: RecordBackendKind) async throws {
        let (station, client) = try await GenealogyRecordTests.record(.sqlite)
        let module = try await GenealogyRecordTests.open("M-001", client)
        _ = try await client.call("result.record", GenealogyRecordTests.scan(module, "01\(GenealogyRecordTests.board)10LOT-7"))
        let top = try await GenealogyRecordTests.open("T-001", client)
        _ = try await client.call("result.record", GenealogyRecordTests.scan(top, "01\(GenealogyRecordTests.module)21M-001"))
        _ = try await client.call("calibration.record", CalibrationRecordTests.entry("CAL-7", [
            "status": "calibrated", "calibrated_on": "2026-11-02", "due_on": "2027-05-01", "certificate": "MET-1187",
        ]))
        let stationTrace = try await client.call("trace.unit", ["serial": "T-001"])
        try await station.stop()

        // The plant's own register holds a newer entry for CAL-7: it stays the device's state.
        let plant = try await RecordHarness(backend)
        let desk = plant.client()
        _ = try await desk.call("record.import", withKey(try RecordHarness.exampleImport))
        _ = try await desk.call("calibration.record", CalibrationRecordTests.entry("CAL-7", ["status": "out-of-service"]))
        try await plant.stop()

        let outcome = try await RecordMoveIn.move(from: station.databasePath, to: plant.location, mover: "quinn")
        #expect(outcome.copied["component_use"] == 2 && outcome.copied["part_identifier"] == 4 && outcome.copied["calibration"] == 1, "\(outcome.copied)")
        let store = try await RecordStore.open(plant.location, passwordRounds: 1_000)
        let plantTrace = try await store.perform(RecordCall(method: .traceUnit, params: ["serial": "T-001"], peer: "test")).result
        let register = try await store.perform(RecordCall(method: .calibrationGet, params: ["asset": "CAL-7"], peer: "test")).result
        try await store.close()
        #expect(Self.differences(Self.withoutIDs(plantTrace), Self.withoutIDs(stationTrace)).isEmpty, "\(Self.differences(Self.withoutIDs(plantTrace), Self.withoutIDs(stationTrace)))")
        // The station's entry is older than the plant's: it takes its place before it, and the
        // plant's stays the device's state.
        #expect(register["history"]?.arrayValue?.map { $0["status"] } == ["calibrated", "out-of-service"])
        #expect(register["current"]?["status"] == "out-of-service")
        #expect(try await plant.verifyFile().problem == nil)
    }

    @Test("a station record that does not verify is refused before anything is written")
    func tamperedStationIsRefused() async throws {
        let station = try await Self.stationRecord()
        try await station.tamper(["DROP TRIGGER result_no_update", "UPDATE result SET value = '12.000' WHERE id = 1"])
        let plant = try await RecordHarness(.sqlite)
        try await plant.stop()
        let entries = try await plant.count("SELECT COUNT(*) FROM audit")
        do {
            _ = try await RecordMoveIn.move(from: station.databasePath, to: plant.location, mover: "quinn")
            Issue.record("a tampered record was moved")
        } catch let error as WorkRecordError {
            #expect(error.message.contains("does not verify") && error.message.contains("nothing was moved"), "\(error)")
        }
        #expect(try await plant.count("SELECT COUNT(*) FROM audit") == entries)
    }

    @Test("what the plant already holds (users, part, the approved revision, the work order) is used, not copied, and the units' builds move whole", arguments: RecordHarness.backends)
    func heldRowsAreUsed(_ backend: RecordBackendKind) async throws {
        let station = try await Self.stationRecord()
        let plant = try await RecordHarness(backend)
        for example in try ProtocolDocumentTests.examples().prefix(2) {  // the same import and approval
            _ = try await plant.client().exchange(rawLine: example.request.text)
        }
        try await plant.stop()
        let outcome = try await RecordMoveIn.move(from: station.databasePath, to: plant.location, mover: "quinn")
        // The users both hold are used; the one who joined the station later (quincy) is copied.
        #expect(outcome.copied["user"] == 1 && outcome.copied["part"] == nil && outcome.copied["work_order"] == nil, "\(outcome.copied)")
        #expect(outcome.copied["build"] == 2)
        for serial in outcome.serials {
            let before = Self.withoutIDs(try await Self.dhr(serial, at: station.location)["builds"] ?? .null)
            let after = Self.withoutIDs(try await Self.dhr(serial, at: plant.location)["builds"] ?? .null)
            #expect(after == before, "\(serial)'s builds changed in the move: \(Self.differences(before, after).prefix(5))")
        }
        #expect(try await plant.verifyFile().problem == nil)
    }
}
