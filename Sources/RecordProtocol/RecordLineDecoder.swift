public import NIOCore

/// One line of the socket, or the news that a line was too long and was skipped.
public enum RecordLine: Sendable, Equatable {
    case line(ByteBuffer)
    case oversized
}

/// Splits the stream at `\n` (a trailing `\r` is dropped). A line longer than `maximumLength`
/// is discarded up to its newline and reported once, so the connection carries on. Both ends
/// of the record socket read with it: the server its requests, the client its answers.
public struct RecordLineDecoder: ByteToMessageDecoder {
    public typealias InboundOut = RecordLine

    /// The longest line passed on, in bytes (its newline not counted; a trailing `\r` counts).
    public let maximumLength: Int
    private var discarding = false
    /// How far the current buffer was already searched for a newline.
    private var searched = 0

    public init(maximumLength: Int) {
        self.maximumLength = maximumLength
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        if let newline = view[(view.startIndex + searched)...].firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - view.startIndex
            searched = 0
            if discarding || length > maximumLength {
                buffer.moveReaderIndex(forwardBy: length + 1)
                if !discarding { context.fireChannelRead(wrapInboundOut(.oversized)) }
                discarding = false
                return .continue
            }
            var line = buffer.readSlice(length: length) ?? ByteBuffer()
            buffer.moveReaderIndex(forwardBy: 1)
            if line.readableBytesView.last == UInt8(ascii: "\r") { line.moveWriterIndex(to: line.writerIndex - 1) }
            context.fireChannelRead(wrapInboundOut(.line(line)))
            return .continue
        }
        if buffer.readableBytes > maximumLength {
            if !discarding { context.fireChannelRead(wrapInboundOut(.oversized)) }
            discarding = true
            buffer.moveReaderIndex(to: buffer.writerIndex)
            searched = 0
        } else {
            searched = buffer.readableBytes
        }
        return .needMoreData
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // A last request without its newline still gets an answer.
        if !discarding, buffer.readableBytes > 0, let line = buffer.readSlice(length: buffer.readableBytes) {
            context.fireChannelRead(wrapInboundOut(.line(line)))
        }
        return .needMoreData
    }
}
