import Testing
import FixtureSupport
import FloorgateCore

@Suite("JSONValue: the wire protocols' strict JSON reader", .timeLimit(.minutes(1)))
struct JSONParserTests {
    @Test("reads every kind of value, escapes and surrogate pairs included")
    func values() throws {
        let value = try JSONValue(parsing: Array(#"{"a":[1,-2,3.5,1e3,true,false,null],"s":"q\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","e":{}}"#.utf8))
        #expect(value["a"] == [1, -2, .number(3.5), .number(1000), true, false, .null])
        #expect(value["s"] == .string("q\"\\/\u{08}\u{0C}\n\r\té😀"))
        #expect(value["e"] == [:])
    }

    @Test("refuses what RFC 8259 refuses", arguments: [
        "", "{", "[1,]", "{\"a\"1}", "01", "-", "1.", "1e", "\"\u{01}\"", "\"\\x\"", "\"\\ud800\"", "tru", "{} x", "1e400", "-1e999", "\"a\\u0000b\"",
        "{\"a\":1,}", "[" + String(repeating: "[", count: 100) + String(repeating: "]", count: 101),
    ])
    func refusals(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: Array(text.utf8)) }
    }

    @Test("prints what it reads: text → value → text is stable")
    func roundTrip() throws {
        let text = #"{"b":[{"x":"é\n"},-9223372036854775808,9223372036854775807],"a":null}"#
        let value = try JSONValue(parsing: Array(text.utf8))
        #expect(try JSONValue(parsing: Array(value.text.utf8)) == value)
        #expect(value.text == #"{"a":null,"b":[{"x":"é\n"},-9223372036854775808,9223372036854775807]}"#)
    }

    @Test("random bytes give a value that prints and reads back the same, or a typed error; never a trap")
    func randomBytes() throws {
        var generator = SeededGenerator(seed: 0x150_0001)
        let alphabet = Array(#"{}[]",:-0123456789.eEtrufalsn \u"#.utf8) + [0xFF, 0xC3, 0x00]
        var parsed = 0
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 0...24, using: &generator)).map { _ in alphabet.randomElement(using: &generator) ?? 0 }
            let value: JSONValue
            do {
                value = try JSONValue(parsing: bytes)
            } catch {
                #expect((0...bytes.count).contains(error.position), "\(error) for \(bytes)")  // typed: JSONParseError
                continue
            }
            parsed += 1
            #expect(try JSONValue(parsing: Array(value.text.utf8)) == value, "\(bytes)")
        }
        #expect(parsed > 100, "the alphabet should make some valid documents; \(parsed) of 20000 parsed")
    }
}
