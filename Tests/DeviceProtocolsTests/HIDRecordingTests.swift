@testable import DeviceProtocols
import FixtureSupport
import FloorgateCore
import Foundation
import Testing

/// A hid-recorder text file: the report descriptor (`R:`) and the input reports (`E:`).
struct HIDRecording {
    let descriptor: [UInt8]
    let reports: [[UInt8]]

    init(named name: String) throws {
        let url = FixturePaths.projectFixtures.appendingPathComponent("hid/\(name)")
        var descriptor: [UInt8] = []
        var reports: [[UInt8]] = []
        for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: " ")
            switch fields.first {
            case "R:":
                descriptor = try Self.bytes(fields.dropFirst(2), count: fields.dropFirst().first)
            case "E:":
                reports.append(try Self.bytes(fields.dropFirst(3), count: fields.dropFirst(2).first))
            default:
                continue
            }
        }
        self.descriptor = descriptor
        self.reports = reports
    }

    private static func bytes(_ fields: ArraySlice<Substring>, count: Substring?) throws -> [UInt8] {
        let bytes = try fields.map { try #require(UInt8($0, radix: 16)) }
        #expect(Int(count ?? "") == bytes.count, "length field does not match the bytes")
        return bytes
    }
}

@Suite("HID report descriptors", .timeLimit(.minutes(1)))
struct HIDRecordingTests {
    @Test("the descriptor alone tells a keyboard wedge from a POS scanner, and its reports decode")
    func kindsAndDecoding() throws {
        let wedge = try HIDRecording(named: "keyboard-wedge.hid")
        let wedgeDescriptor = try HIDReportDescriptor(parsing: wedge.descriptor)
        #expect(wedgeDescriptor.kind == .keyboard)
        #expect(wedgeDescriptor.applications.first?.inputReportLengths == [0: 8])
        #expect(wedgeDescriptor.scannerReportLayout == HIDReportLayout(scanReportID: nil, lengths: [0: 8], defaultLength: 8))
        let wedgeEvents = try decode(wedge, as: wedgeDescriptor)
        #expect(wedgeEvents.map(\.name) == ["scan"])
        if case .scan(let scan, _) = wedgeEvents.first { #expect(scan.text == "SN-7") }

        let pos = try HIDRecording(named: "pos-scanner.hid")
        let posDescriptor = try HIDReportDescriptor(parsing: pos.descriptor)
        #expect(posDescriptor.kind == .pointOfSaleScanner)
        #expect(posDescriptor.applications.first?.inputReportLengths == [2: 64, 4: 9])
        // Report 4 is 9 bytes: the descriptor's layout skips it whole and the next scan is intact.
        let layout = try #require(posDescriptor.scannerReportLayout)
        #expect(layout == HIDReportLayout(scanReportID: 2, lengths: [2: 64, 4: 9], defaultLength: 64))
        let posEvents = try decode(pos, options: DecoderOptions(hidReportLayout: layout), as: posDescriptor)
        #expect(posEvents == [
            .scan(Scan(text: "WO-2024-0815", aim: "]C0"), raw: RawBytes(pos.reports[0])),
            .error(.unexpectedBytes, raw: RawBytes(pos.reports[1])),
            .scan(Scan(text: "WO-2024-0816", aim: "]C0"), raw: RawBytes(pos.reports[2])),
        ])
    }

    @Test("numbered reports: the keyboard's id is stripped; another collection's report inside a scan costs that scan only")
    func reportIDs() throws {
        let recording = try HIDRecording(named: "keyboard-with-report-ids.hid")
        let descriptor = try HIDReportDescriptor(parsing: recording.descriptor)
        #expect(descriptor.kind == .keyboard)
        #expect(descriptor.applications.map(\.usagePage) == [0x01, 0x0C])
        #expect(descriptor.applications.map(\.inputReportLengths) == [[1: 9], [2: 3]])
        let layout = try #require(descriptor.scannerReportLayout)
        #expect(layout == HIDReportLayout(scanReportID: 1, lengths: [1: 9, 2: 3], defaultLength: 9))
        let events = try decode(recording, options: DecoderOptions(hidReportLayout: layout), as: descriptor)
        #expect(events.map(\.name) == ["error", "scan"])
        if case .scan(let scan, _) = events.last { #expect(scan.text == "WO2") }
        #expect(events.flatMap(\.raw) == recording.reports.flatMap { $0 })
    }

    @Test("a mouse is not a scanner")
    func mouse() throws {
        let mouse = try HIDReportDescriptor(parsing: HIDRecording(named: "mouse.hid").descriptor)
        #expect(mouse.kind == .other && mouse.kind.protocolID == nil && mouse.scannerReportLayout == nil)
    }

    @Test("a cut or unbalanced descriptor is a typed error naming the byte")
    func malformed() throws {
        #expect(throws: HIDDescriptorError.self) { try HIDReportDescriptor(parsing: HIDRecording(named: "truncated.hid").descriptor) }
        #expect(throws: HIDDescriptorError(offset: 0, problem: "End Collection without a Collection")) { try HIDReportDescriptor(parsing: [0xC0]) }
        #expect(throws: HIDDescriptorError(offset: 2, problem: "1 collection(s) not closed")) { try HIDReportDescriptor(parsing: [0xA1, 0x01]) }
        // Report size and count of 2^32 - 1 each: refused, not multiplied into an overflow.
        let huge: [UInt8] = [0x05, 0x01, 0x09, 0x06, 0xA1, 0x01, 0x77, 0xFF, 0xFF, 0xFF, 0xFF, 0x97, 0xFF, 0xFF, 0xFF, 0xFF, 0x81, 0x00, 0xC0]
        #expect(throws: HIDDescriptorError(offset: 16, problem: "input report longer than 16384 bytes")) { try HIDReportDescriptor(parsing: huge) }
    }

    @Test("any bytes give a descriptor or an error naming a byte of the input, never a trap")
    func randomBytes() {
        var generator = SeededGenerator(seed: 0x41D_0001)
        var parsed = 0
        for _ in 0..<5000 {
            let bytes = (0..<Int.random(in: 0...80, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            do {
                _ = try HIDReportDescriptor(parsing: bytes)
                parsed += 1
            } catch {
                #expect((0...bytes.count).contains(error.offset), "\(error) for \(bytes)")
                #expect(!error.problem.isEmpty)
            }
        }
        #expect(parsed > 0 && parsed < 5000, "random bytes should give both descriptors and errors; \(parsed) of 5000 parsed")
    }

    private func decode(_ recording: HIDRecording, options: DecoderOptions = DecoderOptions(), as descriptor: HIDReportDescriptor) throws -> [DeviceEvent] {
        let protocolID = try #require(descriptor.kind.protocolID)
        var decoder = try #require(ProtocolCatalog.entry(id: protocolID)).makeDecoder(options)
        return recording.reports.flatMap { decoder.feed($0) } + decoder.finish()
    }
}
