public import DeviceIO
import FloorgateCore
public import NIOCore
import Synchronization

/// Keeps every event a device channel decoded, as the last handler of its pipeline, for tests
/// that look at what a real pseudo-terminal delivered.
public final class ReadEventRecorder: Sendable {
    private let events = Mutex<[ReadEvent]>([])

    public init() {}

    /// Everything recorded so far, in order.
    public var all: [ReadEvent] { events.withLock { $0 } }

    /// The values of the readings recorded so far.
    public var readings: [String] {
        all.compactMap { if case .reading(let reading, _) = $0.event { reading.value.description } else { nil } }
    }

    /// A handler for one channel, recording into this recorder.
    public func handler() -> any ChannelHandler { Handler(recorder: self) }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ReadEvent
        let recorder: ReadEventRecorder

        init(recorder: ReadEventRecorder) { self.recorder = recorder }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let event = unwrapInboundIn(data)
            recorder.events.withLock { $0.append(event) }
        }
    }
}
