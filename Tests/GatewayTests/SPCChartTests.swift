import FloorgateCore
import Foundation
import FoundationXML
import RecordProtocol
import StationPage
import Testing
import WorkRecord

/// The control chart the station page draws, from the record's own `spc.get` answer.
@Suite("The station page's control charts", .timeLimit(.minutes(2)))
struct SPCChartTests {
    /// A record with twelve units' bores measured (two readings each), the last nine shifted up.
    static func answer() async throws -> JSONValue {
        let harness = try StationHarness()
        try await harness.prepareRecord()
        let store = try await RecordStore.open(.sqlite(path: harness.recordPath), passwordRounds: 1_000)
        func perform(_ method: RecordMethod, _ params: JSONValue) async throws -> JSONValue {
            guard case .object(var members) = params else { return .null }
            if method.isWrite { members["idempotency_key"] = .string(UUIDv7.make()) }
            return try await store.perform(RecordCall(method: method, params: .object(members), peer: "test")).result
        }
        let serials = (1...12).map { String(format: "P-%02d", $0) }
        _ = try await perform(.recordImport, [
            "work_orders": [["number": "WO-2001", "part": "HX-200", "part_revision": "C", "quantity": 12, "operations": ["010"],
                             "serials": .array(serials.map(JSONValue.string)), "status": "released"]],
        ])
        for (index, serial) in serials.enumerated() {
            let open = try await perform(.buildOpen, ["serial": .string(serial), "station": "bench-3", "operator": "olga"])
            let base = index >= 3 ? 12_008 : 11_998 + index
            for value in [base, base + 2] {
                _ = try await perform(.resultRecord, [
                    "build_id": open["build_id"] ?? .null, "kind": "measure", "value": .string(String(format: "%d.%03d", value / 1000, value % 1000)),
                    "unit": "mm", "device": ["kind": "gauge"], "operator": "olga", "station": "bench-3",
                ])
            }
        }
        let answer = try await perform(.spcGet, ["part": "HX-200", "point": "bore diameter"])
        try await store.close()
        return answer
    }

    @Test("the chart is well-formed SVG with a mark per subgroup on each pane, flagged points as numbered diamonds and the notice in words")
    func chart() async throws {
        let answer = try await Self.answer()
        let figure = SPCChart.figure(answer)
        let document = try XMLDocument(xmlString: figure, options: [])
        #expect(try document.nodes(forXPath: "//*[local-name()='svg']").count == 1 && figure.contains("<svg class=\"spc-chart\" viewBox=\"0 0 640.00 340\" role=\"img\""))
        let subgroups = try #require(answer["subgroups"]?.arrayValue?.count)
        let flagged = try document.nodes(forXPath: "//*[local-name()='g'][@class='flagged']").count
        let plain = try document.nodes(forXPath: "//*[local-name()='circle']").count
        let dispersionMarks = subgroups  // ranges: one per subgroup
        #expect(flagged + plain == subgroups + dispersionMarks, "\(flagged) flagged, \(plain) plain, \(subgroups) subgroups")
        // One diamond per flagged point of each pane.
        let causes = try #require(answer["special_causes"]?.arrayValue)
        let flaggedPoints = Set(causes.map { "\($0["pane"]?.stringValue ?? "") \($0["build_id"]?.integerValue ?? 0)" })
        #expect(!causes.isEmpty && flagged == flaggedPoints.count, "\(flagged) diamonds for \(flaggedPoints.sorted())")
        #expect(figure.contains("9 average bore diameters in a row above the centre line"), "\(causes)")
        #expect(!figure.contains("<script"))
        // Each limit line is labelled with its figure.
        let labels = try document.nodes(forXPath: "//*[local-name()='text']").compactMap(\.stringValue)
        #expect(labels.contains { $0.hasPrefix("UCL ") } && labels.contains { $0.hasPrefix("X̄ ") } && labels.contains { $0.hasPrefix("LCL ") }, "\(labels)")
    }

    @Test("text from the record is escaped in the chart: a point's name cannot open an element")
    func escaped() throws {
        let report: JSONValue = [
            "point": "<img src=x onerror=alert(1)>", "step": "10", "chart": "I-MR", "phase": "I", "limits": .null,
            "subgroups": [["serial": "\"><script>", "location": .number(1.5), "dispersion": .null, "tests": []]],
            "special_causes": [], "capability": .null, "warnings": [],
        ]
        let figure = SPCChart.figure(report)
        #expect(!figure.contains("<img") && !figure.contains("<script") && figure.contains("&lt;img src=x onerror=alert(1)&gt;"))
        _ = try XMLDocument(xmlString: figure, options: [])
    }
}
