public import DeviceProtocols
public import NIOCore

/// A pure, chunk-by-chunk decoder of a byte stream, as a NIO channel handler needs it.
public protocol ByteStreamDecoder {
    associatedtype Output
    /// The outputs the next bytes complete.
    mutating func decode(_ bytes: UnsafeRawBufferPointer) -> [Output]
    /// End of input: what is left.
    mutating func decodeRemainder() -> [Output]
}

/// Adapts a ``ByteStreamDecoder`` to a SwiftNIO channel: bytes read from a transport go in, its
/// outputs come out as inbound messages. Wrap it in `ByteToMessageHandler`.
///
/// All readable bytes are handed to the decoder at once (the decoder keeps its own partial
/// frame), and when the channel closes the decoder's remainder (bytes still waiting for the
/// rest of their frame) is reported.
public struct ByteStreamHandler<Decoder: ByteStreamDecoder>: ByteToMessageDecoder {
    public typealias InboundOut = Decoder.Output

    private var decoder: Decoder

    public init(_ decoder: Decoder) {
        self.decoder = decoder
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard buffer.readableBytes > 0 else { return .needMoreData }
        let outputs = buffer.withUnsafeReadableBytes { decoder.decode($0) }
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        fire(outputs, context: context)
        return .needMoreData
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        _ = try decode(context: context, buffer: &buffer)
        fire(decoder.decodeRemainder(), context: context)
        return .needMoreData
    }

    private func fire(_ outputs: [Decoder.Output], context: ChannelHandlerContext) {
        for output in outputs {
            context.fireChannelRead(wrapInboundOut(output))
        }
    }
}

/// The Open Protocol framer emits frames and skipped runs for the client and the simulator.
extension OpenProtocolFramer: ByteStreamDecoder {
    public mutating func decode(_ bytes: UnsafeRawBufferPointer) -> [OpenProtocolFramerOutput] { feed(bytes) }
    public mutating func decodeRemainder() -> [OpenProtocolFramerOutput] { finish() }
}

/// An Open Protocol TCP stream on a channel: frames and skipped runs as inbound messages.
public typealias OpenProtocolFrameDecoder = ByteStreamHandler<OpenProtocolFramer>

extension ByteStreamHandler where Decoder == OpenProtocolFramer {
    public init() {
        self.init(OpenProtocolFramer())
    }
}
