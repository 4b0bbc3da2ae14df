/// The characters a keyboard layout types for each HID keyboard usage (page 0x07), at the four
/// levels a scanner can reach: plain, Shift, AltGr (right Alt) and Shift+AltGr, with NumLock on.
///
/// The tables are generated from xkb-data by `scripts/generate-keyboard-layouts.py` (see
/// Generated/KeyboardLayouts.swift); nothing here is typed by hand. A usage with no character at
/// a level (a dead key, a function key, Esc, Backspace, Enter) has none: the decoder reports it
/// as `unmapped key` rather than guess.
public struct KeyboardLayout: Sendable {
    /// The `--layout` name (`us`, `uk`, `de`, …).
    public let name: String
    /// The xkb symbols the table was compiled from (`gb` for `uk`).
    public let xkbName: String
    /// The layout's name in xkb's rules list (`English (UK)`).
    public let description: String
    private let levels: [[UInt32]]

    init(name: String, xkbName: String, description: String, plain: [UInt32], shift: [UInt32], altGr: [UInt32], shiftAltGr: [UInt32]) {
        self.name = name
        self.xkbName = xkbName
        self.description = description
        levels = [plain, shift, altGr, shiftAltGr]
    }

    /// A shift level: which of Shift and AltGr are held.
    public struct Level: Sendable, Hashable {
        public var shift: Bool
        public var altGr: Bool

        public init(shift: Bool, altGr: Bool) {
            self.shift = shift
            self.altGr = altGr
        }

        fileprivate var index: Int { (shift ? 1 : 0) + (altGr ? 2 : 0) }
    }

    /// The character `usage` types at `level`, or nil when it types none.
    public func character(usage: UInt8, level: Level) -> Unicode.Scalar? {
        let table = levels[level.index]
        guard Int(usage) < table.count, table[Int(usage)] != 0 else { return nil }
        return Unicode.Scalar(table[Int(usage)])
    }

    /// US, the keyboard country most scanners ship set to.
    public static var factoryDefault: KeyboardLayout { us }

    /// Every layout this build knows.
    public static var all: [KeyboardLayout] { generated }

    /// The layout with this `--layout` name; the xkb name is accepted too (`gb` for `uk`).
    public static func named(_ name: String) -> KeyboardLayout? {
        generated.first { $0.name == name } ?? generated.first { $0.xkbName == name }
    }
}
