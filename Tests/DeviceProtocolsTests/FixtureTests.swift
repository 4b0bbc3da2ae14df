import DeviceProtocols
import FixtureSupport
import FloorgateCore
import Foundation
import Testing

/// The protocol ids whose fixtures this suite runs.
let gaugeAndTorqueProtocols = ["mitutoyo", "uwave", "sylvac", "digimatic", "torque-ascii"]

@Suite("Byte fixtures")
struct FixtureTests {
    @Test("every fixture case gives its events, whatever the read sizes", arguments: gaugeAndTorqueProtocols)
    func everyCaseInEveryChunking(protocolID: String) throws {
        let file = try DecodeFixtureFile.load(protocolID)
        #expect(file.protocol == protocolID)
        #expect(!file.cases.isEmpty)
        let entry = try #require(ProtocolCatalog.entry(id: protocolID))
        for (index, fixture) in file.cases.enumerated() {
            for sizes in Chunking.sizes(for: fixture.input.count, seed: UInt64(index)) {
                var decoder = entry.makeDecoder()
                let events = Chunking.decodePerCall(fixture.input, sizes: sizes, decoder: &decoder)
                    .joined()
                    .map { event in fixture.suppliedUnit.map(event.supplyingUnit) ?? event }
                #expect(
                    events.map(\.jsonObject) == fixture.expected,
                    "\(protocolID): '\(fixture.name)' fed in reads of \(sizes)"
                )
            }
        }
    }

    /// A frame's event must come from the call that delivers its last byte (or, for a line ending
    /// in CR, the next byte, which shows whether an LF follows). A decoder that held everything
    /// until `finish()` fails here.
    @Test("each frame's event comes from the feed that decides it", arguments: gaugeAndTorqueProtocols)
    func eventsArriveWithTheDecidingByte(protocolID: String) throws {
        let file = try DecodeFixtureFile.load(protocolID)
        let entry = try #require(ProtocolCatalog.entry(id: protocolID))
        let needsLookaheadAfterCR = protocolID != "digimatic"
        for fixture in file.cases {
            let input = fixture.input
            var decoder = entry.makeDecoder()
            let calls = Chunking.decodePerCall(input, sizes: Array(repeating: 1, count: input.count), decoder: &decoder)
            var emitted: [(event: DeviceEvent, call: Int)] = []
            for (call, events) in calls.enumerated() {
                emitted += events.map { ($0, call) }
            }
            var end = 0
            for (position, item) in emitted.enumerated() {
                end += item.event.raw.count
                if case .error = item.event {
                    // Skipped bytes may wait to join a longer run, but never past the next frame.
                    if let nextFrame = emitted[(position + 1)...].first(where: { !$0.event.isError }) {
                        #expect(item.call <= nextFrame.call, "\(protocolID) '\(fixture.name)': error held past the next frame")
                    }
                    continue
                }
                let lastByte = end - 1
                let decidingCall = needsLookaheadAfterCR && item.event.raw.last == 0x0D ? lastByte + 1 : lastByte
                #expect(
                    item.call == min(decidingCall, input.count),
                    "\(protocolID) '\(fixture.name)': event ending at byte \(lastByte) came from call \(item.call)"
                )
            }
        }
    }

    @Test("the copies in Tests/Fixtures match the shared fixture set", arguments: gaugeAndTorqueProtocols)
    func fixturesHaveNotDrifted(protocolID: String) throws {
        guard let shared = FixturePaths.sharedFixtures else { return }  // a clone outside the workspace
        let original = try Data(contentsOf: shared.appendingPathComponent("\(protocolID).json"))
        let copy = try Data(contentsOf: FixturePaths.projectFixtures.appendingPathComponent("\(protocolID).json"))
        #expect(original == copy, "Tests/Fixtures/\(protocolID).json differs from shared/fixtures; run `make fixtures`")
    }
}

extension DeviceEvent {
    var isError: Bool {
        if case .error = self { return true }
        return false
    }
}
