import Barcodes
import Testing

@Suite("Scanned content", .timeLimit(.minutes(1)))
struct ScannedContentTests {
    @Test("ISO/IEC 15434: a text element without a space, a format Floorgate keeps whole, data after EOT")
    func iso15434Problems() {
        let missingSpace = ScannedContent(parsing: "[)>\u{1E}12\u{1D}MFR0CVA5\u{1E}\u{04}")
        #expect(missingSpace.scheme == .iso15434)
        #expect(missingSpace.errors == ["ISO/IEC 15434: field 'MFR0CVA5' of format 12 has no text element identifier"])
        let freeText = ScannedContent(parsing: "[)>\u{1E}07\u{1D}any text\u{1E}\u{04}")
        #expect(freeText.isValid && freeText.elements == [.iso15434(.field(format: "07", value: "any text"))])
        let trailing = ScannedContent(parsing: "[)>\u{1E}06\u{1D}S1\u{1E}\u{04}X")
        #expect(trailing.errors == ["ISO/IEC 15434: data after the EOT trailer at position 12"])
    }

    @Test("HIBC: standalone secondary with link, serial with date, Julian date, quantity, bad characters")
    func hibcForms() {
        func data(_ text: String) -> (HIBCData?, [String]) {
            let content = ScannedContent(parsing: text)
            guard case .hibc(let data)? = content.elements.first else { return (nil, content.errors) }
            return (data, content.errors)
        }
        let secondary = "+$$3261231LOT7" + "3"
        let check = String(UnicodeScalar(HIBCCheck.character(of: secondary)))
        let (standalone, standaloneErrors) = data(secondary + check)
        #expect(standaloneErrors.isEmpty)
        #expect(standalone?.lot == "LOT7" && standalone?.expiry == "2026-12-31" && standalone?.link == "3")

        let serialWithDate = "+E123PN4711A0/$$+526365SN9"
        let (serial, serialErrors) = data(serialWithDate + String(UnicodeScalar(HIBCCheck.character(of: serialWithDate))))
        #expect(serialErrors.isEmpty)
        #expect(serial?.serial == "SN9" && serial?.expiry == "2026-12-31")

        let quantity = "+E123PN4711A0/$$8241226LOT1"
        let (withQuantity, quantityErrors) = data(quantity + String(UnicodeScalar(HIBCCheck.character(of: quantity))))
        #expect(quantityErrors.isEmpty)
        #expect(withQuantity?.quantity == "24" && withQuantity?.expiry == "2026-12" && withQuantity?.lot == "LOT1")

        #expect(data("+E123pn4711A0X").1 == ["HIBC: character 'p' not allowed"])
        let impossible = "+E123PN4711A0/$$3261331LOT7"
        #expect(data(impossible + String(UnicodeScalar(HIBCCheck.character(of: impossible)))).1 == ["HIBC: impossible date 261331"])
    }

    @Test("GTIN carriers: wrong length and letters are invalid, still listed as AI 01")
    func gtinCarriers() {
        #expect(ScannedContent(parsing: "]E0429817350024").errors == ["AI 01: value too short (12 < 13)"])
        #expect(ScannedContent(parsing: "]E442981A32").errors == ["AI 01: character 'A' not allowed"])
    }

    @Test("an AIM identifier Floorgate does not name keeps the data plain")
    func otherSymbologies() {
        let content = ScannedContent(parsing: "]X0WO-1")
        #expect(content.aim == "]X0" && content.symbology == nil && content.scheme == .plain && content.isValid)
    }
}

/// The mod-43 check character, computed independently of the parser for building test codes.
enum HIBCCheck {
    static func character(of text: String) -> UInt8 {
        let set = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%".utf8)
        let sum = text.utf8.reduce(0) { $0 + (set.firstIndex(of: $1) ?? 0) }
        return set[sum % 43]
    }
}

@Suite("Scanned content edge cases", .timeLimit(.minutes(1)))
struct ScannedContentEdgeCaseTests {
    @Test("a digital signature (8030) needs the GRAI it signs to carry a serial")
    func digitalSignature() {
        let signed = "]d2800300429817000018ABC\u{1D}8030ABCD"
        #expect(ScannedContent(parsing: signed).isValid)
        let withoutSerial = ScannedContent(parsing: "]d2800300429817000018\u{1D}8030ABCD")
        #expect(withoutSerial.errors == ["AI 8003 must carry a serial component when AI 8030 is present"])
    }

    @Test("GS1 data with no element at all is not valid")
    func emptyGS1Data() {
        #expect(ScannedContent(parsing: "]C1").errors == ["no GS1 element string in the data"])
    }

    @Test("in bracketed form, \\( is a bracket of the data")
    func bracketedEscape() {
        let content = ScannedContent(parsing: "(01)04298173500243(10)AB\\(12)C")
        #expect(content.isValid, "\(content.errors)")
        guard case .gs1(let lot)? = content.elements.last else { Issue.record("no element"); return }
        #expect(lot.ai == "10" && lot.value == "AB(12)C")
    }

    @Test("a character outside the set is named whole, not by its first UTF-8 byte")
    func nonASCIICharacter() {
        #expect(ScannedContent(parsing: "]C1010429817350024310LOTé").errors == ["AI 10: character 'é' not allowed"])
        #expect(ScannedContent(parsing: "]C1010429817350024310LOT\u{7}").errors == ["AI 10: character U+0007 not allowed"])
    }

    @Test("ISO/IEC 15434 without the last RS still ends at its EOT")
    func missingLastRecordSeparator() {
        let content = ScannedContent(parsing: "[)>\u{1E}06\u{1D}1PABC\u{1D}S123\u{04}")
        #expect(content.elements == [
            .iso15434(.identified(format: "06", identifier: "1P", value: "ABC")),
            .iso15434(.identified(format: "06", identifier: "S", value: "123")),
        ])
        #expect(content.errors == ["ISO/IEC 15434: RS missing after format 06"])
    }

    @Test("a HIBC quantity must be digits; the JSON keeps to the contract's keys")
    func hibcQuantityAndJSON() {
        let code = "+E123PN4711A0/$$8A1226LOT1"
        let content = ScannedContent(parsing: code + String(UnicodeScalar(HIBCCheck.character(of: code))))
        #expect(content.errors == ["HIBC: quantity after $$8 must be 2 digits"])
        let secondary = "+$$3261231LOT73"
        let standalone = ScannedContent(parsing: secondary + String(UnicodeScalar(HIBCCheck.character(of: secondary))))
        #expect(standalone.isValid && !standalone.jsonLine.contains("link") && standalone.jsonLine.contains("\"expiry\":\"2026-12-31\""))
    }
}
