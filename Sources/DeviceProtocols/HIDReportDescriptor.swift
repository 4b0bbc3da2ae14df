/// What a HID interface is, as far as Floorgate cares: decided from its report descriptor alone,
/// so that device discovery can pick `hid-keyboard` or `hid-pos` for a scanner without being told.
public enum HIDInterfaceKind: String, Sendable, Hashable {
    /// An application collection Keyboard (Generic Desktop 0x01, usage 0x06): a keyboard wedge.
    case keyboard
    /// An application collection Bar Code Scanner (HID POS page 0x8C, usage 0x02).
    case pointOfSaleScanner = "pos-scanner"
    /// Anything else (mouse, consumer control, vendor page).
    case other

    /// The decoder for this kind of interface, or nil when it is not a scanner.
    public var protocolID: String? {
        switch self {
        case .keyboard: "hid-keyboard"
        case .pointOfSaleScanner: "hid-pos"
        case .other: nil
        }
    }
}

/// A top-level (application) collection of a report descriptor and the input reports it holds.
public struct HIDApplication: Sendable, Hashable {
    public let usagePage: UInt16
    public let usage: UInt16
    /// Report id → input report length in bytes, report id byte included (id 0: no id byte).
    public let inputReportLengths: [UInt8: Int]

    public var kind: HIDInterfaceKind {
        switch (usagePage, usage) {
        case (0x01, 0x06): .keyboard
        case (0x8C, 0x02): .pointOfSaleScanner
        default: .other
        }
    }
}

/// A parsed HID report descriptor (HID 1.11 §6.2.2): short items, usage pages, report ids, sizes
/// and counts, nested collections. Long items are skipped. Pure: bytes in, structure out.
public struct HIDReportDescriptor: Sendable, Hashable {
    public let applications: [HIDApplication]

    /// The interface's kind: a scanner kind if any application collection is one (POS first).
    public var kind: HIDInterfaceKind { scannerApplication?.kind ?? .other }

    private var scannerApplication: HIDApplication? {
        applications.first { $0.kind == .pointOfSaleScanner } ?? applications.first { $0.kind == .keyboard }
    }

    /// The report layout the scanner decoder needs (``DecoderOptions/hidReportLayout``): the id
    /// of the scanner collection's scan report (nil when reports carry none) and every input
    /// report's length, so reports of other collections are skipped whole. The scan report is,
    /// for a POS scanner, report 2 (the de-facto layout) or else its longest; for a keyboard, its
    /// 8-byte boot report. Nil when no collection is a scanner's or no report fits.
    public var scannerReportLayout: HIDReportLayout? {
        guard let scanner = scannerApplication else { return nil }
        let reports = scanner.inputReportLengths
        let scanReport: (id: UInt8, length: Int)?
        switch scanner.kind {
        case .pointOfSaleScanner:
            scanReport = reports[2].map { (2, $0) } ?? reports.max { $0.value < $1.value }.map { ($0.key, $0.value) }
        default:
            scanReport = reports.first { $0.value == ($0.key == 0 ? 8 : 9) }.map { ($0.key, $0.value) }
        }
        guard let scanReport else { return nil }
        var lengths: [UInt8: Int] = [:]
        for application in applications {
            lengths.merge(application.inputReportLengths) { first, _ in first }
        }
        return HIDReportLayout(scanReportID: scanReport.id == 0 ? nil : scanReport.id, lengths: lengths, defaultLength: scanReport.length)
    }

    /// The longest input report accepted (bits): hidraw's own buffer is 16 KiB.
    static let maximumReportBits = 16 * 1024 * 8

    public init(parsing bytes: [UInt8]) throws(HIDDescriptorError) {
        var applications: [HIDApplication] = []
        var global = GlobalState()
        var globalStack: [GlobalState] = []
        var localUsages: [UInt32] = []
        var depth = 0
        var current: (page: UInt16, usage: UInt16)?
        var inputBits: [UInt8: Int] = [:]
        var offset = 0
        while offset < bytes.count {
            let prefix = bytes[offset]
            if prefix == 0xFE {  // long item: size, tag, data
                guard offset + 2 < bytes.count, offset + 3 + Int(bytes[offset + 1]) <= bytes.count else {
                    throw HIDDescriptorError(offset: offset, problem: "long item cut short")  // where the item starts
                }
                offset += 3 + Int(bytes[offset + 1])
                continue
            }
            let size = [0, 1, 2, 4][Int(prefix & 0x03)]
            guard offset + size < bytes.count else {
                throw HIDDescriptorError(offset: offset, problem: "item 0x\(String(prefix, radix: 16)) needs \(size) data bytes")
            }
            let data = bytes[(offset + 1)..<(offset + 1 + size)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let tag = prefix >> 4
            switch (prefix >> 2) & 0x03 {
            case 0:  // main
                switch tag {
                case 0x8:  // Input
                    // Sizes come from the device: refuse ones no real report has, before they overflow.
                    let bits = global.reportSize * global.reportCount
                    guard global.reportSize <= 0xFFFF, global.reportCount <= 0xFFFF,
                          inputBits[global.reportID, default: 0] + bits <= Self.maximumReportBits
                    else { throw HIDDescriptorError(offset: offset, problem: "input report longer than \(Self.maximumReportBits / 8) bytes") }
                    inputBits[global.reportID, default: 0] += bits
                case 0xA:  // Collection
                    if depth == 0 {
                        let usage = localUsages.first ?? 0
                        current = (usage > 0xFFFF ? UInt16(usage >> 16) : global.usagePage, UInt16(usage & 0xFFFF))
                        inputBits = [:]
                    }
                    depth += 1
                case 0xC:  // End Collection
                    guard depth > 0 else { throw HIDDescriptorError(offset: offset, problem: "End Collection without a Collection") }
                    depth -= 1
                    if depth == 0, let application = current {
                        applications.append(HIDApplication(
                            usagePage: application.page, usage: application.usage,
                            inputReportLengths: inputBits.mapValues { ($0 + 7) / 8 + ($0 > 0 && global.usesReportIDs ? 1 : 0) }
                                .filter { $0.value > 0 }
                        ))
                        current = nil
                    }
                default:
                    break  // Output, Feature
                }
                localUsages.removeAll()
            case 1:  // global
                switch tag {
                case 0x0: global.usagePage = UInt16(truncatingIfNeeded: data)
                case 0x7: global.reportSize = Int(min(data, 0x1_0000))
                case 0x8:
                    guard data > 0, data <= 0xFF else { throw HIDDescriptorError(offset: offset, problem: "report id \(data) out of range 1–255") }
                    global.reportID = UInt8(data)
                    global.usesReportIDs = true
                case 0x9: global.reportCount = Int(min(data, 0x1_0000))
                case 0xA: globalStack.append(global)
                case 0xB:
                    guard let saved = globalStack.popLast() else { throw HIDDescriptorError(offset: offset, problem: "Pop without Push") }
                    global = saved
                default: break
                }
            case 2:  // local
                if tag == 0x0 { localUsages.append(size == 4 ? data : data & 0xFFFF) }
            default:
                throw HIDDescriptorError(offset: offset, problem: "reserved item type in 0x\(String(prefix, radix: 16))")
            }
            offset += 1 + size
        }
        guard depth == 0 else { throw HIDDescriptorError(offset: bytes.count, problem: "\(depth) collection(s) not closed") }
        self.applications = applications
    }

    /// The global items that carry from one main item to the next.
    private struct GlobalState {
        var usagePage: UInt16 = 0
        var reportSize = 0
        var reportCount = 0
        var reportID: UInt8 = 0
        var usesReportIDs = false
    }
}

/// A report descriptor that cannot be parsed, with the byte offset of the bad item.
public struct HIDDescriptorError: Error, Sendable, Hashable, CustomStringConvertible {
    public let offset: Int
    public let problem: String

    public var description: String { "report descriptor byte \(offset): \(problem)" }
}
