import DeviceIO
import DeviceProtocols
import FloorgateCore
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@Suite("Decoder on a NIO channel")
struct DeviceDecoderHandlerTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func event(_ text: String, decoder: some DeviceDecoder) -> [DeviceEvent] {
        var decoder = decoder
        return decoder.feed(bytes(text)) + decoder.finish()
    }

    @Test("ByteToMessageDecoderVerifier: drip-fed, whole and batched input give the same events")
    func verifier() throws {
        let mitutoyo = LineDecoder(grammar: MitutoyoGrammar())
        let torque = LineDecoder(grammar: TorqueASCIIGrammar())
        let allocator = ByteBufferAllocator()
        let mitutoyoPairs = ["01A+0012.345\r\n", "02A-0000.500\n", "hello\r\n01A+0000.500\r\n", "01A+00X2.345\r\n01A+0001.000\n"].map {
            (allocator.buffer(string: $0), event($0, decoder: mitutoyo))
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: mitutoyoPairs) {
            DeviceDecoderHandler(decoder: LineDecoder(grammar: MitutoyoGrammar()))
        }
        let torquePairs = ["368.4 N.m\r\n", "-18.78 lbFin\r\n", "12.5 psi\r\n4.285 Nm\r\n"].map {
            (allocator.buffer(string: $0), event($0, decoder: torque))
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: torquePairs) {
            DeviceDecoderHandler(decoder: LineDecoder(grammar: TorqueASCIIGrammar()))
        }
        let digimaticFrame: [UInt8] = [0x0F, 0x0F, 0x0F, 0x0F, 0x00, 0x02, 0x01, 0x00, 0x07, 0x06, 0x05, 0x04, 0x00]
        var digimatic = DigimaticDecoder()
        let digimaticEvents = digimatic.feed(digimaticFrame)
        #expect(digimaticEvents.count == 1)
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: [(allocator.buffer(bytes: digimaticFrame), digimaticEvents)]) {
            DeviceDecoderHandler(decoder: DigimaticDecoder())
        }
    }

    @Test("closing the channel reports a frame still waiting for its end")
    func closeFinishesDecoder() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(DeviceDecoderHandler(decoder: LineDecoder(grammar: SylvacGrammar()))))
        try channel.writeInbound(channel.allocator.buffer(string: "+012.34\r"))
        #expect(try channel.readInbound(as: DeviceEvent.self) == nil)  // CR held: LF may follow
        try channel.writeInbound(channel.allocator.buffer(string: "+001.5"))
        let first = try channel.readInbound(as: DeviceEvent.self)
        #expect(first?.jsonLine == #"{"event":"reading","value":"12.34","unit":null,"raw_hex":"2b3031322e33340d"}"#)
        _ = try channel.finish()
        let last = try channel.readInbound(as: DeviceEvent.self)
        #expect(last == .error(.incompleteFrame, raw: RawBytes(Array("+001.5".utf8))))
    }
}
