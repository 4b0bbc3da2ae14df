public import DeviceProtocols
public import FloorgateCore
public import NIOCore
import Glibc
import Synchronization
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
            // Outside a read: tell consumers that batch per read that this batch is complete.
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

/// The end of a device's link: a terminal whose other end went away answers reads with EIO (a pty
/// master closed, a USB serial adapter unplugged). That is the device leaving, not a fault: the
/// channel is closed quietly, so the decoder still reports a frame cut short
/// (``DeviceStreamHandler`` does so on close). Any other read error closes the channel too, and
/// is kept as the reason the link ended.
final class LinkEndHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let failure = Mutex<String?>(nil)

    /// Why the link ended, when a read failed (nil: the device hung up or the channel was closed).
    var reason: String? { failure.withLock { $0 } }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? IOError, [EIO, ENODEV, ENXIO].contains(error.errnoCode) {
            context.close(promise: nil)
            return
        }
        failure.withLock { $0 = $0 ?? "read failed: \(error)" }
        context.close(promise: nil)
    }
}

/// A device's byte stream on a NIO channel: its decoder's events (with read times) go to the
/// consumer handler the caller puts at the end of the pipeline, on the event loop that read the
/// bytes; the bytes a poll command sends go out.
public struct DeviceChannel: Sendable {
    public let channel: any Channel
    private let end: LinkEndHandler

    /// Takes ownership of `descriptor` (a configured tty, a hidraw node, a USB interface's socket)
    /// and decodes what it reads with `decoder`, at most `readSize` bytes per read, handing each
    /// ``ReadEvent`` to the handler `consumer` makes (called once, on the channel's event loop).
    /// The descriptor is closed with the channel.
    public static func open(
        descriptor: Int32,
        decoder: any DeviceDecoder,
        readSize: Int = 64,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        consumer: @escaping @Sendable () -> any ChannelHandler
    ) async throws -> DeviceChannel {
        let end = LinkEndHandler()
        let channel = try await NIOPipeBootstrap(group: group)
            .channelOption(.allowRemoteHalfClosure, value: false)
            // Small reads: what a read takes from the kernel is what a crash before its commit can
            // lose. 64 bytes are several frames of any serial device, and 60 reads a second at
            // 38400 baud. (A hidraw node returns one report per read, whatever the size.)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: readSize))
            .takingOwnershipOfDescriptor(inputOutput: descriptor) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([end, DeviceStreamHandler(decoder: decoder), consumer()])
                    return channel
                }
            }
        return DeviceChannel(channel: channel, end: end)
    }

    /// Writes `bytes` to the device (a poll command).
    public func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// Closes the channel (and the descriptor); what the decoder holds is reported first.
    public func close() {
        channel.close(promise: nil)
    }

    /// Waits until the link ends (the device hung up, a read failed, or `close()`); returns why
    /// when a read failed, nil otherwise.
    public func ended() async -> String? {
        try? await channel.closeFuture.get()
        return end.reason
    }
}
