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

@Suite("HID report descriptors")
struct HIDRecordingTests {
    @Test("the descriptor alone tells a keyboard wedge from a POS scanner, and its reports decode")
    func kindsAndDecoding() throws {
        let wedge = try HIDRecording(named: "keyboard-wedge.hid")
        let wedgeDescriptor = try HIDReportDescriptor(parsing: wedge.descriptor)
        #expect(wedgeDescriptor.kind == .keyboard)
        #expect(wedgeDescriptor.applications.first?.inputReportLengths == [0: 8])
        let wedgeEvents = try decode(wedge, as: wedgeDescriptor)
        #expect(wedgeEvents.map(\.name) == ["scan"])
        if case .scan(let scan, _) = wedgeEvents.first { #expect(scan.text == "SN-7") }

        let pos = try HIDRecording(named: "pos-scanner.hid")
        let posDescriptor = try HIDReportDescriptor(parsing: pos.descriptor)
        #expect(posDescriptor.kind == .pointOfSaleScanner)
        #expect(posDescriptor.applications.first?.inputReportLengths == [2: 64, 4: 9])
        let posEvents = try decode(pos, as: posDescriptor)
        #expect(posEvents == [.scan(Scan(text: "WO-2024-0815", aim: "]C0"), raw: RawBytes(pos.reports[0]))])
    }

    @Test("report ids, a second application collection and a mouse")
    func otherInterfaces() throws {
        let combined = try HIDReportDescriptor(parsing: HIDRecording(named: "keyboard-with-report-ids.hid").descriptor)
        #expect(combined.kind == .keyboard)
        #expect(combined.applications.map(\.usagePage) == [0x01, 0x0C])
        #expect(combined.applications.map(\.inputReportLengths) == [[1: 9], [2: 3]])
        let mouse = try HIDReportDescriptor(parsing: HIDRecording(named: "mouse.hid").descriptor)
        #expect(mouse.kind == .other && mouse.kind.protocolID == nil)
    }

    @Test("a cut or unbalanced descriptor is a typed error naming the byte")
    func malformed() throws {
        #expect(throws: HIDDescriptorError.self) { try HIDReportDescriptor(parsing: HIDRecording(named: "truncated.hid").descriptor) }
        #expect(throws: HIDDescriptorError(offset: 0, problem: "End Collection without a Collection")) { try HIDReportDescriptor(parsing: [0xC0]) }
        #expect(throws: HIDDescriptorError(offset: 2, problem: "1 collection(s) not closed")) { try HIDReportDescriptor(parsing: [0xA1, 0x01]) }
    }

    @Test("any bytes give a descriptor or a typed error, never a trap")
    func randomBytes() {
        var generator = SeededGenerator(seed: 0x41D_0001)
        for _ in 0..<5000 {
            let bytes = (0..<Int.random(in: 0...80, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? HIDReportDescriptor(parsing: bytes)
        }
    }

    private func decode(_ recording: HIDRecording, as descriptor: HIDReportDescriptor) throws -> [DeviceEvent] {
        let protocolID = try #require(descriptor.kind.protocolID)
        var decoder = try #require(ProtocolCatalog.entry(id: protocolID)).makeDecoder()
        return recording.reports.flatMap { decoder.feed($0) } + decoder.finish()
    }
}
