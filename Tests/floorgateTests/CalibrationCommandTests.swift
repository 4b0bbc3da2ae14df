import FloorgateCore
import Foundation
import Testing

/// `floorgate record calibration` and `floorgate trace` against a record server, as a quality
/// engineer runs them.
@Suite("Calibration and trace commands", .timeLimit(.minutes(3)))
struct CalibrationCommandTests {
    @Test("add signs an entry (the password read from standard input), list and show report it, a missing field is named, and trace prints the record's answer")
    func calibrationCommands() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (server, socket) = try await FloorgateChild.approvedExampleRecord(in: scratch)
        defer { server.kill(SIGTERM) }

        let add = ["record", "calibration", "add", "--asset", "CAL-0042", "--status", "calibrated", "--calibrated-on", "2026-11-02",
                   "--interval-days", "180", "--certificate", "MET-2026-1187", "--user", "quinn", "--socket", socket]
        let added = try await FloorgateProcess.run(add + ["--json"], input: Array("bench-quinn-1\n".utf8))
        #expect(added.status == 0, "\(added.standardError)")
        let entry = try JSONValue(parsing: Array(added.standardOutput.utf8))
        #expect(entry["due_on"] == "2027-05-01" && entry["status"] == "calibrated")

        // A calibration without its certificate is refused, naming the field; nothing is added.
        let incomplete = try await FloorgateProcess.run(
            ["record", "calibration", "add", "--asset", "CAL-0043", "--status", "calibrated", "--calibrated-on", "2026-11-02", "--due-on", "2027-05-01",
             "--user", "quinn", "--socket", socket], input: Array("bench-quinn-1\n".utf8))
        #expect(incomplete.status == 1 && incomplete.standardError.contains("params.certificate is required"), "\(incomplete.standardError)")
        let badStatus = try await FloorgateProcess.run(["record", "calibration", "add", "--asset", "X", "--status", "ok", "--user", "quinn", "--socket", socket])
        #expect(badStatus.status == 2 && badStatus.standardError.contains("calibrated, failed, out-of-service"), "\(badStatus.standardError)")

        let list = try await FloorgateProcess.run(["record", "calibration", "list", "--socket", socket, "--json"])
        #expect(try JSONValue(parsing: Array(list.standardOutput.utf8))["devices"]?.arrayValue?.map { $0["asset"] } == ["CAL-0042"])
        let shown = try await FloorgateProcess.run(["record", "calibration", "show", "CAL-0042", "--socket", socket, "--json"])
        #expect(try JSONValue(parsing: Array(shown.standardOutput.utf8))["history"]?.arrayValue?.count == 1)
        let missing = try await FloorgateProcess.run(["record", "calibration", "show", "CAL-9999", "--socket", socket])
        #expect(missing.status == 1 && missing.standardError.contains("no device 'CAL-9999' in the calibration register"), "\(missing.standardError)")

        let trace = try await FloorgateProcess.run(["trace", "--device", "CAL-0042", "--since", "2026-11-02", "--socket", socket])
        let found = try JSONValue(parsing: Array(trace.standardOutput.utf8))
        #expect(trace.status == 0 && found["asset"] == "CAL-0042" && found["result_count"] == 0 && found["calibration"]?["certificate"] == "MET-2026-1187")
        let twoAtOnce = try await FloorgateProcess.run(["trace", "--device", "CAL-0042", "--lot", "L-1", "--socket", socket])
        #expect(twoAtOnce.status == 2 && twoAtOnce.standardError.contains("give one of --device, --lot and --serial"), "\(twoAtOnce.standardError)")
    }
}
