public import FloorgateCore

/// Protocol `open-protocol`: the controller → integrator byte stream of Atlas Copco Open Protocol
/// (PROTOCOLS.md §4). MID 0061 and 0065 tightening results become `tightening` events, MID 0071
/// and 0076 alarms `status` events (`alarm`); session, keep-alive and every other message are
/// framed and consumed without an event. A result revision no specification defines is an
/// `unsupported revision` error covering the whole frame, so the stream stays in sync.
public struct OpenProtocolDecoder: DeviceDecoder {
    private var framer = OpenProtocolFramer()

    public init() {}

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [DeviceEvent] {
        framer.feed(bytes).compactMap(Self.event)
    }

    public mutating func flush() -> [DeviceEvent] {
        framer.flush().compactMap(Self.event)
    }

    public mutating func finish() -> [DeviceEvent] {
        framer.finish().compactMap(Self.event)
    }

    /// The event of one framer output, or nil for a silent message.
    static func event(_ output: OpenProtocolFramerOutput) -> DeviceEvent? {
        switch output {
        case .skipped(let reason, let raw):
            return .error(reason, raw: raw)
        case .frame(let frame):
            do {
                switch try OpenProtocolMessage(frame) {
                case .lastTighteningResult(let result), .oldTighteningResult(let result):
                    return .tightening(result, raw: frame.raw)
                case .alarm(let code):
                    return .status(DeviceStatus(state: .alarm, message: code), raw: frame.raw)
                case .communicationStart, .communicationStop, .resultSubscribe, .resultAcknowledge, .resultUnsubscribe,
                     .oldResultRequest, .communicationStartAcknowledge, .commandError, .commandAccepted, .keepAlive, .other:
                    return nil
                }
            } catch {
                return .error(error, raw: frame.raw)
            }
        }
    }
}
