import FloorgateCore
import Gateway
import Logging
import Foundation
import Testing

@Suite("Device-supplied text reaches the terminal and the log escaped", .timeLimit(.minutes(1)))
struct TerminalTextTests {
    @Test("every C0, DEL and C1 control character is shown as \\x and two hex digits; other text is left alone")
    func escaping() {
        #expect(TerminalText.escaped("\u{1b}[2J\u{1b}[31mPASS") == #"\x1b[2J\x1b[31mPASS"#)
        #expect(TerminalText.escaped("SN-1\nSN-2\t\u{7f}\u{9b}") == #"SN-1\x0aSN-2\x09\x7f\x9b"#)
        #expect(TerminalText.escaped("Ø 12.5 µm · bore") == "Ø 12.5 µm · bore")
        #expect(TerminalText.escaped("") == "")
    }

    @Test("a scanned serial with an escape sequence is one plain line in the live view")
    func liveViewLine() {
        let line = StationEvent.unbound(source: "scanner-1", summary: "serial \u{1b}]0;owned\u{07}SN-1\r", reason: "no build").line
        #expect(line.contains(#"serial \x1b]0;owned\x07SN-1\x0d"#), "\(line)")
        #expect(!line.unicodeScalars.contains { $0.value < 0x20 }, "\(line)")
    }

    @Test("the log handler escapes the message and every metadata value before the line is written")
    func logHandler() throws {
        let file = try LogFile()
        let output = LogOutput(format: .json, environment: [:], lines: file.descriptor)
        var logger = Logger(label: "test") { FloorgateLogHandler(label: $0, output: output) }
        logger.logLevel = .info
        logger.info("scanned \u{1b}[8m", metadata: ["serial": "SN\u{1b}[2K", "codes": .array(["\u{9b}1m"]), "count": .stringConvertible(3)])
        let lines = try file.lines()
        #expect(lines.count == 1)
        let line = try JSONValue(parsing: Array((lines.first ?? "").utf8))
        #expect(line["message"] == .string(#"scanned \x1b[8m"#))
        #expect(line["metadata"]?["serial"] == .string(#"SN\x1b[2K"#))
        #expect(line["metadata"]?["codes"] == .string(#"["\x9b1m"]"#))
        #expect(line["metadata"]?["count"] == .string("3"))
    }
}
