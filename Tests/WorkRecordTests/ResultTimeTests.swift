import FixtureSupport
import FloorgateCore
import Foundation
import RecordProtocol
import Testing
import WorkRecord

/// A result's time is held to the record's clock: it must be a time, not in the future; a late
/// result is kept and marked, and one measured before the build's previous result is noted.
@Suite("Results' times", .timeLimit(.minutes(2)))
struct ResultTimeTests {
    static func at(_ offset: TimeInterval) -> String {
        Date().addingTimeInterval(offset).formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func reading(_ build: Int64, _ value: String, measuredAt: String) -> JSONValue {
        guard case .object(var params) = WorkRecordTests.reading(build: build, value) else { return .null }
        params["measured_at"] = .string(measuredAt)
        return .object(params)
    }

    @Test("not a time or ahead of the clock: refused, nothing stored; late: kept and marked with both times; out of order: noted", arguments: RecordHarness.backends)
    func times(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let open = try await client.call("build.open", withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"]))
        let build = try #require(open["build_id"]?.integerValue)

        #expect(await recordError { _ = try await client.call("result.record", Self.reading(build, "12.001", measuredAt: "not a time")) } == .timeUnreadable)
        #expect(await recordError { _ = try await client.call("result.record", Self.reading(build, "12.001", measuredAt: "1999-13-40T00:00:00Z")) } == .timeUnreadable)
        #expect(await recordError { _ = try await client.call("result.record", Self.reading(build, "12.001", measuredAt: Self.at(300))) } == .timeInFuture)
        #expect(try await client.call("build.get", ["build_id": .integer(build)])["active_step"]?["points"]?.arrayValue?.first?["open"] == 2)

        // Within the minute the clocks may differ: in time.
        let inTime = try await client.call("result.record", Self.reading(build, "12.001", measuredAt: Self.at(20)))
        #expect(inTime["late"] == nil && inTime["time_note"] == nil)
        // Queued for an hour: kept, marked late, both times in the DHR.
        let late = try await client.call("result.record", Self.reading(build, "12.002", measuredAt: Self.at(-3_600)))
        #expect(late["late"] == true)
        #expect(late["time_note"]?.stringValue?.hasPrefix("recorded 1 h 0 min after it was measured") == true)
        #expect(late["time_note"]?.stringValue?.contains("measured before result \(inTime["result_id"]?.text ?? "?")") == true)

        let results = try #require(try await client.call("dhr.export", ["serial": "SN-0001"])["builds"]?.arrayValue?.first?["results"]?.arrayValue)
        #expect(results.map { $0["late"] } == [false, true])
        #expect(results.first?["time_note"] == .null && results.last?["time_note"] == late["time_note"])
        // Each result states the limits it was judged against; the printed DHR shows them with the note.
        #expect(results.first?["limits"] == ["angle_max": .null, "angle_min": .null, "lower": "11.980", "nominal": "12.000", "unit": "mm", "upper": "12.020"])
        let page = DeviceHistoryPage.html(try await client.call("dhr.export", ["serial": "SN-0001"]))
        #expect(page.contains("11.980 … 12.020 mm"))
        #expect(page.contains("recorded 1 h 0 min after it was measured"))
        try await harness.stop()
        #expect(try await harness.verifyFile().problem == nil)
    }
}
