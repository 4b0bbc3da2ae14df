import DeviceIO
import FloorgateCore
import Logging
import NIOCore

/// The end of a device's channel, on the event loop that read its bytes: each decoded event is
/// normalized and queued in the outbox there and then, with no task or actor between the read
/// and the queue. The channel reads on while fewer than the gate's depth of the device's results
/// wait for their commit, and waits (the kernel keeps the bytes) once that many do.
final class DeviceReadingHandler: ChannelDuplexHandler {
    typealias InboundIn = ReadEvent
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let normalizer: Normalizer
    private let outbox: Outbox
    private let gate: CommitGate
    private let logger: Logger
    /// Reads again on this channel's loop: what the gate calls once commits catch up. Made once,
    /// not on every read.
    private var resumeReading: (@Sendable () -> Void)?
    /// What the log says of skipped bytes: a line now and then, not one per run.
    private var skippedReport = SkippedBytesReport()

    init(normalizer: Normalizer, outbox: Outbox, gate: CommitGate, logger: Logger) {
        self.normalizer = normalizer
        self.outbox = outbox
        self.gate = gate
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let item = normalizer.item(for: unwrapInboundIn(data)) else { return }
        if item.state == .skipped, let line = skippedReport.note(item.raw) {
            logger.warning("bytes that are no \(normalizer.profileName) result, kept in the outbox as skipped: \(line)")
        }
        outbox.submit(item, through: gate, from: context.eventLoop)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let held = NIOLoopBound(context, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        resumeReading = { eventLoop.execute { held.value.read() } }
    }

    func read(context: ChannelHandlerContext) {
        if let resumeReading, !gate.mayRead(orResume: resumeReading) { return }  // held until commits catch up
        context.read()
    }
}
