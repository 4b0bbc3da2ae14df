import FloorgateCore
import PropertyBased
import Testing

@Suite("Exact decimals", .timeLimit(.minutes(1)))
struct ExactDecimalTests {
    @Test("device digits print as INTERFACES.md says", arguments: [
        ("+0012.340", "12.340"), ("-000.0019", "-0.0019"), ("+0000.000", "0.000"), ("+00001234", "1234"),
        ("-000.000", "-0.000"), (".5", "0.5"), ("7.", "7"), ("0", "0"), ("18446744073709551615", "18446744073709551615"),
        ("0.000000000000000000000001", "0.000000000000000000000001"),
    ])
    func canonicalPrinting(input: String, printed: String) throws {
        #expect(try ExactDecimal(parsing: input).description == printed)
    }

    @Test("bad text is refused with the reason", arguments: [
        ("", DecimalParseError.noDigits), ("+", .noDigits), (".", .noDigits), ("12.3.4", .unexpectedCharacter(offset: 4)),
        ("1e5", .unexpectedCharacter(offset: 1)), (" 1", .unexpectedCharacter(offset: 0)), ("+-1", .unexpectedCharacter(offset: 1)),
        ("18446744073709551616", .tooManyDigits), ("0.0000000000000000000000001", .tooManyDigits),
    ])
    func refusals(input: String, error: DecimalParseError) {
        #expect(throws: error) { try ExactDecimal(parsing: input) }
    }

    @Test("trailing zeros state resolution: equal in value, different in resolution")
    func scaleIsKept() throws {
        let fine = try ExactDecimal(parsing: "12.340")
        let coarse = try ExactDecimal(parsing: "12.34")
        #expect(fine != coarse)
        #expect(fine.isEqualInValue(to: coarse))
        #expect(fine.resolution.description == "0.001")
        #expect(coarse.resolution.description == "0.01")
        #expect(try ExactDecimal(parsing: "-0.000").isEqualInValue(to: .zero))
    }

    @Test("comparison is exact where binary floating point is not")
    func exactComparison() throws {
        // In Double, 0.1 + 0.2 > 0.3; the digits 0.30000000000000001 and 0.3 differ by 1e-17.
        let near = try ExactDecimal(parsing: "0.30000000000000001")
        let three = try ExactDecimal(parsing: "0.3")
        #expect(near.valueOrder(comparedTo: three) == .greater)
        #expect(Double("0.30000000000000001") == Double("0.3"))  // what a Double path would conclude
    }

    @Test("printing then parsing gives back the same digits, scale and sign")
    func printParseRoundTrip() async {
        await propertyCheck(
            count: 500,
            input: Gen.uint64(in: 0...UInt64.max), Gen.int(in: 0...ExactDecimal.maximumScale), Gen.bool
        ) { digits, scale, negative in
            // propertyCheck swallows thrown errors; make each one a recorded issue.
            #expect(throws: Never.self) {
                let value = try #require(ExactDecimal(digits: digits, scale: scale, isNegative: negative))
                let reparsed = try ExactDecimal(parsing: value.description)
                #expect(reparsed == value)
            }
        }
    }

    @Test("parsing a device's zero-padded digits keeps value and scale")
    func paddedDigitsParse() async {
        await propertyCheck(
            count: 500,
            input: Gen.uint32(in: 0...UInt32.max), Gen.int(in: 0...9), Gen.int(in: 0...6), Gen.bool
        ) { digits, padding, scale, negative in
            // propertyCheck swallows thrown errors; make each one a recorded issue.
            #expect(throws: Never.self) {
                var text = String(repeating: "0", count: padding) + String(digits)
                if scale > 0 {
                    while text.count <= scale { text = "0" + text }
                    text.insert(".", at: text.index(text.endIndex, offsetBy: -scale))
                }
                let value = try ExactDecimal(parsing: (negative ? "-" : "+") + text)
                #expect(value.digits == UInt64(digits))
                #expect(value.scale == scale)
                #expect(value.isNegative == negative)
            }
        }
    }
}
