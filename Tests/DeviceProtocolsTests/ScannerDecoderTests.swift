import DeviceProtocols
import FixtureSupport
import FloorgateCore
import Testing

/// Boot-keyboard reports a keyboard-wedge scanner set to `layout` sends for `text`: for each
/// character the first level of the layout's own table that types it (plain, Shift, AltGr,
/// Shift+AltGr), pressed and released; GS as Ctrl+]; Enter at the end.
func keyboardReports(typing text: String, on layout: KeyboardLayout) -> [UInt8]? {
    var reports: [UInt8] = []
    let levels = [(false, false), (true, false), (false, true), (true, true)].map { KeyboardLayout.Level(shift: $0.0, altGr: $0.1) }
    for character in text.unicodeScalars {
        if character == "\u{1D}" {
            reports += [0x01, 0, 0x30, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
            continue
        }
        guard let (usage, level) = (0x04...0x67).lazy.compactMap({ (usage: Int) -> (UInt8, KeyboardLayout.Level)? in
            levels.first { layout.character(usage: UInt8(usage), level: $0) == character }.map { (UInt8(usage), $0) }
        }).first else { return nil }
        let modifiers: UInt8 = (level.shift ? 0x02 : 0) | (level.altGr ? 0x40 : 0)
        reports += [modifiers, 0, usage, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
    }
    return reports + [0, 0, 0x28, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
}

func decodeAll(_ bytes: [UInt8], with decoder: some DeviceDecoder) -> [DeviceEvent] {
    var decoder = decoder
    return decoder.feed(bytes) + decoder.finish()
}

@Suite("Keyboard-wedge scanners", .timeLimit(.minutes(1)))
struct HIDKeyboardTests {
    static let layouts = KeyboardLayout.all.map(\.name)

    @Test("the layouts the issue names are all generated, with their xkb names")
    func generatedLayouts() {
        #expect(Self.layouts == ["us", "uk", "de", "fr", "be", "es", "it", "ch", "se", "no", "dk"])
        #expect(KeyboardLayout.named("gb")?.name == "uk")
        #expect(KeyboardLayout.named("xx") == nil)
    }

    @Test("the same symbol comes out of every layout's own reports", arguments: layouts)
    func sameSymbolThroughEveryLayout(name: String) throws {
        let layout = try #require(KeyboardLayout.named(name))
        let symbol = "]C10104298173500243\u{1D}10LOT-42/A.b,c;d:e_f(g)h=i+j*k%l&m'n!o?p<q>r\"s"
        let reports = try #require(keyboardReports(typing: symbol, on: layout), "\(name) cannot type the symbol")
        let events = decodeAll(reports, with: HIDKeyboardDecoder(layout: layout))
        #expect(events == [.scan(Scan(text: String(symbol.dropFirst(3)), aim: "]C1"), raw: RawBytes(reports))])
    }

    @Test("every printable ASCII character a layout can type reads back as itself", arguments: layouts)
    func everyTypableCharacterRoundTrips(name: String) throws {
        let layout = try #require(KeyboardLayout.named(name))
        var typable = 0
        for value in UInt32(0x21)...0x7E {
            let text = String(Character(Unicode.Scalar(value)!))
            guard let reports = keyboardReports(typing: "X" + text, on: layout) else { continue }
            typable += 1
            let events = decodeAll(reports, with: HIDKeyboardDecoder(layout: layout))
            #expect(events.first.map(Self.scanText) == "X" + text, "\(name): \(text)")
        }
        #expect(typable >= 90, "\(name) types only \(typable) of 94 printable characters")
    }

    @Test("a scanner set to US read as DE: the classic complaint, character by character")
    func wrongLayoutIsVisible() throws {
        let us = try #require(KeyboardLayout.named("us"))
        let german = try #require(KeyboardLayout.named("de"))
        let reports = try #require(keyboardReports(typing: "ABC-123/Z", on: us))
        #expect(decodeAll(reports, with: HIDKeyboardDecoder(layout: german)).first.map(Self.scanText) == "ABCß123-Y")
    }

    @Test("Tab ends a scan only when the profile says the suffix is TAB")
    func tabSuffix() {
        let reports: [UInt8] = [0x02, 0, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x2B, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        let asData = decodeAll(reports + [0, 0, 0x28, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], with: HIDKeyboardDecoder(layout: .factoryDefault))
        #expect(asData.first.map(Self.scanText) == "A\t")
        let asSuffix = decodeAll(reports, with: HIDKeyboardDecoder(layout: .factoryDefault, suffix: .tab))
        #expect(asSuffix == [.scan(Scan(text: "A", aim: nil), raw: RawBytes(reports))])
    }

    @Test("Alt codes above 255, Alt chords and rollover-error reports")
    func altCodesAndChords() {
        let release = [UInt8](repeating: 0, count: 8)
        // Alt + keypad 8 3 6 4 = U+20AC (euro sign), emitted at Alt's release.
        var reports: [UInt8] = []
        for usage: UInt8 in [0x60, 0x5B, 0x5E, 0x5C] { reports += [0x04, 0, usage, 0, 0, 0, 0, 0] + [0x04] + release.dropFirst() }
        reports += release + [0, 0, 0x28, 0, 0, 0, 0, 0] + release
        #expect(decodeAll(reports, with: HIDKeyboardDecoder(layout: .factoryDefault)).first.map(Self.scanText) == "\u{20AC}")

        // Alt + a letter is a shortcut, not a character.
        let chord: [UInt8] = [0x04, 0, 0x04, 0, 0, 0, 0, 0] + release + [0, 0, 0x28, 0, 0, 0, 0, 0] + release
        #expect(decodeAll(chord, with: HIDKeyboardDecoder(layout: .factoryDefault)) == [.error(.unmappedKey, raw: RawBytes(chord))])

        // An ErrorRollOver report changes nothing: B after it is still a new press.
        let rollover: [UInt8] = [0x02, 0, 0x05, 0, 0, 0, 0, 0] + [0, 0, 1, 1, 1, 1, 1, 1] + [0x02, 0, 0x05, 0x06, 0, 0, 0, 0]
            + release + [0, 0, 0x28, 0, 0, 0, 0, 0] + release
        #expect(decodeAll(rollover, with: HIDKeyboardDecoder(layout: .factoryDefault)).first.map(Self.scanText) == "BC")
    }

    @Test("a key pressed while Enter is still down begins the next scan")
    func pressAfterEnterStartsNextScan() {
        let release = [UInt8](repeating: 0, count: 8)
        let first: [UInt8] = [0x02, 0, 0x04, 0, 0, 0, 0, 0] + release + [0, 0, 0x28, 0, 0, 0, 0, 0] + [0x02, 0, 0x28, 0x05, 0, 0, 0, 0] + release
        let second: [UInt8] = [0, 0, 0x28, 0, 0, 0, 0, 0] + release
        let events = decodeAll(first + second, with: HIDKeyboardDecoder(layout: .factoryDefault))
        #expect(events.map(Self.scanText) == ["A", "B"])
    }

    static func scanText(_ event: DeviceEvent) -> String? {
        if case .scan(let scan, _) = event { return (scan.aim ?? "") + scan.text }
        return nil
    }
}

@Suite("Serial scanners", .timeLimit(.minutes(1)))
struct ScannerSerialTests {
    @Test("a configured prefix is removed; a TAB suffix ends the scan only when configured")
    func prefixAndTabSuffix() {
        let input = Array("\u{2}]C1010950600013435210ABC\t\u{2}WO-1\t".utf8)
        let plain = decodeAll(input, with: LineDecoder(grammar: ScannerSerialGrammar()))
        #expect(plain == [.error(.incompleteFrame, raw: RawBytes(input))])
        let configured = decodeAll(input, with: LineDecoder(grammar: ScannerSerialGrammar(prefix: [0x02], suffix: .tab)))
        #expect(configured == [
            .scan(Scan(text: "010950600013435210ABC", aim: "]C1"), raw: RawBytes(input[0..<26])),
            .scan(Scan(text: "WO-1", aim: nil), raw: RawBytes(input[26...])),
        ])
    }

    @Test("an AIM identifier needs a letter after the bracket and one more character")
    func aimSplitting() {
        #expect(Scan(splittingAIMFrom: "]d2010").aim == "]d2")
        #expect(Scan(splittingAIMFrom: "]1A").aim == nil)
        #expect(Scan(splittingAIMFrom: "]C").aim == nil)
        #expect(Scan(splittingAIMFrom: "]Cé").aim == "]Cé")
    }
}

@Suite("HID POS scanners", .timeLimit(.minutes(1)))
struct HIDPOSTests {
    @Test("a 60-byte code arrives as 56 + 4 bytes and is one scan with the first report's AIM id")
    func continuation() {
        let code = Array(String(repeating: "7", count: 60).utf8)
        var first = [UInt8](repeating: 0, count: 64)
        first[0] = 2; first[1] = 56; first[2...4] = [0x5D, 0x64, 0x31]; first[5..<61] = code[0..<56]; first[63] = 1
        var second = [UInt8](repeating: 0, count: 64)
        second[0] = 2; second[1] = 4; second[5..<9] = code[56...]
        let events = decodeAll(first + second, with: HIDPOSDecoder())
        #expect(events == [.scan(Scan(text: String(repeating: "7", count: 60), aim: "]d1"), raw: RawBytes(first + second))])
    }

    @Test("a report of another id between continuation reports drops the unfinished scan as one error")
    func interruptedContinuation() {
        var first = [UInt8](repeating: 0, count: 64)
        first[0] = 2; first[1] = 1; first[5] = 0x41; first[63] = 1
        var status = [UInt8](repeating: 0, count: 64)
        status[0] = 4
        let events = decodeAll(first + status, with: HIDPOSDecoder())
        #expect(events == [.error(.unexpectedBytes, raw: RawBytes(first + status))])
    }
}

@Suite("Serial scanner limits", .timeLimit(.minutes(1)))
struct ScannerSerialLimitTests {
    @Test("a line that is only the configured prefix is an empty frame")
    func prefixAlone() {
        let input: [UInt8] = [0x02, 0x0D, 0x02, 0x41, 0x0D]
        let events = decodeAll(input, with: LineDecoder(grammar: ScannerSerialGrammar(prefix: [0x02]), lineEnding: .cr))
        #expect(events == [.error(.emptyFrame, raw: RawBytes([0x02, 0x0D])), .scan(Scan(text: "A", aim: nil), raw: RawBytes([0x02, 0x41, 0x0D]))])
    }

    @Test("endless data without a terminator comes out in error events of at most 4096 bytes")
    func endlessLine() {
        var decoder = LineDecoder(grammar: ScannerSerialGrammar())
        let events = decoder.feed([UInt8](repeating: 0x41, count: 40_000))
        #expect(!events.isEmpty && events.allSatisfy { $0.raw.count == 4096 })
    }
}
