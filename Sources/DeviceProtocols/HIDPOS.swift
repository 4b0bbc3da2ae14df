public import FloorgateCore

/// Protocol `hid-pos`: HID Point-of-Sale barcode scanner input reports (usage page 0x8C,
/// PROTOCOLS.md §5.3), 64 bytes each including the report id, as hidraw delivers them.
///
/// Byte 0 report id 0x02, byte 1 data length (0–56), bytes 2–4 the AIM identifier (zeros when
/// none), bytes 5–60 data, byte 61 a vendor symbology id (ignored), byte 63 bit 0 "more data in
/// the next report". Reports are joined until one without that bit; the AIM id comes from the
/// first; one trailing CR, LF or CR LF (a keyboard suffix some scanners keep in POS mode) is
/// removed. No keyboard layout is involved: control characters arrive as they are.
public struct HIDPOSDecoder: DeviceDecoder {
    static let reportLength = 64
    static let scanReportID: UInt8 = 0x02
    static let maximumDataLength = 56
    static let dataOffset = 5
    static let continuationByte = 63

    private var report: [UInt8] = []
    /// The raw bytes of the reports of a scan still waiting for its continuation.
    private var pendingReports: [UInt8] = []
    private var pendingData: [UInt8] = []
    private var pendingAIM: String?
    private var skipped = SkippedRun()

    public init() {
        report.reserveCapacity(Self.reportLength)
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [DeviceEvent] {
        var events: [DeviceEvent] = []
        var index = 0
        while index < bytes.count {
            let take = min(Self.reportLength - report.count, bytes.count - index)
            report.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)]))
            index += take
            if report.count == Self.reportLength {
                handleReport(into: &events)
                report.removeAll(keepingCapacity: true)
            }
        }
        return events
    }

    public mutating func flush() -> [DeviceEvent] {
        var events: [DeviceEvent] = []
        skipped.close(into: &events)
        return events
    }

    public mutating func finish() -> [DeviceEvent] {
        var events = flush()
        let pending = pendingReports + report
        if !pending.isEmpty {
            events.append(.error(.incompleteFrame, raw: RawBytes(pending)))
        }
        self = HIDPOSDecoder()
        return events
    }

    private mutating func handleReport(into events: inout [DeviceEvent]) {
        let length = Int(report[1])
        guard report[0] == Self.scanReportID else {
            skip(reason: .unexpectedBytes, into: &events)  // another collection's report
            return
        }
        guard length <= Self.maximumDataLength else {
            skip(reason: .malformedFrame, into: &events)
            return
        }
        if pendingReports.isEmpty, report[2] == UInt8(ascii: "]") {
            pendingAIM = ASCII.text(report[2..<Self.dataOffset])
        }
        pendingReports += report
        pendingData += report[Self.dataOffset..<(Self.dataOffset + length)]
        guard report[Self.continuationByte] & 0x01 == 0 else { return }

        if pendingData.last == ASCII.lineFeed { pendingData.removeLast() }
        if pendingData.last == ASCII.carriageReturn { pendingData.removeLast() }
        if pendingData.isEmpty {
            skipped.append(pendingReports, reason: .emptyFrame, into: &events)
        } else {
            skipped.close(into: &events)
            events.append(.scan(Scan(text: ASCII.text(pendingData), aim: pendingAIM), raw: RawBytes(pendingReports)))
        }
        resetPending()
    }

    /// Skips this report and the continuation reports still waiting before it.
    private mutating func skip(reason: DecodeFailure, into events: inout [DeviceEvent]) {
        skipped.append(pendingReports + report, reason: reason, into: &events)
        resetPending()
    }

    private mutating func resetPending() {
        pendingReports.removeAll(keepingCapacity: true)
        pendingData.removeAll(keepingCapacity: true)
        pendingAIM = nil
    }
}
