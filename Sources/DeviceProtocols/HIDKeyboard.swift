public import FloorgateCore

/// Protocol `hid-keyboard`: the 8-byte boot-keyboard input reports of a keyboard-wedge scanner
/// (PROTOCOLS.md §5.2), read from hidraw and turned into text with the layout the scanner is set
/// to — so neither the host's layout nor Caps Lock nor the focused window plays a part.
///
/// Rules (fixtures/README.md `hid-keyboard`):
/// - a press is a usage present in a report and absent from the one before (a held key is not
///   pressed again); presses count in slot order with that report's modifiers; reports holding
///   ErrorRollOver/POSTFail/ErrorUndefined are ignored;
/// - Shift (either) and AltGr (right Alt) pick the level; Ctrl without Alt + key types the
///   control character of the key's US character (Ctrl+] is GS); left Alt + keypad digits types
///   the character of that decimal code when Alt is released (Alt+0029 is GS);
/// - Enter or keypad Enter (and Tab, with a TAB suffix) ends the scan; the frame ends with the
///   first report after it with no key down, and holds every report since the previous frame;
/// - a press with no character on the layout (dead key, F-key, Esc, an Alt or GUI chord) makes
///   the whole frame one `unmapped key` error: a wrong character is never guessed.
/// Keys pressed after Enter and before its release begin the next scan.
public struct HIDKeyboardDecoder: DeviceDecoder {
    /// A frame that has run this many bytes without an Enter (a keyboard, not a scanner; a
    /// scanner whose suffix is off) is skipped as `frame too long`: 4096 characters' worth.
    static let maximumFrameLength = 4096 * 16

    /// The layout the scanner types with.
    public let layout: KeyboardLayout
    /// What ends a scan besides Enter.
    public let suffix: ScanSuffix

    private var reports: HIDReportStream
    /// The raw bytes of the whole reports of the current frame.
    private var frame: [UInt8] = []
    private var heldKeys: [UInt8] = []
    private var text = String.UnicodeScalarView()
    private var typedUnmappedKey = false
    /// The decimal code typed on the keypad while left Alt is held, if any.
    private var altCode: UInt32?
    /// The scan that Enter finished, waiting for the report that releases every key.
    private var finished: (text: String.UnicodeScalarView, unmapped: Bool)?
    private var skipped = SkippedRun()

    /// `reportLayout` is the boot keyboard's unless the interface's report descriptor numbers its
    /// reports (a keyboard collection beside a consumer-control one): then the scan reports are
    /// the id byte and the 8 boot bytes, and reports of other ids are skipped.
    public init(layout: KeyboardLayout, suffix: ScanSuffix = .lineEnd, reportLayout: HIDReportLayout = .bootKeyboard) {
        self.layout = layout
        self.suffix = suffix
        reports = HIDReportStream(layout: reportLayout)
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [DeviceEvent] {
        reports.reports(from: bytes).reduce(into: []) { events, report in handleReport(report, into: &events) }
    }

    public mutating func flush() -> [DeviceEvent] { skipped.flushed() }

    public mutating func finish() -> [DeviceEvent] {
        defer { self = HIDKeyboardDecoder(layout: layout, suffix: suffix, reportLayout: reports.layout) }
        return skipped.finished(leaving: frame + reports.takePartial())
    }

    // MARK: - Reports

    private mutating func handleReport(_ report: [UInt8], into events: inout [DeviceEvent]) {
        var boot = report[...]
        if let scanReportID = reports.layout.scanReportID {
            guard report.first == scanReportID, report.count >= 9 else {
                // Another collection's report (a consumer key) inside a scan: the scan is lost.
                skipFrame(adding: report, reason: .unexpectedBytes, into: &events)
                return
            }
            boot = report[1..<9]
        }
        frame.append(contentsOf: report)
        let keys = boot.dropFirst(2).prefix(6)
        if keys.contains(where: { (0x01...0x03).contains($0) }) { return }  // rollover error report
        let modifiers = Modifiers(rawValue: boot[boot.startIndex])
        if !modifiers.contains(.leftAlt), let code = altCode {
            altCode = nil
            type(code == 0 ? nil : Unicode.Scalar(code))
        }
        for usage in keys where usage != 0 && !heldKeys.contains(usage) {
            press(usage, modifiers: modifiers)
        }
        heldKeys = keys.filter { $0 != 0 }
        if heldKeys.isEmpty, let scan = finished {
            endFrame(scan, into: &events)
        } else if frame.count > Self.maximumFrameLength {
            skipFrame(adding: [], reason: .frameTooLong, into: &events)
        }
    }

    /// Skips the frame so far (and `report`), forgetting what it typed.
    private mutating func skipFrame(adding report: [UInt8], reason: DecodeFailure, into events: inout [DeviceEvent]) {
        skipped.append(frame + report, reason: reason, into: &events)
        frame.removeAll(keepingCapacity: true)
        text = String.UnicodeScalarView()
        typedUnmappedKey = false
        altCode = nil
        finished = nil
    }

    private mutating func press(_ usage: UInt8, modifiers: Modifiers) {
        if Usage.isEnter(usage) || (suffix == .tab && usage == Usage.tab) {
            if finished == nil {
                finished = (text, typedUnmappedKey)
                text = String.UnicodeScalarView()
                typedUnmappedKey = false
            }
            return
        }
        let level = KeyboardLayout.Level(shift: !modifiers.isDisjoint(with: .shift), altGr: modifiers.contains(.rightAlt))
        let control = !modifiers.isDisjoint(with: .control)
        if modifiers.contains(.leftAlt), !control, let digit = Usage.keypadDigit(usage) {
            // Saturates above the largest scalar: such a code types nothing.
            altCode = min((altCode ?? 0) * 10 + digit, 0x11_0000)
            return
        }
        if !modifiers.isDisjoint(with: .gui) || modifiers.contains(.leftAlt) {
            type(nil)  // a shortcut chord, not a character
        } else if control {
            type(controlCharacter(usage, level: level))
        } else {
            type(layout.character(usage: usage, level: level))
        }
    }

    /// Ctrl + key: the key's US character at this Shift level, upper-cased, AND 0x1F, when it is
    /// one of `A`…`_` (Ctrl+] = GS, Ctrl+Shift+6 = RS, Ctrl+D = EOT).
    private func controlCharacter(_ usage: UInt8, level: KeyboardLayout.Level) -> Unicode.Scalar? {
        guard let character = KeyboardLayout.us.character(usage: usage, level: KeyboardLayout.Level(shift: level.shift, altGr: false))
        else { return nil }
        let upper = (0x61...0x7A).contains(character.value) ? character.value - 0x20 : character.value
        // Ctrl+@ would be NUL, which no scan holds (as Alt+0 types nothing).
        guard (0x41...0x5F).contains(upper) else { return nil }
        return Unicode.Scalar(upper & 0x1F)
    }

    private mutating func type(_ character: Unicode.Scalar?) {
        if let character {
            text.append(character)
        } else {
            typedUnmappedKey = true
        }
    }

    private mutating func endFrame(_ scan: (text: String.UnicodeScalarView, unmapped: Bool), into events: inout [DeviceEvent]) {
        if scan.unmapped {
            skipped.append(frame, reason: .unmappedKey, into: &events)
        } else if scan.text.isEmpty {
            skipped.append(frame, reason: .emptyFrame, into: &events)
        } else {
            skipped.close(into: &events)
            events.append(.scan(Scan(splittingAIMFrom: String(scan.text)), raw: RawBytes(frame)))
        }
        frame.removeAll(keepingCapacity: true)
        finished = nil
    }
}

/// The modifier byte of a boot-keyboard report.
struct Modifiers: OptionSet {
    let rawValue: UInt8

    static let leftControl = Modifiers(rawValue: 0x01)
    static let leftShift = Modifiers(rawValue: 0x02)
    static let leftAlt = Modifiers(rawValue: 0x04)
    static let leftGUI = Modifiers(rawValue: 0x08)
    static let rightControl = Modifiers(rawValue: 0x10)
    static let rightShift = Modifiers(rawValue: 0x20)
    /// AltGr on European layouts.
    static let rightAlt = Modifiers(rawValue: 0x40)
    static let rightGUI = Modifiers(rawValue: 0x80)

    static let control: Modifiers = [.leftControl, .rightControl]
    static let shift: Modifiers = [.leftShift, .rightShift]
    static let gui: Modifiers = [.leftGUI, .rightGUI]
}

/// Keyboard/Keypad page usages the decoder treats itself.
enum Usage {
    static let enter: UInt8 = 0x28
    static let tab: UInt8 = 0x2B
    static let keypadEnter: UInt8 = 0x58
    static let keypadOne: UInt8 = 0x59
    static let keypadZero: UInt8 = 0x62

    static func isEnter(_ usage: UInt8) -> Bool { usage == enter || usage == keypadEnter }

    /// The digit of a keypad digit key (keypad 1…9 are 0x59…0x61, keypad 0 is 0x62), else nil.
    static func keypadDigit(_ usage: UInt8) -> UInt32? {
        if usage == keypadZero { return 0 }
        guard (keypadOne..<keypadZero).contains(usage) else { return nil }
        return UInt32(usage - keypadOne + 1)
    }
}
