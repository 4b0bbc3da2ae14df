import NIOCore
import NIOEmbedded
import NIOTestUtils
import RecordProtocol
import Testing

@Suite("The record socket's line framing", .timeLimit(.minutes(1)))
struct RecordLineDecoderTests {
    private static func line(_ text: String) -> RecordLine { .line(ByteBuffer(string: text)) }

    @Test("lines split at \\n whatever the chunking; a trailing \\r is dropped; blank lines pass as empty lines")
    func framing() throws {
        try ByteToMessageDecoderVerifier.verifyDecoder(
            stringInputOutputPairs: [
                ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"record.info\"}\n", [Self.line("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"record.info\"}")]),
                ("[1,2]\r\n", [Self.line("[1,2]")]),
                ("\n", [Self.line("")]),
                ("a\nb\n", [Self.line("a"), Self.line("b")]),
                ("\u{FF}\u{FE}\n", [Self.line("\u{FF}\u{FE}")]),
            ],
            decoderFactory: { RecordLineDecoder(maximumLength: 64) })
    }

    @Test("a line longer than the limit is reported once and skipped up to its newline, however it arrives; the limit itself passes")
    func oversizedLines() throws {
        try ByteToMessageDecoderVerifier.verifyDecoder(
            stringInputOutputPairs: [
                ("12345678\n", [Self.line("12345678")]),
                ("123456789\n", [.oversized]),
                ("1234567\r\n", [Self.line("1234567")]),
                ("12345678\r\n", [.oversized]),
                (String(repeating: "x", count: 100) + "\nok\n", [.oversized, Self.line("ok")]),
            ],
            decoderFactory: { RecordLineDecoder(maximumLength: 8) })
    }

    @Test("the last line before the end of the stream is passed on without its newline")
    func lastLineWithoutNewline() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(RecordLineDecoder(maximumLength: 64)))
        try channel.writeInbound(ByteBuffer(string: "first\nlast"))
        #expect(try channel.readInbound(as: RecordLine.self) == Self.line("first"))
        #expect(try channel.readInbound(as: RecordLine.self) == nil)
        _ = try channel.finish()
        #expect(try channel.readInbound(as: RecordLine.self) == Self.line("last"))
    }
}
