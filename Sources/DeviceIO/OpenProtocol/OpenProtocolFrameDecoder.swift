public import DeviceProtocols
public import NIOCore

/// Frames an Open Protocol TCP stream on a NIO channel: emits each frame, and each run of skipped
/// bytes, as an inbound ``OpenProtocolFramerOutput``. Wrap it in `ByteToMessageHandler`.
public struct OpenProtocolFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = OpenProtocolFramerOutput

    private var framer = OpenProtocolFramer()

    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard buffer.readableBytes > 0 else { return .needMoreData }
        let outputs = buffer.withUnsafeReadableBytes { framer.feed($0) }
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        for output in outputs {
            context.fireChannelRead(wrapInboundOut(output))
        }
        return .needMoreData
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        _ = try decode(context: context, buffer: &buffer)
        for output in framer.finish() {
            context.fireChannelRead(wrapInboundOut(output))
        }
        return .needMoreData
    }
}
