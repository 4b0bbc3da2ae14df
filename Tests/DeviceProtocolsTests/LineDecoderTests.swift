import DeviceProtocols
import FixtureSupport
import FloorgateCore
import Testing

@Suite("Line framing", .timeLimit(.minutes(1)))
struct LineDecoderTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test("in auto mode a CR is held until the next byte shows whether an LF follows")
    func autoModeHoldsCarriageReturn() {
        var decoder = LineDecoder(grammar: MitutoyoGrammar())
        #expect(decoder.feed(bytes("01A+0001.000\r")).isEmpty)
        let events = decoder.feed(bytes("\n"))
        #expect(events.map(\.jsonLine) == [
            #"{"event":"reading","value":"1.000","unit":null,"channel":"1","raw_hex":"3031412b303030312e3030300d0a"}"#,
        ])
    }

    @Test("an idle-gap flush emits the held frame; a late LF then stands alone as an empty frame")
    func flushReleasesHeldFrame() {
        var decoder = LineDecoder(grammar: MitutoyoGrammar())
        #expect(decoder.feed(bytes("01A+0001.000\r")).isEmpty)
        let flushed = decoder.flush()
        #expect(flushed.count == 1)
        #expect(flushed.first.map { Array($0.raw) } == bytes("01A+0001.000\r"))
        #expect(decoder.feed(bytes("\n01A+0002.000\r\n")).map(\.name) == ["error", "reading"])
        #expect(decoder.finish().isEmpty)
    }

    @Test("flush never declares a partial frame incomplete")
    func flushKeepsPartialFrame() {
        var decoder = LineDecoder(grammar: SylvacGrammar())
        #expect(decoder.feed(bytes("+012.")).isEmpty)
        #expect(decoder.flush().isEmpty)
        let events = decoder.feed(bytes("34\r\n"))
        #expect(events.map(\.jsonObject) == [["event": "reading", "value": "12.34", "unit": nil, "raw_hex": "2b3031322e33340d0a"]])
    }

    @Test("a profile that says CR gets each reading with its CR, without waiting")
    func carriageReturnModeEmitsAtOnce() {
        var decoder = LineDecoder(grammar: TorqueASCIIGrammar(), lineEnding: .cr)
        let events = decoder.feed(bytes("368.4 N.m\r"))
        #expect(events.map(\.jsonObject) == [["event": "reading", "value": "368.4", "unit": "N.m", "raw_hex": "3336382e34204e2e6d0d"]])
    }

    @Test("a profile that says LF takes CR LF as one terminator and emits at the LF")
    func lineFeedModeTakesCRLF() {
        var decoder = LineDecoder(grammar: TorqueASCIIGrammar(), lineEnding: .lf)
        let events = decoder.feed(bytes("4.285 Nm\r\n-18.78 lbFin\n"))
        #expect(events.map { Array($0.raw) } == [bytes("4.285 Nm\r\n"), bytes("-18.78 lbFin\n")])
        #expect(events.map(\.name) == ["reading", "reading"])
    }

    @Test("garbage longer than one error event is reported in 4096-byte pieces as it arrives")
    func longGarbageIsSplitAndBounded() {
        var decoder = LineDecoder(grammar: TorqueASCIIGrammar())
        let garbage = [UInt8](repeating: 0x01, count: 10_000)
        let early = decoder.feed(garbage)
        #expect(early.map(\.raw.count) == [4096, 4096])
        let late = decoder.feed(bytes("1.0 N.m\r\n"))
        #expect(late.map(\.name) == ["error", "reading"])
        #expect(late.first?.raw.count == 10_000 - 8192)
        let reasons = (early + late).compactMap { event -> DecodeFailure? in
            if case .error(let failure, _) = event { return failure }
            return nil
        }
        #expect(reasons == [.unexpectedBytes, .unexpectedBytes, .unexpectedBytes])
    }

    @Test("a frame at the end of an over-long line is still found; the head is 'frame too long'")
    func frameAfterVeryLongJunk() {
        var decoder = LineDecoder(grammar: MitutoyoGrammar())
        let junk = [UInt8](repeating: UInt8(ascii: "Z"), count: 9_000)
        var events = decoder.feed(junk + bytes("01A+0012.345\r\n"))
        events += decoder.finish()
        #expect(events.map(\.name) == ["error", "error", "error", "reading"])
        #expect(events.dropLast().allSatisfy { $0.jsonObject["reason"] == "frame too long" })
        #expect(events.flatMap(\.raw) == junk + bytes("01A+0012.345\r\n"))
        #expect(events.last?.jsonObject["value"] == "12.345")
    }

    @Test("a device's error token and identification are status events")
    func statusLines() {
        var decoder = LineDecoder(grammar: SylvacGrammar(), lineEnding: .cr)
        let events = decoder.feed(bytes("SY203.1.A\rERR3\r"))
        #expect(events.map(\.jsonObject) == [
            ["event": "status", "state": "device_info", "message": "SY203.1.A", "raw_hex": "53593230332e312e410d"],
            ["event": "status", "state": "device_error", "message": "ERR3", "raw_hex": "455252330d"],
        ])
    }

    @Test("a torque spec with its own spellings needs no new decoder")
    func customTorqueSpec() {
        var spec = TorqueASCIISpec.standard
        spec.unitAliases["dnm"] = .newtonCentimetre  // hypothetical: a device mislabelling cN·m
        var decoder = LineDecoder(grammar: TorqueASCIIGrammar(spec: spec), lineEnding: .cr)
        #expect(decoder.feed(bytes("12.5 dN.m\r")).first?.jsonObject["unit"] == "N.cm")
        var standard = LineDecoder(grammar: TorqueASCIIGrammar(), lineEnding: .cr)
        let refused = standard.feed(bytes("12.5 dN.m\r")) + standard.finish()
        #expect(refused.first?.jsonObject["reason"] == "unknown unit")
    }
}
