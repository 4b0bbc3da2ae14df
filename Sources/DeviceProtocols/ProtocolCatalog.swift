import FloorgateCore

/// One protocol a profile (or `floorgate decode --protocol`) can name.
public struct ProtocolEntry: Sendable {
    /// The protocol id of INTERFACES.md (`mitutoyo`, `torque-ascii`, …).
    public let id: String
    /// One line for `floorgate decode --list` and help texts.
    public let summary: String
    /// An example of what the device sends, as text.
    public let example: String
    private let factory: @Sendable (DecoderOptions) -> any DeviceDecoder

    init(id: String, summary: String, example: String, factory: @escaping @Sendable (DecoderOptions) -> any DeviceDecoder) {
        self.id = id
        self.summary = summary
        self.example = example
        self.factory = factory
    }

    /// A fresh decoder for this protocol, set up as a profile (or `floorgate decode`) says.
    public func makeDecoder(_ options: DecoderOptions = DecoderOptions()) -> any DeviceDecoder {
        factory(options)
    }
}

/// The settings a device profile (or `floorgate decode`'s flags) gives a decoder; each protocol
/// reads the ones that concern it and ignores the rest.
public struct DecoderOptions: Sendable {
    /// How lines end (line protocols).
    public var lineEnding: LineEnding
    /// The layout a keyboard-wedge scanner types with (`hid-keyboard`).
    public var keyboardLayout: KeyboardLayout
    /// What ends a scan besides CR/LF or Enter (`scanner-serial`, `hid-keyboard`).
    public var scanSuffix: ScanSuffix
    /// Bytes a serial scanner sends before each scan, removed when present (`scanner-serial`).
    public var scanPrefix: [UInt8]
    /// The HID interface's report layout from its report descriptor (`hid-keyboard`, `hid-pos`);
    /// nil for the protocols' standard layouts.
    public var hidReportLayout: HIDReportLayout?

    public init(
        lineEnding: LineEnding = .auto,
        keyboardLayout: KeyboardLayout = .factoryDefault,
        scanSuffix: ScanSuffix = .lineEnd,
        scanPrefix: [UInt8] = [],
        hidReportLayout: HIDReportLayout? = nil
    ) {
        self.lineEnding = lineEnding
        self.keyboardLayout = keyboardLayout
        self.scanSuffix = scanSuffix
        self.scanPrefix = scanPrefix
        self.hidReportLayout = hidReportLayout
    }
}

/// The protocols this build of Floorgate decodes.
public enum ProtocolCatalog {
    public static let entries: [ProtocolEntry] = [
        ProtocolEntry(
            id: "mitutoyo", summary: "Mitutoyo/Digimatic ASCII output of gauges and interfaces",
            example: "01A+0012.345 CR"
        ) { LineDecoder(grammar: MitutoyoGrammar(), lineEnding: $0.lineEnding) },
        ProtocolEntry(
            id: "uwave", summary: "Mitutoyo U-WAVE receiver lines (format unverified)",
            example: "DT10001+0012.345M CR"
        ) { LineDecoder(grammar: UWaveGrammar(), lineEnding: $0.lineEnding) },
        ProtocolEntry(
            id: "sylvac", summary: "Sylvac Opto-RS232 replies (4800 7E2)",
            example: "+012.34 CR"
        ) { LineDecoder(grammar: SylvacGrammar(), lineEnding: $0.lineEnding) },
        ProtocolEntry(
            id: "digimatic", summary: "raw 13-nibble Digimatic frames, one nibble per byte",
            example: "0F 0F 0F 0F 00 02 01 00 07 06 05 04 00"
        ) { _ in DigimaticDecoder() },
        ProtocolEntry(
            id: "torque-ascii", summary: "torque meters printing value and unit per line (Norbar, Mark-10, Sturtevant Richmont, Mecmesin)",
            example: "368.4 N.m CR"
        ) { LineDecoder(grammar: TorqueASCIIGrammar(), lineEnding: $0.lineEnding) },
        ProtocolEntry(
            id: "open-protocol", summary: "Atlas Copco Open Protocol tightening controllers (TCP framing)",
            example: "02310061001         0100010201…"
        ) { _ in OpenProtocolDecoder() },
        ProtocolEntry(
            id: "scanner-serial", summary: "serial or USB-CDC barcode scanners, one scan per CR, LF or CR LF",
            example: "]C1010950600013435210ABC123 CR"
        ) { LineDecoder(grammar: ScannerSerialGrammar(prefix: $0.scanPrefix, suffix: $0.scanSuffix), lineEnding: $0.lineEnding) },
        ProtocolEntry(
            id: "hid-keyboard", summary: "keyboard-wedge scanners: 8-byte HID boot-keyboard reports, typed with --layout",
            example: "02 00 04 00 00 00 00 00 (Shift+A), 00 00 28 … (Enter)"
        ) { HIDKeyboardDecoder(layout: $0.keyboardLayout, suffix: $0.scanSuffix, reportLayout: $0.hidReportLayout ?? .bootKeyboard) },
        ProtocolEntry(
            id: "hid-pos", summary: "HID POS barcode scanners (usage page 0x8C): 64-byte reports with AIM id",
            example: "02 07 5D 43 30 41 42 43 2D 31 32 33 … (]C0 ABC-123)"
        ) { HIDPOSDecoder(reportLayout: $0.hidReportLayout ?? .pointOfSale) },
    ]

    /// The protocol with this id, or nil.
    public static func entry(id: String) -> ProtocolEntry? {
        entries.first { $0.id == id }
    }

    /// Every protocol id, in catalog order.
    public static var ids: [String] { entries.map(\.id) }
}
