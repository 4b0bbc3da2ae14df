import FixtureSupport
import FloorgateCore
import Foundation
import RecordProtocol
import Testing
import WorkRecord

@Suite("A unit's route across stations", .timeLimit(.minutes(3)))
struct RouteTests {
    /// The example record plus part HX-400, whose work order routes each unit through `operations`
    /// (one step with one measured point each), and the stations' routes `stations`.
    private static func routedRecord(
        _ backend: RecordBackendKind, operations: JSONValue, stations: JSONValue
    ) async throws -> (RecordHarness, RecordClient) {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let codes = (operations.arrayValue ?? []).compactMap { $0.stringValue ?? $0["operation"]?.stringValue }
        let steps: JSONValue = [["key": "10", "title": "Measure", "points": [["name": "length", "kind": "measure", "unit": "mm", "lower": "11.98", "upper": "12.02"]]]]
        _ = try await client.call("record.import", withKey([
            "parts": [["number": "HX-400", "revision": "A"]],
            "instructions": .array(codes.map { ["part": "HX-400", "part_revision": "A", "operation": .string($0), "revision": "A", "title": "Op", "steps": steps] }),
            "work_orders": [["number": "WO-4", "part": "HX-400", "part_revision": "A", "quantity": 2, "operations": operations, "serials": ["R-1", "R-2"]]],
            "stations": stations,
        ]))
        for code in codes {
            _ = try await client.call("instruction.approve", withKey([
                "part": "HX-400", "part_revision": "A", "operation": .string(code), "revision": "A", "signature": signature("ada"),
            ]))
        }
        return (harness, client)
    }

    /// Opens the unit's next operation at `station`, records a passing length, completes and closes it.
    private static func build(_ serial: String, at station: String, operation: String? = nil, _ client: RecordClient) async throws -> JSONValue {
        let opened = try await client.call("build.open", withKey([
            "serial": .string(serial), "station": .string(station), "operator": "olga", "operation": operation.map(JSONValue.string) ?? .null,
        ]))
        let buildID = try #require(opened["build_id"]?.integerValue)
        _ = try await client.call("result.record", reading(build: buildID, "12.000"))
        _ = try await client.call("step.complete", withKey(["build_id": .integer(buildID), "signature": signature("olga")]))
        _ = try await client.call("build.close", withKey(["build_id": .integer(buildID), "signature": signature("quinn")]))
        return opened
    }

    /// The refusal of a call: its code and message.
    private static func refusal(_ body: () async throws -> Void) async -> (code: RecordErrorCode?, message: String) {
        do {
            try await body()
            return (nil, "")
        } catch {
            return ((error as? RecordCallError)?.code, "\(error)")
        }
    }

    @Test("a station opens only its operations, in route order; a refusal names where the unit goes next; the DHR lists the route's builds in order", arguments: RecordHarness.backends)
    func stationsOpenTheirOperations(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await Self.routedRecord(
            backend, operations: ["010", "020"],
            stations: [["station": "bench-1", "operations": ["010"]], ["station": "bench-7", "operations": ["020"]]])
        let early = await Self.refusal { _ = try await client.call("build.open", withKey(["serial": "R-1", "station": "bench-7", "operator": "olga"])) }
        #expect(early.code == .notOnRoute && early.message.contains("operation 010") && early.message.contains("bench-1"), "\(early)")
        let skipping = await Self.refusal {
            _ = try await client.call("build.open", withKey(["serial": "R-1", "station": "bench-7", "operator": "olga", "operation": "020"]))
        }
        #expect(skipping.code == .notOnRoute && skipping.message.contains("before operation 010"), "\(skipping)")

        #expect(try await Self.build("R-1", at: "bench-1", client)["operation"] == "010")
        let back = await Self.refusal { _ = try await client.call("build.open", withKey(["serial": "R-1", "station": "bench-1", "operator": "olga"])) }
        #expect(back.code == .notOnRoute && back.message.contains("operation 020 at station bench-7"), "\(back)")
        let elsewhere = await Self.refusal {
            _ = try await client.call("build.open", withKey(["serial": "R-1", "station": "bench-9", "operator": "olga", "operation": "020"]))
        }
        #expect(elsewhere.code == .notOnRoute && elsewhere.message.contains("done at station bench-7, not at bench-9"), "\(elsewhere)")
        #expect(try await Self.build("R-1", at: "bench-7", client)["operation"] == "020")
        let complete = await Self.refusal { _ = try await client.call("build.open", withKey(["serial": "R-1", "station": "bench-7", "operator": "olga"])) }
        #expect(complete.code == .serialComplete)

        let dhr = try await client.call("dhr.export", ["serial": "R-1"])
        #expect(dhr["builds"]?.arrayValue?.map { [$0["operation"], $0["station"]] } == [["010", "bench-1"], ["020", "bench-7"]])
        #expect(dhr["work_order"]?["route"] == [
            ["operation": "010", "optional": false, "stations": ["bench-1"]], ["operation": "020", "optional": false, "stations": ["bench-7"]],
        ])
        let page = DeviceHistoryPage.html(dhr)
        let first = try #require(page.range(of: "Operation 010")), second = try #require(page.range(of: "Operation 020"))
        #expect(page.contains("<h2>Route</h2>") && first.lowerBound < second.lowerBound, "the page shows the builds in route order")
        try await harness.stop()
        #expect(try await harness.verifyFile().problem == nil)
    }

    @Test("an optional operation may be passed over, and then not done later; a required one may not be skipped; one build at a time", arguments: RecordHarness.backends)
    func optionalOperations(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await Self.routedRecord(
            backend, operations: ["010", ["operation": "015", "optional": true], "020", "030"], stations: [])
        _ = try await Self.build("R-1", at: "bench-1", client)
        let ahead = await Self.refusal {
            _ = try await client.call("build.open", withKey(["serial": "R-1", "station": "bench-1", "operator": "olga", "operation": "030"]))
        }
        #expect(ahead.code == .notOnRoute && ahead.message.contains("before operation 020"), "\(ahead)")
        #expect(try await Self.build("R-1", at: "bench-1", operation: "020", client)["operation"] == "020", "015 is optional: it may be passed over")
        let late = await Self.refusal {
            _ = try await client.call("build.open", withKey(["serial": "R-1", "station": "bench-1", "operator": "olga", "operation": "015"]))
        }
        #expect(late.code == .notOnRoute && late.message.contains("passed over") && late.message.contains("operation 030"), "\(late)")
        #expect(try await Self.build("R-1", at: "bench-1", client)["operation"] == "030", "a scan goes on from where the unit is, not back")
        let through = await Self.refusal { _ = try await client.call("build.open", withKey(["serial": "R-1", "station": "bench-1", "operator": "olga"])) }
        #expect(through.code == .serialComplete, "\(through)")

        // One build at a time: an operation asked for while another is open is refused, naming it.
        _ = try await client.call("build.open", withKey(["serial": "R-2", "station": "bench-1", "operator": "olga"]))
        let second = await Self.refusal {
            _ = try await client.call("build.open", withKey(["serial": "R-2", "station": "bench-2", "operator": "olga", "operation": "015"]))
        }
        #expect(second.code == .openElsewhere && second.message.contains("operation 010 open at station bench-1"), "\(second)")
        let malformed = await Self.refusal {
            _ = try await client.call("record.import", withKey([
                "work_orders": [["number": "WO-5", "part": "HX-400", "part_revision": "A", "quantity": 1, "operations": ["010", ["optional": true]], "serials": ["R-9"]]],
            ]))
        }
        #expect(malformed.code == .invalidParams && malformed.message.contains("params.work_orders[0].operations[1].operation"), "\(malformed)")
        try await harness.stop()
    }

    @Test("route.set: an engineer's signed change routes a station from the next build on; anyone else is refused", arguments: RecordHarness.backends)
    func routeChanges(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await Self.routedRecord(
            backend, operations: ["010"], stations: [["station": "bench-1", "operations": ["010"]]])
        let notYet = await Self.refusal { _ = try await client.call("build.open", withKey(["serial": "R-1", "station": "bench-2", "operator": "olga"])) }
        #expect(notYet.code == .notOnRoute)
        let byOperator = await Self.refusal {
            _ = try await client.call("route.set", withKey(["station": "bench-2", "operations": ["010"], "signature": signature("olga")]))
        }
        #expect(byOperator.code == .roleNotPermitted)
        let set = try await client.call("route.set", withKey(["station": "bench-2", "operations": ["010"], "signature": signature("eric")]))
        #expect(set["station"] == "bench-2" && set["signature_id"]?.integerValue != nil)
        #expect(try await Self.build("R-1", at: "bench-2", client)["station"] == "bench-2")
        // The route's history stays: the change is a new row, signed, and the chain covers it.
        #expect(try await harness.count("SELECT COUNT(*) FROM station_route") == 2)
        try await harness.stop()
        #expect(try await harness.verifyFile().problem == nil)
    }
}
