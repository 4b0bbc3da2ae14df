import DeviceIO
import FloorgateCore
import Foundation
import Gateway
import RecordProtocol
import Testing
import WorkRecord

@Suite("Station: devices on ptys, the outbox and the record on its socket", .timeLimit(.minutes(2)), .serialized)
struct StationTests {
    private func results(_ build: JSONValue) -> [JSONValue] {
        (build["active_step"]?["points"]?.arrayValue ?? []).flatMap { $0["results"]?.arrayValue ?? [] }
    }

    @Test("a reading before any build is kept unbound; the serial scan opens the build; readings bind with their verdicts")
    func buildOnPtys() async throws {
        let station = try StationHarness()
        try await station.prepareRecord()
        try await station.startRecord()
        try station.startGateway()
        try await station.eventually("both devices connected") {
            station.events.all.filter { if case .device(_, .connected, _) = $0 { true } else { false } }.count == 2
        }
        try station.caliper.send(Array("01A+0011.111\r".utf8))
        try await station.eventually("the early reading settled") { try await station.outboxEntries().first?.state == .unbound }
        try station.scanner.send(Array("]C0SN-0001\r\n".utf8))
        try await station.eventually("the build open") { try await station.build()["status"] == "open" }
        try station.caliper.send(Array("01A+0012.004\r01A+0012.031\r".utf8))
        try await station.eventually("two results on the bore") { results(try await station.build()).count == 2 }
        try await station.eventually("the outbox settled") { try await station.outboxEntries().allSatisfy { $0.state != .pending } }

        let build = try await station.build()
        #expect(build["instruction"]?["revision"] == "A")
        let recorded = results(build)
        #expect(recorded.map { $0["value"]?.stringValue } == ["12.004", "12.031"])
        #expect(recorded.map { $0["verdict"]?.stringValue } == ["pass", "fail_high"])
        #expect(build["open_ncs"]?.arrayValue?.count == 1)

        let entries = try await station.outboxEntries()
        #expect(entries.map(\.state) == [.unbound, .delivered, .delivered, .delivered])
        #expect(entries[0].outcome?.contains("no build is open") == true)
        #expect(entries[1].source == "scanner" && entries[2].source == "caliper")
        #expect(entries[2].result["device"]?["serial"] == "CAL-7")
        #expect(entries[2].raw == RawBytes(Array("01A+0012.004\r".utf8)))
        for entry in entries {
            let committed = try #require(entry.committedAt)
            #expect(entry.readAt <= committed)
        }
        #expect(station.events.all.contains { if case .recorded(_, "12.031 mm", _) = $0 { true } else { false } })
        await station.stopGateway()
        try await station.stopRecord()
    }

    @Test("with the record down, results wait in the outbox and are delivered in order, once, when it is back")
    func recordDown() async throws {
        let station = try StationHarness()
        try await station.prepareRecord()
        try station.startGateway()
        try await station.eventually("both devices connected") {
            station.events.all.filter { if case .device(_, .connected, _) = $0 { true } else { false } }.count == 2
        }
        try station.scanner.send(Array("SN-0001\r".utf8))
        try await station.eventually("the scan stored") { try await station.outboxEntries().count == 1 }
        try station.caliper.send(Array("01A+0012.001\r01A+0012.002\r".utf8))
        try await station.eventually("three results waiting") { try await station.outboxEntries().filter { $0.state == .pending }.count == 3 }

        try await station.startRecord()
        try await station.eventually("both readings recorded") { results(try await station.build()).count == 2 }
        #expect(results(try await station.build()).map { $0["value"]?.stringValue } == ["12.001", "12.002"])
        try await station.eventually("the outbox settled") { try await station.outboxEntries().allSatisfy { $0.state == .delivered } }

        // A restarted gateway has nothing to deliver again, and the record holds each result once.
        await station.stopGateway()
        try station.startGateway()
        try await Task.sleep(for: .milliseconds(300))
        #expect(results(try await station.build()).count == 2)
        let keys = try await station.outboxEntries().map(\.id)
        #expect(Set(keys).count == 3)
        // The restarted gateway goes on with the open build: a third reading reaches the record,
        // which has no open place for it (both are filled), rather than "no build is open".
        try await station.eventually("the caliper connected again") {
            station.events.all.filter { if case .device("caliper", .connected, _) = $0 { true } else { false } }.count == 2
        }
        try station.caliper.send(Array("01A+0012.003\r".utf8))
        try await station.eventually("the third reading settled") { try await station.outboxEntries().count == 4 }
        try await station.eventually("the third reading settled") { try await station.outboxEntries().last?.state == .unbound }
        let third = try #require(try await station.outboxEntries().last)
        #expect(third.outcome?.contains("record error 1006") == true, "\(third.outcome ?? "")")
        await station.stopGateway()
        try await station.stopRecord()
    }
}
