public import DeviceProtocols
public import FloorgateCore
public import NIOCore

/// Adapts a pure ``DeviceDecoder`` to a SwiftNIO channel: bytes read from a transport go in,
/// ``DeviceEvent``s come out as inbound messages. Wrap it in `ByteToMessageHandler`.
///
/// All readable bytes are handed to the decoder at once (the decoder keeps its own partial
/// frame), and when the channel closes the decoder's `finish()` reports bytes still waiting for
/// the rest of their frame.
public struct DeviceDecoderHandler: ByteToMessageDecoder {
    public typealias InboundOut = DeviceEvent

    private var decoder: any DeviceDecoder

    public init(decoder: any DeviceDecoder) {
        self.decoder = decoder
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard buffer.readableBytes > 0 else { return .needMoreData }
        let events = buffer.withUnsafeReadableBytes { decoder.feed($0) }
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        fire(events, context: context)
        return .needMoreData
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        _ = try decode(context: context, buffer: &buffer)
        fire(decoder.finish(), context: context)
        return .needMoreData
    }

    private func fire(_ events: [DeviceEvent], context: ChannelHandlerContext) {
        for event in events {
            context.fireChannelRead(wrapInboundOut(event))
        }
    }
}
