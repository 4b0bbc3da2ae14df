import Barcodes
import Testing

@Suite("Scanned content")
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
