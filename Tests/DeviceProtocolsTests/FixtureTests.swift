import DeviceProtocols
import FixtureSupport
import FloorgateCore
import Foundation
import Testing

@Suite("Byte fixtures", .timeLimit(.minutes(1)))
struct FixtureTests {
    @Test("every fixture case gives its events, whatever the read sizes", arguments: decoderFixtureProtocols)
    func everyCaseInEveryChunking(protocolID: String) throws {
        let file = try DecodeFixtureFile.load(protocolID)
        #expect(file.protocol == protocolID)
        #expect(!file.cases.isEmpty)
        let entry = try #require(ProtocolCatalog.entry(id: protocolID))
        for (index, fixture) in file.cases.enumerated() {
            for sizes in Chunking.sizes(for: fixture.input.count, seed: UInt64(index)) {
                var decoder = entry.makeDecoder(fixture.decoderOptions)
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

    /// A frame's event must come from the call that delivers its last byte, or the next one where
    /// the protocol needs one more byte to know the frame has ended (a line's CR that an LF may
    /// follow; an Open Protocol frame whose length counted its NUL). A decoder that held
    /// everything until `finish()` fails here.
    @Test("each frame's event comes from the feed that decides it", arguments: decoderFixtureProtocols)
    func eventsArriveWithTheDecidingByte(protocolID: String) throws {
        let file = try DecodeFixtureFile.load(protocolID)
        let entry = try #require(ProtocolCatalog.entry(id: protocolID))
        for fixture in file.cases {
            let input = fixture.input
            var decoder = entry.makeDecoder(fixture.decoderOptions)
            let calls = Chunking.decodePerCall(input, sizes: Array(repeating: 1, count: input.count), decoder: &decoder)
            var emitted: [(event: DeviceEvent, call: Int)] = []
            for (call, events) in calls.enumerated() {
                emitted += events.map { ($0, call) }
            }
            // Events and silent frames tile the input; walk it to find where each event ends.
            var position = 0
            var silent = fixture.silentFrames[...]
            for (index, item) in emitted.enumerated() {
                while let next = silent.first, !input[position...].starts(with: item.event.raw), input[position...].starts(with: next) {
                    position += next.count
                    silent = silent.dropFirst()
                }
                try #require(input[position...].starts(with: item.event.raw), "\(protocolID) '\(fixture.name)': events do not tile the input")
                position += item.event.raw.count
                if item.event.isError {
                    // Skipped bytes may wait to join a longer run, but never past the next frame.
                    if let nextFrame = emitted[(index + 1)...].first(where: { !$0.event.isError }) {
                        #expect(item.call <= nextFrame.call, "\(protocolID) '\(fixture.name)': error held past the next frame")
                    }
                    continue
                }
                let lastByte = position - 1
                let decidingCall = min(Self.needsOneMoreByte(protocolID, item.event.raw) ? lastByte + 1 : lastByte, input.count)
                let afterTornFrame = index > 0 && emitted[index - 1].event.isError
                if protocolID == "open-protocol" && afterTornFrame {
                    // A torn frame's header announces a length; the frames after it wait until
                    // that many bytes have arrived (or input ends) to prove the header false.
                    #expect(item.call >= decidingCall, "\(protocolID) '\(fixture.name)': event before its last byte")
                } else {
                    #expect(
                        item.call == decidingCall,
                        "\(protocolID) '\(fixture.name)': event ending at byte \(lastByte) came from call \(item.call)"
                    )
                }
            }
        }
    }

    /// Whether a frame's end is only known from the byte after it.
    static func needsOneMoreByte(_ protocolID: String, _ raw: RawBytes) -> Bool {
        switch protocolID {
        case "digimatic": false
        case "open-protocol": raw.count == Int(String(decoding: raw.prefix(4), as: UTF8.self))
        default: raw.last == 0x0D
        }
    }

    @Test(
        "the copies in Tests/Fixtures match the shared fixture set",
        .enabled(if: FixturePaths.sharedFixtures != nil, "no ../shared/fixtures beside this clone"), arguments: decoderFixtureProtocols
    )
    func fixturesHaveNotDrifted(protocolID: String) throws {
        let shared = try #require(FixturePaths.sharedFixtures)
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
