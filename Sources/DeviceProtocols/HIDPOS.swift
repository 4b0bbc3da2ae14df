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
    static let maximumDataLength = 56
    static let dataOffset = 5
    static let continuationByte = 63
    /// A scan whose continuation reports have brought more than this much data (a stuck
    /// continuation bit) is skipped as `frame too long`.
    static let maximumScanLength = 4096

    private var reports: HIDReportStream
    /// The raw bytes of the reports of a scan still waiting for its continuation.
    private var pendingReports: [UInt8] = []
    private var pendingData: [UInt8] = []
    private var pendingAIM: String?
    private var skipped = SkippedRun()

    /// `reportLayout` gives the scan report's id and the lengths of other reports the interface
    /// sends (from its report descriptor); the default is the de-facto layout of PROTOCOLS.md.
    public init(reportLayout: HIDReportLayout = .pointOfSale) {
        reports = HIDReportStream(layout: reportLayout)
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [DeviceEvent] {
        reports.reports(from: bytes).reduce(into: []) { events, report in handleReport(report, into: &events) }
    }

    public mutating func flush() -> [DeviceEvent] { skipped.flushed() }

    public mutating func finish() -> [DeviceEvent] {
        defer { self = HIDPOSDecoder(reportLayout: reports.layout) }
        return skipped.finished(leaving: pendingReports + reports.takePartial())
    }

    private mutating func handleReport(_ report: [UInt8], into events: inout [DeviceEvent]) {
        guard report.first == (reports.layout.scanReportID ?? 0), report.count > Self.continuationByte else {
            skip(report, reason: .unexpectedBytes, into: &events)  // another collection's report
            return
        }
        let length = Int(report[1])
        guard length <= Self.maximumDataLength else {
            skip(report, reason: .malformedFrame, into: &events)
            return
        }
        if pendingReports.isEmpty, report[2] == UInt8(ascii: "]") {
            pendingAIM = ASCII.text(report[2..<Self.dataOffset])
        }
        pendingReports += report
        pendingData += report[Self.dataOffset..<(Self.dataOffset + length)]
        guard report[Self.continuationByte] & 0x01 == 0 else {
            if pendingData.count > Self.maximumScanLength {
                skip([], reason: .frameTooLong, into: &events)
            }
            return
        }

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

    /// Skips `report` and the continuation reports still waiting before it.
    private mutating func skip(_ report: [UInt8], reason: DecodeFailure, into events: inout [DeviceEvent]) {
        skipped.append(pendingReports + report, reason: reason, into: &events)
        resetPending()
    }

    private mutating func resetPending() {
        pendingReports.removeAll(keepingCapacity: true)
        pendingData.removeAll(keepingCapacity: true)
        pendingAIM = nil
    }
}
