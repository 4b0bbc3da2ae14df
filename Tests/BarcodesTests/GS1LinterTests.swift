import Barcodes
import FloorgateCore
import Testing

@Suite("GS1 linters", .timeLimit(.minutes(1)))
struct GS1LinterTests {
    /// A passing and a failing component for every linter the dictionary names.
    static let cases: [(linter: GS1Linter, passing: String, failing: String)] = [
        (.couponcode, "012345612345611110123", "0123456123456111101230"),
        (.couponcode, "0123456123456111101233250101", "01234561234561111012332501014260101"),
        (.couponposoffer, "001234561234560123456", "201234561234560123456"),
        (.csum, "09506000134352", "09506000134353"),
        (.csumalpha, "1987654Ad4X4bL5ttr2310c2K", "1987654Ad4X4bL5ttr2310c2L"),
        (.csumalpha, "00000!HV", "00000!HW"),
        (.gcppos1, "0123ABC", "012A5"),
        (.gcppos2, "10123", "1012A"),
        (.hasnondigit, "12A", "123"),
        (.hh, "23", "24"),
        (.hhmi, "2359", "2360"),
        (.hyphen, "-", "X"),
        (.iban, "GB82WEST12345698765432", "GB83WEST12345698765432"),
        (.importeridx, "_", "#"),
        (.iso3166, "276", "999"),
        (.iso3166999, "999", "998"),
        (.iso3166alpha2, "DE", "UK"),
        (.iso4217, "978", "000"),
        (.iso5218, "9", "3"),
        (.latitude, "1800000000", "1800000001"),
        (.longitude, "3600000000", "3600000001"),
        (.mediatype, "80", "11"),
        (.mi, "59", "60"),
        (.nonzero, "0009", "0000"),
        (.nozeroprefix, "10", "01"),
        (.packagetype, "BX", "bx"),
        (.pcenc, "ABC%20XYZ", "ABC%2"),
        (.pieceoftotal, "0103", "0301"),
        (.posinseqslash, "1/3", "3/1"),
        (.ss, "59", "60"),
        (.winding, "9", "2"),
        (.yesno, "1", "2"),
        (.yymmd0, "240229", "250229"),
        (.yymmd0, "250100", "251301"),
        (.yymmdd, "250101", "250100"),
        (.yyyymmdd, "20000229", "21000229"),
        (.zero, "0", "1"),
    ]

    @Test("every linter has a passing and a failing case here")
    func everyLinterIsCovered() {
        let covered = Set(Self.cases.map(\.linter))
        #expect(covered == Set(GS1Linter.allCases), "untested: \(Set(GS1Linter.allCases).subtracting(covered))")
    }

    @Test("each linter accepts its passing and refuses its failing input", arguments: cases.indices)
    func linter(index: Int) {
        let (linter, passing, failing) = Self.cases[index]
        #expect(linter.failure(Array(passing.utf8)[...]) == nil, "\(linter) refused \(passing)")
        #expect(linter.failure(Array(failing.utf8)[...]) != nil, "\(linter) accepted \(failing)")
    }
}

@Suite("GS1 element strings", .timeLimit(.minutes(1)))
struct GS1ElementStringTests {
    static func parse(_ text: String) -> GS1Message {
        GS1ElementStrings.parse(Array(text.utf8))
    }

    @Test("the dictionary is the generated one, names its source and finds AIs by prefix")
    func dictionary() throws {
        #expect(GS1Dictionary.entryCount == 541, "a line of the generated table does not read")
        #expect(GS1Dictionary.sourceVersion.contains("ff2eb4b"))
        #expect(GS1Dictionary.definition(of: "01")?.title == "GTIN")
        #expect(GS1Dictionary.definition(of: "3103")?.unit == "kg")
        #expect(GS1Dictionary.definition(of: "8912") == nil)
        #expect(GS1Dictionary.definition(of: "7003")?.hasPredefinedLength == false)
    }

    @Test("decimal-position AIs give exact decimals with their unit")
    func measures() throws {
        let price = Self.parse("010429817350024331030012503922012345")
        #expect(price.isValid, "\(price.errors)")
        #expect(price.elements[1].measure?.value.description == "1.250" && price.elements[1].measure?.unit == "kg")
        #expect(price.elements[2].measure?.value.description == "123.45" && price.elements[2].measure?.unit == nil)
        let foreignPrice = Self.parse("01042981735002433103001250\u{1D}3932978000995")
        #expect(foreignPrice.isValid, "\(foreignPrice.errors)")
        #expect(foreignPrice.elements[2].measure?.value.description == "9.95" && foreignPrice.elements[2].measure?.unit == "978")
    }

    @Test("optional components: 7007 takes 6 or 12 digits, nothing between")
    func optionalComponents() {
        #expect(Self.parse("0104298173500243\u{1D}7007250101").isValid)
        #expect(Self.parse("01042981735002437007250101250131").isValid)
        #expect(Self.parse("0104298173500243700725010125").errors == ["AI 7007: value length 8 leaves a part incomplete"])
        #expect(Self.parse("00342981735000000121\u{1D}4330012345-").isValid)
        #expect(Self.parse("003429817350000001214330012345+").errors == ["AI 4330: must be '-'"])
    }

    @Test("a separator after a predefined-length value and one at the very end are harmless")
    func harmlessSeparators() {
        #expect(Self.parse("0104298173500243\u{1D}10A1\u{1D}").isValid)
    }

    @Test("base64url padding is allowed only at the end, up to two, the whole a multiple of 3")
    func base64Padding() {
        let digitalSignature = "00342981735000000121\u{1D}8030"
        #expect(Self.parse(digitalSignature + "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_1=").isValid)
        #expect(Self.parse(digitalSignature + "AB=C").errors == ["AI 8030: character '=' not allowed"])
    }

    @Test("an exclusion pattern matches a whole AI family but never the AI itself")
    func patterns() {
        #expect(Self.parse("01042981735002433103001250\u{1D}3103001250").isValid)
        #expect(Self.parse("010429817350024331030012503102000125").errors == ["AI 3103 and AI 3102 cannot appear together"])
    }
}
