import DeviceIO
import FloorgateCore
import FixtureSupport
import Foundation
import Gateway
import Testing

/// The running gateway's status on its socket, as `floorgate status` reads it.
@Suite("The gateway's status socket", .timeLimit(.minutes(2)), .serialized)
struct StatusSocketTests {
    @Test("the status names each device, its last reading, the outbox and the record; a record gone and the result waiting for it need attention")
    func status() async throws {
        let station = try StationHarness()
        try await station.prepareRecord()
        try await station.startRecord()
        try station.startGateway()
        let path = station.directory + "/gateway.sock"  // the default: beside the record's socket
        func status() async throws -> JSONValue { try await offThePool { try StatusSocket.fetch(path) } }

        try await station.eventually("both devices connected in the status") {
            try await status()["devices"]?.arrayValue?.map { $0["state"] } == ["connected", "connected"]
        }
        let quiet = try await status()
        #expect(quiet["station"] == "bench-3" && quiet["record"]?["reachable"] == true && quiet["outbox"]?["pending"] == 0, "\(quiet.text)")
        #expect(quiet["devices"]?.arrayValue?.allSatisfy { $0["last_reading_seconds"] == .null } == true)
        #expect(quiet["attention"]?.arrayValue?.contains { $0.stringValue?.contains("record") == true } == false, "\(quiet.text)")

        try station.scanner.send(Array("SN-0001\r".utf8))
        try station.caliper.send(Array("01A+0012.004\r".utf8))
        try await station.eventually("the caliper's reading in the status") {
            try await status()["devices"]?.arrayValue?.first { $0["name"] == "caliper" }?["last_reading_seconds"] != .null
        }

        try await station.stopRecord()
        try station.caliper.send(Array("01A+0012.005\r".utf8))
        // The status asks the record at each request (2 s timeout) and the outbox's depth is
        // read every 5 s: a busy CI run needed more than the default 15 s.
        try await station.eventually("the record gone and the reading waiting, in the status", timeout: .seconds(45)) {
            let now = try await status()
            return now["record"]?["reachable"] == false && now["outbox"]?["pending"] == 1 && now["outbox"]?["oldest_pending_seconds"] != .null
        }
        let troubled = try await status()
        #expect(troubled["attention"]?.arrayValue?.contains { $0.stringValue?.hasPrefix("the record does not answer") == true } == true, "\(troubled.text)")
        await station.stopGateway()
        #expect(!FileManager.default.fileExists(atPath: path), "the socket is removed when the gateway stops")
        #expect(throws: StatusUnavailable.self) { try StatusSocket.fetch(path) }
    }
}
