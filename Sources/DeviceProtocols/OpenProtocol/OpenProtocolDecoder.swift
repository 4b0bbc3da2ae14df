public import FloorgateCore

/// Protocol `open-protocol`: the controller → integrator byte stream of Atlas Copco Open Protocol
/// (PROTOCOLS.md §4). MID 0061 and 0065 tightening results become `tightening` events, MID 0071
/// and 0076 alarms `status` events (`alarm`); session, keep-alive and every other message are
/// framed and consumed without an event. A result revision no specification defines is an
/// `unsupported revision` error covering the whole frame, so the stream stays in sync.
public struct OpenProtocolDecoder: DeviceDecoder {
    private var framer = OpenProtocolFramer()
    /// Skipped bytes and refused frames that touch each other form one error event (reason of the
    /// run's first part); it is held until a good or silent frame, an idle gap or the end, and
    /// cut into pieces of 4096 bytes as it grows, so noise never grows memory.
    private var run = SkippedRun()

    public init() {}

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [DeviceEvent] {
        events(from: framer.feed(bytes))
    }

    public mutating func flush() -> [DeviceEvent] {
        var events = events(from: framer.flush())
        closeRun(into: &events)
        return events
    }

    public mutating func finish() -> [DeviceEvent] {
        var events = events(from: framer.finish())
        closeRun(into: &events)
        return events
    }

    private mutating func events(from outputs: [OpenProtocolFramerOutput]) -> [DeviceEvent] {
        var events: [DeviceEvent] = []
        for output in outputs {
            switch output {
            case .skipped(.incompleteFrame, let raw):
                closeRun(into: &events)  // the final `incomplete` error always stands alone
                events.append(.error(.incompleteFrame, raw: raw))
            case .skipped(let reason, let raw):
                run.append(raw, reason: reason, into: &events)
            case .frame(let frame):
                switch Self.event(.frame(frame)) {
                case .error(let failure, let raw)?:
                    run.append(raw, reason: failure, into: &events)
                case let event?:
                    closeRun(into: &events)
                    events.append(event)
                case nil:
                    closeRun(into: &events)  // a silent frame ends a run too
                }
            }
        }
        return events
    }

    private mutating func closeRun(into events: inout [DeviceEvent]) {
        run.close(into: &events)
    }

    /// The event of one framer output, or nil for a silent message.
    static func event(_ output: OpenProtocolFramerOutput) -> DeviceEvent? {
        switch output {
        case .skipped(let reason, let raw):
            return .error(reason, raw: raw)
        case .frame(let frame):
            // Results and alarms are events; every other message (session, commands) is silent,
            // whatever its content.
            guard [61, 65, 71, 76].contains(frame.mid) else { return nil }
            do {
                switch try OpenProtocolMessage(frame) {
                case .lastTighteningResult(let result), .oldTighteningResult(let result):
                    return .tightening(result, raw: frame.raw)
                case .alarm(let code):
                    return .status(DeviceStatus(state: .alarm, message: code), raw: frame.raw)
                default:
                    return nil
                }
            } catch {
                return .error(error, raw: frame.raw)
            }
        }
    }
}
