import FixtureSupport
import FloorgateCore
import Foundation
import RecordProtocol
import Testing
import WorkRecord

/// `spc.get` and `spc.freeze` on a real record: builds measured over the socket, a correction
/// and a re-measurement among them, figures checked against the independent computation.
@Suite("SPC in the record", .timeLimit(.minutes(4)))
struct SPCRecordTests {
    /// Part HX-400: step 10 measures "bore" twice per unit (11.980 … 12.020 mm); step 20 has a
    /// "bore" of its own, so the name alone is ambiguous.
    static func record(_ backend: RecordBackendKind, serials: Int) async throws -> (RecordHarness, RecordClient) {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let steps: JSONValue = [
            ["key": "10", "title": "Bore", "points": [["name": "bore", "kind": "measure", "unit": "mm", "lower": "11.980", "upper": "12.020", "count": 2]]],
            ["key": "20", "title": "Counterbore", "points": [["name": "bore", "kind": "measure", "unit": "mm", "lower": "15.90", "upper": "16.10"]]],
        ]
        _ = try await client.call("record.import", withKey([
            "parts": [["number": "HX-400", "revision": "A"]],
            "instructions": [["part": "HX-400", "part_revision": "A", "operation": "010", "revision": "A", "title": "Housing", "steps": steps]],
            "work_orders": [[
                "number": "WO-400", "part": "HX-400", "part_revision": "A", "quantity": .integer(Int64(serials)), "operations": ["010"],
                "serials": .array((1...serials).map { .string(String(format: "U-%03d", $0)) }),
            ]],
        ]))
        _ = try await client.call("instruction.approve", withKey([
            "part": "HX-400", "part_revision": "A", "operation": "010", "revision": "A", "signature": signature("ada"),
        ]))
        return (harness, client)
    }

    /// The readings of build `index` (0-based): two values at a thousandth of a millimetre, the
    /// last ten builds shifted up.
    static func values(_ index: Int) -> [String] {
        let base = 11_995 + (index * 7) % 11 + (index >= 20 ? 12 : 0)
        return [base, base + (index * 3) % 5 - 2].map { String(format: "%d.%03d", $0 / 1000, $0 % 1000) }
    }

    @Test("one subgroup per build, superseded readings left out, figures as the independent computation gives them; frozen limits are signed and judged against", arguments: RecordHarness.backends)
    func chartOfABuildSeries(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await Self.record(backend, serials: 30)
        var expected: [[String]] = []
        for index in 0..<30 {
            let open = try await client.call("build.open", withKey(["serial": .string(String(format: "U-%03d", index + 1)), "station": "bench-3", "operator": "olga"]))
            let buildID = try #require(open["build_id"]?.integerValue)
            var values = Self.values(index)
            switch index {
            case 4:
                // A reading corrected with a quality signature: the correction counts, not the slip.
                let slip = try await client.call("result.record", reading(build: buildID, "12.019"))
                _ = try await client.call("result.record", reading(build: buildID, values[1]))
                guard case .object(var correction) = reading(build: buildID, values[0]) else { throw SPCTestError.notAnObject }
                correction["result_id"] = slip["result_id"]
                correction["reason"] = "transcription: the gauge was zeroed on the wrong face"
                correction["signature"] = signature("quinn")
                _ = try await client.call("result.correct", .object(correction))
                values = [values[1], values[0]]  // in the order recorded
            case 7:
                // A failed reading re-measured after rework: the re-measurement counts.
                let failed = try await client.call("result.record", reading(build: buildID, "12.031"))
                #expect(failed["verdict"] == "fail_high")
                _ = try await client.call("nc.disposition", withKey([
                    "nc_id": failed["nc_id"] ?? .null, "disposition": "rework", "comment": "re-ream", "signature": signature("quinn"),
                ]))
                for value in values { _ = try await client.call("result.record", reading(build: buildID, value)) }
            case 29:
                // A build in progress: one reading of two, left out of the chart.
                values = Array(values.prefix(1))
                _ = try await client.call("result.record", reading(build: buildID, values[0]))
                continue
            default:
                for value in values { _ = try await client.call("result.record", reading(build: buildID, value)) }
            }
            expected.append(values)
        }

        let point: JSONValue = ["part": "HX-400", "point": "bore", "step": "10"]
        let report = try await client.call("spc.get", point)
        #expect(report["chart"] == "Xbar-R" && report["subgroup_size"] == 2 && report["phase"] == "I" && report["unit"] == "mm")
        #expect(report["incomplete_subgroups"] == 1)
        let subgroups = try #require(report["subgroups"]?.arrayValue)
        #expect(subgroups.map { $0["values"]?.arrayValue?.compactMap(\.stringValue) ?? [] } == expected)
        #expect(subgroups.first?["serial"] == "U-001")

        let numbers = expected.map { $0.compactMap(Double.init) }
        let reference = try await SPCStatisticsTests.reference(["subgroups": .array(numbers.map { .array($0.map(JSONValue.number)) }), "lower": .number(11.98), "upper": .number(12.02)])
        // The record rounds its figures to a digit beyond the readings' (4 places), indices to 2.
        func rounded(_ answer: JSONValue?, _ expected: JSONValue?, places: Int, _ what: String) {
            guard case .number(let value)? = answer, case .number(let reference)? = expected else {
                Issue.record("\(what): \(String(describing: answer)) against \(String(describing: expected))")
                return
            }
            #expect(abs(value - reference) <= pow(10, -Double(places)) / 2 + 1e-12, "\(what): \(value) against \(reference)")
        }
        for name in ["centre", "lower", "upper"] {
            rounded(report["limits"]?["location"]?[name], reference["limits"]?[name], places: 4, "X̄ \(name)")
        }
        rounded(report["limits"]?["dispersion"]?["upper"], reference["dispersion_limits"]?["upper"], places: 3, "R upper")
        for name in ["cp", "cpk", "pp", "ppk"] {
            rounded(report["capability"]?[name], reference["capability"]?[name], places: 2, name)
        }
        let flagged = (reference["special_causes"]?.arrayValue ?? []).compactMap { $0.arrayValue?.first?.integerValue }
        let causes = try #require(report["special_causes"]?.arrayValue)
        #expect(causes.compactMap { $0["serial"]?.stringValue } == flagged.map { subgroups[Int($0)]["serial"]?.stringValue ?? "" })
        #expect(causes.contains { $0["notice"]?.stringValue?.hasSuffix(" average bores in a row above the centre line") == true }, "\(causes)")
        // 29 subgroups are enough for the indices to mean something: no warning.
        #expect(report["capability"]?["warnings"] == [] && report["capability"]?["subgroups"] == 29, "\(report["capability"]?.text ?? "no capability")")
        #expect(try await client.call("spc.get", ["part": "HX-400", "point": "bore", "step": "10", "last": 5])["subgroups"]?.arrayValue?.count == 5)

        // Freezing: a quality signature, limits from the first 20 subgroups, then Phase II.
        #expect(await recordError { _ = try await client.call("spc.freeze", withKey(["part": "HX-400", "point": "bore", "step": "10", "signature": signature("olga")])) } == .roleNotPermitted)
        #expect(await recordError { _ = try await client.call("spc.freeze", withKey(["part": "HX-400", "point": "bore", "step": "10", "baseline": 1, "signature": signature("quinn")])) } == .tooFewSubgroups)
        let frozen = try await client.call("spc.freeze", withKey(["part": "HX-400", "point": "bore", "step": "10", "baseline": 20, "signature": signature("quinn")]))
        #expect(frozen["phase"] == "II" && frozen["limits"]?["frozen"]?["by"] == "quinn" && frozen["limits"]?["baseline_subgroups"] == 20)
        let phaseTwo = try await client.call("spc.get", point)
        let baseline = try await SPCStatisticsTests.reference([
            "subgroups": .array(numbers.map { .array($0.map(JSONValue.number)) }), "lower": .number(11.98), "upper": .number(12.02), "baseline": 20,
        ])
        #expect(phaseTwo["phase"] == "II" && phaseTwo["limits"]?["frozen"]?["printed_name"] == "Quinn Quality")
        for name in ["centre", "lower", "upper"] {
            rounded(phaseTwo["limits"]?["location"]?[name], baseline["limits"]?[name], places: 4, "frozen X̄ \(name)")
        }
        let phaseTwoFlags = (baseline["special_causes"]?.arrayValue ?? []).compactMap { $0.arrayValue?.first?.integerValue }
        #expect(phaseTwo["special_causes"]?.arrayValue?.compactMap { $0["build_id"]?.integerValue } == phaseTwoFlags.map { subgroups[Int($0)]["build_id"]?.integerValue ?? 0 })

        // The name alone is ambiguous; an unknown point is not found; a frozen row never changes.
        #expect(await recordError { _ = try await client.call("spc.get", ["part": "HX-400", "point": "bore"]) } == .ambiguousPoint)
        #expect(await recordError { _ = try await client.call("spc.get", ["part": "HX-400", "point": "thread"]) } == .notFound)
        await #expect(throws: (any Error).self) { try await harness.tamper(["UPDATE spc_limits SET upper = '99'"]) }
        try await harness.stop()
        #expect(try await harness.verifyFile().problem == nil)
    }
}

enum SPCTestError: Error { case notAnObject }
