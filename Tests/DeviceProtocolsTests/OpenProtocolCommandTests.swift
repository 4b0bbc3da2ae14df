import DeviceProtocols
import FixtureSupport
import FloorgateCore
import Testing

/// The messages that command a tool, byte for byte. Frames are from public sources, read and not
/// copied into the project as code: the Open Protocol specification R2.17 (tables 19–37, 71–84,
/// 101, 225), OpenProtocolInterpreter's tests (src/MIDTesters.Core/…/TestMidXXXX.cs) and
/// node-open-protocol's tests (test/XXXX.spec.js). `.` stands for the NUL that ends a frame.
@Suite("Open Protocol commands", .timeLimit(.minutes(1)))
struct OpenProtocolCommandTests {
    /// A frame written as text, `.` standing for the final NUL.
    static func bytes(_ text: String) -> [UInt8] {
        Array(text.utf8).map { $0 == UInt8(ascii: ".") ? 0 : $0 }
    }

    static func message(_ text: String) throws -> OpenProtocolMessage {
        var framer = OpenProtocolFramer()
        let outputs = bytes(text).withUnsafeBytes { framer.feed($0) } + framer.finish()
        guard outputs.count == 1, case .frame(let frame) = outputs[0] else { throw Unframed() }
        return try OpenProtocolMessage(frame)
    }

    struct Unframed: Error {}

    @Test("controller answers and reports are read: 0004, 0005, 0015 (revisions 1 and 2), 0041, 0421")
    func controllerMessages() throws {
        // Spec R2.17 §5.2.4: MID 0018 refused, error 02 (parameter set ID not present).
        #expect(try Self.message("00260004            001802.") == .commandError(mid: 18, errorCode: 2))
        #expect(try Self.message("00240005            0018.") == .commandAccepted(mid: 18))
        // OpenProtocolInterpreter TestMid0015, revision 1: program 002 and its last change.
        #expect(try Self.message("00420015001         0022017-06-02:09:54:09.") == .programSelected(ProgramSelection(id: 2)))
        // OpenProtocolInterpreter TestMid0015, revision 2 (141 bytes): program 002 "Airbag
        // parameter", batch 04, torque 51.01–100.09 target 50.05, angle 1–99999 target 360.
        let revision2 = try Self.message(
            "01410015002         0100202Airbag parameter         032017-06-02:09:54:0904205040600510107010009080050050900001109999911003601200123413001006.")
        #expect(revision2 == .programSelected(ProgramSelection(
            id: 2, name: "Airbag parameter", batchSize: 4, torqueMinimum: try ExactDecimal(parsing: "51.01"),
            torqueMaximum: try ExactDecimal(parsing: "100.09"), torqueTarget: try ExactDecimal(parsing: "50.05"),
            angleMinimum: try ExactDecimal(parsing: "1"), angleMaximum: try ExactDecimal(parsing: "99999"), angleTarget: try ExactDecimal(parsing: "360"))))
        // OpenProtocolInterpreter TestMid0041 revision 1.
        #expect(try Self.message("00810041001         01ABCDEFG-123456024294967295032017-12-01:20:12:4504GFEDCBA-10.")
            == .toolData(ToolIdentity(serial: "ABCDEFG-123456", tightenings: 4_294_967_295, calibratedOn: "2017-12-01")))
        // The specification's own MID 0041 example left-justifies the count with spaces.
        #expect(try Self.message("00810041            01C341212       02548796    032001-05-07:13:24:5404670919    .")
            == .toolData(ToolIdentity(serial: "C341212", tightenings: 548_796, calibratedOn: "2001-05-07")))
        // Spec R2.17 table 225: the commands-disabled input is on.
        #expect(try Self.message("00210421            1.") == .commandsDisabled(true))
        #expect(try Self.message("00210421            0.") == .commandsDisabled(false))
    }

    @Test("integrator commands are read as a controller reads them: 0014, 0016, 0018, 0019 (1, 2), 0020, 0038 (1, 2), 0040, 0042/0043 (1, 2), 0050, 0420, 0422")
    func integratorMessages() throws {
        #expect(try Self.message("00200014            .") == .programSelectedSubscribe)
        #expect(try Self.message("00200016            .") == .programSelectedAcknowledge)
        #expect(try Self.message("00230018001         022.") == .selectProgram(22))
        #expect(try Self.message("00250019            77750.") == .setBatchSize(program: 777, size: 50))
        #expect(try Self.message("00270019002         7770050.") == .setBatchSize(program: 777, size: 50))
        #expect(try Self.message("00230020            054.") == .resetBatchCounter(program: 54))
        #expect(try Self.message("00220038001         01.") == .selectJob(1))
        #expect(try Self.message("00240038002         0001.") == .selectJob(1))
        #expect(try Self.message("00200040004         .") == .toolDataRequest)
        #expect(try Self.message("00200042            .") == .disableTool)
        #expect(try Self.message("00300042002         0100420201.") == .disableTool)
        #expect(try Self.message("00200043            .") == .enableTool)
        #expect(try Self.message("00260043002         010042.") == .enableTool)
        #expect(try Self.message("00350050001         VehicleIdNumber.") == .identifierDownload("VehicleIdNumber"))
        // node-open-protocol sends the VIN padded to 25 characters: the padding is not the identifier.
        #expect(try Self.message("00450050            SN-0001                  .") == .identifierDownload("SN-0001"))
        #expect(try Self.message("00200420   1        .") == .commandsDisabledSubscribe)
        #expect(try Self.message("00200422            .") == .commandsDisabledAcknowledge)
    }

    @Test("what Floorgate sends is byte for byte what the sources show")
    func encoded() throws {
        #expect(OpenProtocolEncoder.selectProgram(22) == Self.bytes("00230018001         022."))
        #expect(OpenProtocolEncoder.setBatchSize(program: 777, size: 50, revision: 2) == Self.bytes("00270019002         7770050."))
        #expect(OpenProtocolEncoder.setBatchSize(program: 777, size: 50, revision: 1) == Self.bytes("00250019001         77750."))
        #expect(OpenProtocolEncoder.resetBatchCounter(program: 54) == Self.bytes("00230020001         054."))
        #expect(OpenProtocolEncoder.selectJob(1, revision: 1) == Self.bytes("00220038001         01."))
        #expect(OpenProtocolEncoder.selectJob(1, revision: 2) == Self.bytes("00240038002         0001."))
        #expect(OpenProtocolEncoder.disableTool() == Self.bytes("00200042001         ."))
        #expect(OpenProtocolEncoder.disableTool(toolNumber: 42) == Self.bytes("00300042002         0100420200."))
        #expect(OpenProtocolEncoder.enableTool(toolNumber: 42) == Self.bytes("00260043002         010042."))
        #expect(OpenProtocolEncoder.identifierDownload("VehicleIdNumber") == Self.bytes("00350050001         VehicleIdNumber."))
        #expect(OpenProtocolEncoder.subscribeProgramSelection(revision: 2) == Self.bytes("00200014002         ."))
        #expect(OpenProtocolEncoder.acknowledgeProgramSelection() == Self.bytes("00200016001         ."))
        #expect(OpenProtocolEncoder.subscribeCommandsDisabled() == Self.bytes("00200420001         ."))
        #expect(OpenProtocolEncoder.commandsDisabled(true) == Self.bytes("00210421001         1."))
        #expect(OpenProtocolEncoder.acknowledgeCommandsDisabled() == Self.bytes("00200422001         ."))
        #expect(OpenProtocolEncoder.toolDataRequest() == Self.bytes("00200040001         ."))
        #expect(OpenProtocolEncoder.enableTool() == Self.bytes("00200043001         ."))
        #expect(OpenProtocolEncoder.toolData(ToolIdentity(serial: "ABCDEFG-123456", tightenings: 4_294_967_295, calibratedOn: "2017-12-01"), controllerSerial: "GFEDCBA-10")
            == Self.bytes("00810041001         01ABCDEFG-123456024294967295032017-12-01:00:00:0004GFEDCBA-10."))
        // MID 0015 revision 2 as the simulator sends it reads back as what was sent.
        let selection = ProgramSelection(
            id: 3, name: "cover screws", batchSize: 2, torqueMinimum: try ExactDecimal(parsing: "1.15"), torqueMaximum: try ExactDecimal(parsing: "1.30"),
            torqueTarget: try ExactDecimal(parsing: "1.22"), angleMinimum: try ExactDecimal(parsing: "30"), angleMaximum: try ExactDecimal(parsing: "90"),
            angleTarget: try ExactDecimal(parsing: "60"))
        let frame = OpenProtocolEncoder.programSelected(selection, changedAt: "2026-01-01:00:00:00", revision: 2)
        #expect(frame.count == 142)
        #expect(try Self.message(String(decoding: frame.dropLast(), as: UTF8.self) + ".") == .programSelected(selection))
    }

    @Test("a command frame that breaks its layout is refused as malformed; the decoder stays silent on it")
    func malformed() throws {
        #expect(throws: DecodeFailure.self) { try Self.message("00230018            0X2.") }
        #expect(throws: DecodeFailure.self) { try Self.message("00430015002         0100202Airbag parameter.") }
        #expect(throws: DecodeFailure.self) { try Self.message("00210421            7.") }
        var decoder = OpenProtocolDecoder()
        let events = Self.bytes("00230018            0X2.").withUnsafeBytes { decoder.feed($0) } + decoder.finish()
        #expect(events.isEmpty)
    }

    @Test("random content under every command MID and revision is read or refused, never a crash")
    func randomContent() throws {
        var generator = SeededGenerator(seed: 0xF100_0018)
        let mids = [4, 5, 14, 15, 16, 18, 19, 20, 38, 40, 41, 42, 43, 50, 420, 421, 422]
        let alphabet = Array("0123456789 -:AZaz.".utf8) + [0xFF, 0x80]
        var read = 0
        for round in 0..<20_000 {
            let mid = mids[round % mids.count]
            let revision = Int.random(in: 0...3, using: &generator)
            // Lengths around the layouts' (0 to 160 data bytes), content from digits, spaces and more.
            let data = (0..<Int.random(in: 0...160, using: &generator)).map { _ in alphabet.randomElement(using: &generator) ?? 0x30 }
            let frame = OpenProtocolEncoder.frame(mid: mid, revision: revision == 0 ? nil : revision, data: data)
            var framer = OpenProtocolFramer()
            for output in frame.withUnsafeBytes({ framer.feed($0) }) + framer.finish() {
                guard case .frame(let framed) = output else { continue }
                if (try? OpenProtocolMessage(framed)) != nil { read += 1 }
            }
        }
        #expect(read > 0)
    }
}
