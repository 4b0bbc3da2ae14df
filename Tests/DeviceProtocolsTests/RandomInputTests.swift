import DeviceProtocols
import FixtureSupport
import FloorgateCore
import Testing

/// Seeded random inputs built from pieces of real frames, garbage and terminators: a quick,
/// repeatable version of what the libFuzzer targets in Fuzz/ explore for minutes.
@Suite("Random inputs", .timeLimit(.minutes(1)))
struct RandomInputTests {
    static let pieces: [[UInt8]] = [
        "01A+0012.345", "DT10001+0012.345M", "+012.34", " 025.000", "ERR3", "SY203.1", "368.4 N.m",
        "-18.78 lbFin", "+41.2597,In.oz,PEAK,NA", "Start Report", "*10", "02A-", "DT", "01A+00",
        "\r", "\n", "\r\n", "\t", " ", ",", ".", "+", "-",
    ].map { Array($0.utf8) } + [
        [0x00], [0xFF], [0x8D], [0xB7], [0x11, 0x13], [0x0F, 0x0F, 0x0F, 0x0F],
        [0x0F, 0x0F, 0x0F, 0x0F, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x03, 0x00], [0x08], [0x09, 0x05],
        Array("00209999            \u{0}".utf8), Array("00210005            0060\u{0}".utf8), Array("00240005001         0064".utf8),
        Array("02310061001         0100010201".utf8), Array("00530071            01E404021031042008-06-02:10:14:26\u{0}".utf8),
        // Keyboard reports (Shift+A, release, Ctrl+], Enter, rollover error) and HID POS reports.
        [0x02, 0, 0x04, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0], [0x01, 0, 0x30, 0, 0, 0, 0, 0], [0, 0, 0x28, 0, 0, 0, 0, 0],
        [0, 0, 1, 1, 1, 1, 1, 1], [0x04, 0, 0x62, 0, 0, 0, 0, 0], [0, 0, 0x3A, 0, 0, 0, 0, 0],
        [0x02, 0x03, 0x5D, 0x43, 0x30, 0x41, 0x0D, 0x0A] + [UInt8](repeating: 0, count: 56),
        [0x02, 0x38, 0x5D, 0x64, 0x32] + [UInt8](repeating: 0x41, count: 58) + [0x01],
    ]

    static func randomInput(using generator: inout SeededGenerator) -> [UInt8] {
        var input: [UInt8] = []
        for _ in 0..<Int.random(in: 0...40, using: &generator) {
            if Bool.random(using: &generator) {
                input += pieces[Int.random(in: 0..<pieces.count, using: &generator)]
            } else {
                input.append(UInt8.random(in: 0...255, using: &generator))
            }
        }
        return input
    }

    /// The bytes a decoder accounted for, in order: the events' raw bytes, and for Open Protocol
    /// also the session frames it consumes silently (read from its framer).
    static func accountedBytes(_ protocolID: String, _ input: [UInt8], events: [DeviceEvent]) -> [UInt8] {
        guard protocolID == "open-protocol" else { return Array(events.flatMap(\.raw)) }
        var framer = OpenProtocolFramer()
        let outputs = input.withUnsafeBytes { framer.feed($0) } + framer.finish()
        return outputs.flatMap { output -> RawBytes in
            switch output {
            case .frame(let frame): frame.raw
            case .skipped(_, let raw): raw
            }
        }
    }

    @Test("every byte is in exactly one event and read sizes do not matter", arguments: decoderFixtureProtocols)
    func accountingAndChunkInvariance(protocolID: String) throws {
        let entry = try #require(ProtocolCatalog.entry(id: protocolID))
        var generator = SeededGenerator(seed: 0xF100_0001)
        for round in 0..<400 {
            let input = Self.randomInput(using: &generator)
            var whole = entry.makeDecoder()
            let reference = Chunking.decodePerCall(input, sizes: input.isEmpty ? [] : [input.count], decoder: &whole).joined()
            #expect(Self.accountedBytes(protocolID, input, events: Array(reference)) == input, "\(protocolID) round \(round): bytes not accounted for")
            for sizes in Chunking.sizes(for: input.count, seed: UInt64(round)).dropFirst() {
                var decoder = entry.makeDecoder()
                let events = Chunking.decodePerCall(input, sizes: sizes, decoder: &decoder).joined()
                #expect(Array(events) == Array(reference), "\(protocolID) round \(round) reads \(sizes)")
            }
        }
    }
}
