import DeviceIO
import DeviceProtocols
import FloorgateCore
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@Suite("Decoder on a NIO channel", .timeLimit(.minutes(1)))
struct DeviceStreamHandlerTests {
    /// A clock the test sets: the handler's read times become checkable.
    final class TestClock: Sendable {
        let now = Mutex<UInt64>(0)
        func callAsFunction() -> UInt64 { now.withLock { $0 } }
    }

    private func events(_ channel: EmbeddedChannel) throws -> [ReadEvent] {
        var events: [ReadEvent] = []
        while let event = try channel.readInbound(as: ReadEvent.self) { events.append(event) }
        return events
    }

    private func reference(_ text: String, decoder: some DeviceDecoder) -> [DeviceEvent] {
        var decoder = decoder
        return decoder.feed(Array(text.utf8)) + decoder.finish()
    }

    @Test("whole, drip-fed and batched input give the decoder's events, each stamped with its read",
          arguments: ["01A+0012.345\r\n", "hello\r\n01A+0000.500\r\n", "01A+00X2.345\r\n01A+0001.000\n02A-0000.500"])
    func chunking(text: String) throws {
        let expected = reference(text, decoder: LineDecoder(grammar: MitutoyoGrammar()))
        for size in [1, 3, text.utf8.count] {
            let clock = TestClock()
            let channel = EmbeddedChannel(handler: DeviceStreamHandler(decoder: LineDecoder(grammar: MitutoyoGrammar()), clock: { clock() }))
            var stamped: [ReadEvent] = []
            let bytes = Array(text.utf8)
            for (index, start) in stride(from: 0, to: bytes.count, by: size).enumerated() {
                clock.now.withLock { $0 = UInt64(index + 1) }
                try channel.writeInbound(channel.allocator.buffer(bytes: bytes[start..<min(start + size, bytes.count)]))
                stamped += try events(channel)
            }
            _ = try channel.finish()
            stamped += try events(channel)
            #expect(stamped.map(\.event) == expected, "reads of \(size)")
            // A reading's stamp is the read that brought its last byte (or the one after, for a
            // held CR); skipped bytes are held to join a longer run, so only readings are checked.
            var position = 0
            for event in stamped {
                position += event.event.raw.count
                guard event.event.name == "reading" else { continue }
                let lastRead = UInt64((position - 1) / size + 1)
                #expect(event.readAt == lastRead || event.readAt == lastRead + 1, "reads of \(size): \(event.event.jsonLine)")
            }
        }
    }

    @Test("an idle gap flushes a frame held to see one more byte, stamped with its own read")
    func idleFlush() throws {
        let clock = TestClock()
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(handler: DeviceStreamHandler(decoder: LineDecoder(grammar: SylvacGrammar()), clock: { clock() }), loop: loop)
        clock.now.withLock { $0 = 7 }
        try channel.writeInbound(channel.allocator.buffer(string: "+012.34\r"))
        #expect(try events(channel).isEmpty)  // CR held: LF may follow
        loop.advanceTime(by: .milliseconds(49))
        #expect(try events(channel).isEmpty)
        clock.now.withLock { $0 = 99 }
        loop.advanceTime(by: .milliseconds(1))
        let flushed = try events(channel)
        #expect(flushed.map(\.event.jsonLine) == [#"{"event":"reading","value":"12.34","unit":null,"raw_hex":"2b3031322e33340d"}"#])
        #expect(flushed.first?.readAt == 7)
    }

    @Test("closing the channel reports a frame still waiting for its end")
    func closeFinishesDecoder() throws {
        let channel = EmbeddedChannel(handler: DeviceStreamHandler(decoder: LineDecoder(grammar: SylvacGrammar(), lineEnding: .cr)))
        try channel.writeInbound(channel.allocator.buffer(string: "+012.34\r+001.5"))
        #expect(try events(channel).map(\.event.name) == ["reading"])
        _ = try channel.finish()
        #expect(try events(channel).map(\.event) == [.error(.incompleteFrame, raw: RawBytes(Array("+001.5".utf8)))])
    }
}
