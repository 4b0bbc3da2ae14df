/// How a HID interface's input reports are laid out: whether they start with a report id, which
/// id carries scan data, and how long each report is. The defaults are the layouts the scanner
/// decoders are specified for; an interface's report descriptor gives the real one
/// (``HIDReportDescriptor/scannerReportLayout``).
public struct HIDReportLayout: Sendable, Hashable {
    /// The id of the reports that carry scan data, or nil when reports carry no id byte.
    public var scanReportID: UInt8?
    /// Input report lengths by report id, id byte included (id 0: reports without an id).
    public var lengths: [UInt8: Int]
    /// The length assumed for a report whose id the layout does not list.
    public var defaultLength: Int

    public init(scanReportID: UInt8?, lengths: [UInt8: Int], defaultLength: Int) {
        self.scanReportID = scanReportID
        self.lengths = lengths
        self.defaultLength = defaultLength
    }

    /// The 8-byte boot keyboard report without an id (HID 1.11 appendix B).
    public static let bootKeyboard = HIDReportLayout(scanReportID: nil, lengths: [0: 8], defaultLength: 8)
    /// The de-facto HID POS layout: report id 2, 64 bytes (PROTOCOLS.md §5.3).
    public static let pointOfSale = HIDReportLayout(scanReportID: 2, lengths: [2: 64], defaultLength: 64)

    /// The length of the report that starts with `firstByte`.
    func length(ofReportStartingWith firstByte: UInt8) -> Int {
        guard scanReportID != nil else { return lengths[0] ?? defaultLength }
        return lengths[firstByte] ?? defaultLength
    }
}

/// Cuts a byte stream into whole input reports by a ``HIDReportLayout``. hidraw delivers one
/// report per read, but recordings, pipes and tests may split or join them.
struct HIDReportStream: Sendable {
    let layout: HIDReportLayout
    /// Bytes of a report still waiting for the rest of it.
    private(set) var partial: [UInt8] = []

    init(layout: HIDReportLayout) {
        self.layout = layout
    }

    /// The whole reports these bytes complete, in order.
    mutating func reports(from bytes: UnsafeRawBufferPointer) -> [[UInt8]] {
        var reports: [[UInt8]] = []
        var index = 0
        while index < bytes.count {
            let length = max(1, layout.length(ofReportStartingWith: partial.first ?? bytes[index]))
            let take = min(length - partial.count, bytes.count - index)
            partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)]))
            index += take
            if partial.count == length {
                reports.append(partial)
                partial.removeAll(keepingCapacity: true)
            }
        }
        return reports
    }

    /// Hands over the partial report (end of input).
    mutating func takePartial() -> [UInt8] {
        defer { partial.removeAll() }
        return partial
    }
}
