public import DeviceProtocols
public import FloorgateCore
public import NIOCore
import Glibc
public import NIOPosix

/// A device event with the moment its last byte was read.
public struct ReadEvent: Sendable, Hashable {
    public var event: DeviceEvent
    /// `CLOCK_MONOTONIC` in nanoseconds when the bytes that completed the event were read.
    public var readAt: UInt64

    public init(event: DeviceEvent, readAt: UInt64) {
        self.event = event
        self.readAt = readAt
    }
}

/// The monotonic clock, in nanoseconds, as the outbox records read and commit times, so any
/// harness on the same machine can measure a reading's latency from outside the process.
public enum MonotonicClock {
    public static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}

/// Stamps each decoded event with the time it came off the device. Events are decoded in the
/// same call that read their bytes, so the stamp is the read time of their last byte.
final class ReadTimeStamper: ChannelInboundHandler, Sendable {
    typealias InboundIn = DeviceEvent
    typealias InboundOut = ReadEvent

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let event = unwrapInboundIn(data)
        context.fireChannelRead(wrapInboundOut(ReadEvent(event: event, readAt: MonotonicClock.nanoseconds())))
    }
}

/// A terminal whose other end went away answers reads with EIO (a pty master closed, a USB
/// serial adapter unplugged). That is the device leaving, not a fault: close the channel
/// quietly, so the decoder still reports a frame cut short (``ByteStreamHandler`` does so on
/// close) before the event stream ends.
final class HangUpHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? IOError, [EIO, ENODEV, ENXIO].contains(error.errnoCode) {
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }
}

/// A device's byte stream on a NIO channel: its decoder's events (with read times) in, the
/// bytes a poll command sends out.
public typealias DeviceChannel = NIOAsyncChannel<ReadEvent, ByteBuffer>

extension DeviceChannel {
    /// Takes ownership of `descriptor` (a configured tty or a hidraw node) and decodes what it
    /// reads with `decoder`. The descriptor is closed with the channel.
    public static func open(
        descriptor: Int32,
        decoder: any DeviceDecoder,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> DeviceChannel {
        try await NIOPipeBootstrap(group: group)
            .channelOption(.allowRemoteHalfClosure, value: false)
            .takingOwnershipOfDescriptor(inputOutput: descriptor) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        HangUpHandler(),
                        ByteToMessageHandler(DeviceDecoderHandler(decoder: decoder)),
                        ReadTimeStamper(),
                    ])
                    return try DeviceChannel(wrappingChannelSynchronously: channel)
                }
            }
    }
}
