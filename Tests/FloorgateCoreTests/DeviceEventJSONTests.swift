import FloorgateCore
import Testing

@Suite("DeviceEvent JSON", .timeLimit(.minutes(1)))
struct DeviceEventJSONTests {
    @Test("a reading prints the keys of INTERFACES.md, unit null when the frame has none")
    func reading() throws {
        let event = DeviceEvent.reading(Reading(value: try ExactDecimal(parsing: "+0012.340"), unit: nil, channel: "1"), raw: [0x30, 0x0D])
        #expect(event.jsonLine == #"{"event":"reading","value":"12.340","unit":null,"channel":"1","raw_hex":"300d"}"#)
        let peak = DeviceEvent.reading(Reading(value: try ExactDecimal(parsing: "41.2597"), unit: .ounceForceInch, peak: .max), raw: [])
        #expect(peak.jsonLine == #"{"event":"reading","value":"41.2597","unit":"ozf.in","peak":"max","raw_hex":""}"#)
    }

    @Test("scan text escapes control characters such as GS")
    func scan() {
        let event = DeviceEvent.scan(Scan(text: "0109\u{1D}10\"A\\", aim: "]C1"), raw: [0xFF])
        #expect(event.jsonLine == #"{"event":"scan","text":"0109\u001d10\"A\\","aim":"]C1","raw_hex":"ff"}"#)
        #expect(DeviceEvent.scan(Scan(text: "ABC", aim: nil), raw: []).jsonLine.contains(#""aim":null"#))
    }

    @Test("status and error events")
    func statusAndError() {
        #expect(DeviceEvent.status(DeviceStatus(state: .deviceError, message: "ERR3"), raw: [0x45]).jsonLine
            == #"{"event":"status","state":"device_error","message":"ERR3","raw_hex":"45"}"#)
        #expect(DeviceEvent.error(.incompleteFrame, raw: [0x0F]).jsonLine
            == #"{"event":"error","reason":"incomplete frame at end of input","raw_hex":"0f"}"#)
    }

    @Test("a tightening always has torque_unit and omits fields it lacks")
    func tightening() throws {
        var result = TighteningResult()
        result.status = .nok
        result.torque = try ExactDecimal(parsing: "7.39")
        result.torqueStatus = .low
        result.tighteningID = "0000345675"
        result.batchStatus = .notUsed
        let line = DeviceEvent.tightening(result, raw: [0x00]).jsonLine
        #expect(line == #"{"event":"tightening","status":"nok","torque":"7.39","torque_unit":null,"torque_status":"low","tightening_id":"0000345675","batch_status":"not_used","raw_hex":"00"}"#)
    }
}
