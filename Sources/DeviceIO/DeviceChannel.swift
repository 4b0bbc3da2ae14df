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

/// A device's decoder on a channel: bytes read in, ``ReadEvent``s out.
///
/// Each event is stamped with the time the read that completed it returned. After an idle gap
/// (`idleGap`, 50 ms by default) with no bytes the decoder is flushed, so a frame held to see one
/// more byte (a CR that an LF might follow) is delivered, stamped with its last read's time.
/// When the channel closes the decoder is finished: a frame cut short is reported as
/// `incomplete frame at end of input`, never glued to what the device sends next.
public final class DeviceStreamHandler: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ReadEvent

    private var decoder: any DeviceDecoder
    private let idleGap: TimeAmount
    private var idleFlush: Scheduled<Void>?
    private var lastRead: UInt64 = 0
    private let clock: @Sendable () -> UInt64

    public init(decoder: any DeviceDecoder, idleGap: TimeAmount = .milliseconds(50), clock: @escaping @Sendable () -> UInt64 = MonotonicClock.nanoseconds) {
        self.decoder = decoder
        self.idleGap = idleGap
        self.clock = clock
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        idleFlush?.cancel()
        let buffer = unwrapInboundIn(data)
        lastRead = clock()
        let events = buffer.withUnsafeReadableBytes { decoder.feed($0) }
        fire(events, context: context)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        idleFlush = context.eventLoop.scheduleTask(in: idleGap) {
            let (handler, context) = loopBound.value
            let events = handler.decoder.flush()
            handler.fire(events, context: context)
            // Outside a read: consumers (NIOAsyncChannel) hand reads on at read-complete.
            if !events.isEmpty { context.fireChannelReadComplete() }
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        idleFlush?.cancel()
        let events = decoder.finish()
        fire(events, context: context)
        if !events.isEmpty { context.fireChannelReadComplete() }
        context.fireChannelInactive()
    }

    private func fire(_ events: [DeviceEvent], context: ChannelHandlerContext) {
        for event in events {
            context.fireChannelRead(wrapInboundOut(ReadEvent(event: event, readAt: lastRead)))
        }
    }
}

/// A terminal whose other end went away answers reads with EIO (a pty master closed, a USB
/// serial adapter unplugged). That is the device leaving, not a fault: close the channel
/// quietly, so the decoder still reports a frame cut short (``DeviceStreamHandler`` does so on
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
    /// reads with `decoder`, at most `readSize` bytes per read. The descriptor is closed with
    /// the channel.
    public static func open(
        descriptor: Int32,
        decoder: any DeviceDecoder,
        readSize: Int = 64,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> DeviceChannel {
        try await NIOPipeBootstrap(group: group)
            .channelOption(.allowRemoteHalfClosure, value: false)
            // Small reads: what a read takes from the kernel is what a crash before its commit can
            // lose. 64 bytes are several frames of any serial device, and 60 reads a second at
            // 38400 baud. (A hidraw node returns one report per read, whatever the size.)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: readSize))
            .takingOwnershipOfDescriptor(inputOutput: descriptor) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([HangUpHandler(), DeviceStreamHandler(decoder: decoder)])
                    // Read ahead of the consumer by at most a couple of events: what is read but
                    // not yet committed is what a crash can lose, so the kernel keeps the rest.
                    let configuration = DeviceChannel.Configuration(backPressureStrategy: .init(lowWatermark: 1, highWatermark: 2))
                    return try DeviceChannel(wrappingChannelSynchronously: channel, configuration: configuration)
                }
            }
    }
}
