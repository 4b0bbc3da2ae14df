import FloorgateCore
import Foundation
import RecordProtocol
import Testing

/// `floorgate spc` against a record server: the chart as text, CSV and JSON, and freezing its limits.
@Suite("floorgate spc", .timeLimit(.minutes(2)))
struct SPCCommandTests {
    @Test("the chart in three forms agrees with what was measured; a freeze is signed and makes Phase II")
    func threeFormsAndAFreeze() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (server, socket) = try await FloorgateChild.approvedExampleRecord(in: scratch)
        defer { server.kill(SIGKILL) }
        // Three units, the bore measured twice on each.
        let measured = [["12.004", "12.001"], ["11.996", "11.999"], ["12.010", "12.006"]]
        let client = RecordClient(socketPath: socket)
        for (index, values) in measured.enumerated() {
            let open = try await client.call("build.open", keyed(["serial": .string("SN-000\(index + 1)"), "station": "bench-3", "operator": "olga"]))
            for value in values {
                _ = try await client.call("result.record", keyed([
                    "build_id": open["build_id"] ?? .null, "kind": "measure", "value": .string(value), "unit": "mm",
                    "device": ["kind": "gauge"], "operator": "olga", "station": "bench-3",
                ]))
            }
        }
        let point = ["--part", "HX-200", "--point", "bore diameter", "--socket", socket]

        let csv = try await FloorgateProcess.run(["spc"] + point + ["--format", "csv"])
        #expect(csv.status == 0, "\(csv.standardError)")
        let rows = csv.standardOutput.components(separatedBy: "\r\n").filter { !$0.isEmpty }.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.first == ["subgroup", "build_id", "serial", "result_id", "value", "unit", "subgroup_location", "subgroup_dispersion", "tests"])
        #expect(rows.dropFirst().map { [$0[0], $0[2], $0[4], $0[5]] } == measured.enumerated().flatMap { index, values in
            values.map { ["\(index + 1)", "SN-000\(index + 1)", $0, "mm"] }
        })
        // The subgroup's average and range, to a digit beyond the readings'.
        #expect(rows.dropFirst().map { [$0[6], $0[7]] }.first == ["12.0025", "0.003"])

        let json = try await FloorgateProcess.run(["spc"] + point + ["--json"])
        let report = try JSONValue(parsing: Array(json.standardOutput.utf8))
        #expect(report["chart"] == "Xbar-R" && report["phase"] == "I" && report["subgroups"]?.arrayValue?.count == 3)

        let text = try await FloorgateProcess.run(["spc", "show"] + point + ["--format", "text"])
        let lines = text.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.first == "HX-200 operation 010 step 10 'bore diameter' (revision A), mm", "\(lines)")
        #expect(lines.contains("Xbar-R, subgroups of 2; Phase I: limits from 3 subgroups"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("  note: only 3 subgroups (6 values)") }, "\(lines)")

        let refused = try await FloorgateProcess.run(["spc", "freeze"] + point + ["--user", "olga"], input: Array("bench-olga-1\n".utf8))
        #expect(refused.status == 1 && refused.standardError.contains("record error 1009"), "\(refused.standardError)")
        let frozen = try await FloorgateProcess.run(["spc", "freeze"] + point + ["--baseline", "2", "--user", "quinn", "--json"], input: Array("bench-quinn-1\n".utf8))
        #expect(frozen.status == 0, "\(frozen.standardError)")
        let after = try await FloorgateProcess.run(["spc"] + point + ["--format", "text"])
        #expect(after.standardOutput.contains("Phase II: limits from 2 subgroups, frozen by Quinn Quality (quinn)"), "\(after.standardOutput)")

        let usage = try await FloorgateProcess.run(["spc"] + point + ["--format", "xlsx"])
        #expect(usage.status == 2 && usage.standardError.contains("--format 'xlsx' is not one of: text, csv, json"), "\(usage.standardError)")
        let unknown = try await FloorgateProcess.run(["spc", "--part", "HX-200", "--point", "thread", "--socket", socket])
        #expect(unknown.status == 1 && unknown.standardError.contains("no approved instruction of part 'HX-200' has a point 'thread'"), "\(unknown.standardError)")
    }
}
