public import FloorgateCore

/// One protocol a profile (or `floorgate decode --protocol`) can name.
public struct ProtocolEntry: Sendable {
    /// The protocol id of INTERFACES.md (`mitutoyo`, `torque-ascii`, …).
    public let id: String
    /// One line for `floorgate decode --list` and help texts.
    public let summary: String
    /// An example of what the device sends, as text.
    public let example: String
    private let factory: @Sendable (LineEnding) -> any DeviceDecoder

    init(id: String, summary: String, example: String, factory: @escaping @Sendable (LineEnding) -> any DeviceDecoder) {
        self.id = id
        self.summary = summary
        self.example = example
        self.factory = factory
    }

    /// A fresh decoder for this protocol; `lineEnding` matters to line protocols only.
    public func makeDecoder(lineEnding: LineEnding = .auto) -> any DeviceDecoder {
        factory(lineEnding)
    }
}

/// The protocols this build of Floorgate decodes.
public enum ProtocolCatalog {
    public static let entries: [ProtocolEntry] = [
        ProtocolEntry(
            id: "mitutoyo", summary: "Mitutoyo/Digimatic ASCII output of gauges and interfaces",
            example: "01A+0012.345 CR"
        ) { LineDecoder(grammar: MitutoyoGrammar(), lineEnding: $0) },
        ProtocolEntry(
            id: "uwave", summary: "Mitutoyo U-WAVE receiver lines (format unverified)",
            example: "DT10001+0012.345M CR"
        ) { LineDecoder(grammar: UWaveGrammar(), lineEnding: $0) },
        ProtocolEntry(
            id: "sylvac", summary: "Sylvac Opto-RS232 replies (4800 7E2)",
            example: "+012.34 CR"
        ) { LineDecoder(grammar: SylvacGrammar(), lineEnding: $0) },
        ProtocolEntry(
            id: "digimatic", summary: "raw 13-nibble Digimatic frames, one nibble per byte",
            example: "0F 0F 0F 0F 00 02 01 00 07 06 05 04 00"
        ) { _ in DigimaticDecoder() },
        ProtocolEntry(
            id: "torque-ascii", summary: "torque meters printing value and unit per line (Norbar, Mark-10, Sturtevant Richmont, Mecmesin)",
            example: "368.4 N.m CR"
        ) { LineDecoder(grammar: TorqueASCIIGrammar(), lineEnding: $0) },
        ProtocolEntry(
            id: "open-protocol", summary: "Atlas Copco Open Protocol tightening controllers (TCP framing)",
            example: "02310061001         0100010201…"
        ) { _ in OpenProtocolDecoder() },
    ]

    /// The protocol with this id, or nil.
    public static func entry(id: String) -> ProtocolEntry? {
        entries.first { $0.id == id }
    }

    /// Every protocol id, in catalog order.
    public static var ids: [String] { entries.map(\.id) }
}
