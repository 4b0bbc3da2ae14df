import FloorgateCore

/// Bytes a decoder skipped while resynchronising, gathered into one `error` event per contiguous
/// run (INTERFACES.md). The run's reason is that of its first part. A run longer than
/// ``maximumEventLength`` is emitted in pieces of exactly that length as it grows, so a stream
/// of garbage never grows memory.
struct SkippedRun: Sendable {
    /// The longest `raw_hex` one error event carries (INTERFACES.md).
    static let maximumEventLength = 4096

    /// How long a run may grow before it is cut into ``maximumEventLength`` pieces: that
    /// length, unless a decoder's frames are so long that one over-long frame (a 4096-byte scan
    /// and its terminator) should stay one event.
    let splitThreshold: Int
    private var bytes: [UInt8] = []
    private var reason: DecodeFailure?

    init(splitThreshold: Int = SkippedRun.maximumEventLength) {
        self.splitThreshold = max(splitThreshold, Self.maximumEventLength)
    }

    var isEmpty: Bool { bytes.isEmpty }

    /// Adds skipped bytes; `reason` counts only when the run is empty.
    mutating func append(
        _ skipped: some Collection<UInt8>,
        reason: DecodeFailure,
        into events: inout [DeviceEvent]
    ) {
        guard !skipped.isEmpty else { return }
        if bytes.isEmpty { self.reason = reason }
        bytes.append(contentsOf: skipped)
        emitFullPieces(into: &events)
    }

    /// Adds one skipped byte; `reason` counts only when the run is empty.
    mutating func append(_ byte: UInt8, reason: DecodeFailure, into events: inout [DeviceEvent]) {
        if bytes.isEmpty { self.reason = reason }
        bytes.append(byte)
        emitFullPieces(into: &events)
    }

    /// An idle gap or the end of input: the run so far, as events (``DeviceDecoder/flush()``).
    mutating func flushed() -> [DeviceEvent] {
        var events: [DeviceEvent] = []
        close(into: &events)
        return events
    }

    /// End of input (``DeviceDecoder/finish()``): the run so far, then `unfinished` — bytes still
    /// waiting for the rest of their frame — as one `incomplete frame at end of input` error.
    mutating func finished(leaving unfinished: [UInt8]) -> [DeviceEvent] {
        var events = flushed()
        if !unfinished.isEmpty {
            events.append(.error(.incompleteFrame, raw: RawBytes(unfinished)))
        }
        return events
    }

    /// Ends the run (a good frame or an idle gap follows): emits what it holds as one event.
    mutating func close(into events: inout [DeviceEvent]) {
        guard !bytes.isEmpty, let reason else { return }
        events.append(.error(reason, raw: RawBytes(bytes)))
        bytes.removeAll(keepingCapacity: true)
        self.reason = nil
    }

    private mutating func emitFullPieces(into events: inout [DeviceEvent]) {
        guard bytes.count > splitThreshold, let reason else { return }
        var start = 0
        while bytes.count - start > Self.maximumEventLength {
            events.append(.error(reason, raw: RawBytes(Array(bytes[start..<(start + Self.maximumEventLength)]))))
            start += Self.maximumEventLength
        }
        bytes.removeFirst(start)
    }
}
