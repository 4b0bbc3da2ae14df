import Barcodes
import FloorgateCore
import Testing

@Suite("Serial patterns", .timeLimit(.minutes(1)))
struct SerialPatternTests {
    static func serial(_ pattern: String, _ scan: String) throws -> String? {
        try SerialPattern(parsing: pattern).serial(in: ScannedContent(parsing: scan).fields)
    }

    @Test("GS1 AI 21, of any GTIN or of one; an invalid code never gives a serial")
    func gs1() throws {
        let label = "]d2010429817350031110A1B2\u{1D}21SN-0042"
        #expect(try Self.serial("gs1:21", label) == "SN-0042")
        #expect(try Self.serial("gs1:21@04298173500311", label) == "SN-0042")
        #expect(try Self.serial("gs1:21@4298173500311", label) == "SN-0042")
        #expect(try Self.serial("gs1:21@09506000134352", label) == nil)
        #expect(try Self.serial("gs1:21", "]d2010429817350031210A1B2\u{1D}21SN-0042") == nil)  // bad check digit
        #expect(try Self.serial("gs1:21", "]d2010429817350031110A1B2") == nil)  // no serial
    }

    @Test("HIBC serial, of any labeler or of one")
    func hibc() throws {
        let code = "+E123PN4711A0/$$+526365SN9"
        let check = String(UnicodeScalar(HIBCCheck.character(of: code)))
        #expect(try Self.serial("hibc:serial", code + check) == "SN9")
        #expect(try Self.serial("hibc:serial@E123", code + check) == "SN9")
        #expect(try Self.serial("hibc:serial@F999", code + check) == nil)
    }

    @Test("a regular expression on the text: its first group, else the whole text")
    func regex() throws {
        #expect(try Self.serial("regex:SN-[0-9]{4}", "SN-0001") == "SN-0001")
        #expect(try Self.serial("regex:SN-([0-9]{4})", "]C0SN-0001") == "0001")
        #expect(try Self.serial("regex:SN-[0-9]{4}", "SN-0001-X") == nil)
        #expect(try Self.serial("regex:([0-9]{13})", "]E04298173500243") == "4298173500243")
        #expect(try Self.serial("regex:([0-9]{13})", "]E04298173500244") == nil)  // bad check digit
    }

    @Test("a pattern that cannot be read says what is allowed", arguments: ["gs1:10", "hibc:lot", "regex:(", "serial", "gs1:21@12AB", "ean:1"])
    func refused(pattern: String) {
        #expect(throws: SerialPatternError.self) { try SerialPattern(parsing: pattern) }
    }

    @Test("the text form reads back")
    func roundTrip() throws {
        for text in ["gs1:21", "gs1:21@09506000134352", "hibc:serial@E123", "regex:^A(.*)$"] {
            #expect(try SerialPattern(parsing: text).description == text)
        }
    }
}
