public import FloorgateCore

/// A pure, synchronous decoder of one device protocol: bytes in, ``DeviceEvent``s out.
///
/// A decoder owns framing, resynchronisation after garbage or a torn frame, and field parsing.
/// It never does I/O, never allocates per byte and never traps on any input. Its events depend
/// only on the byte sequence, never on how the bytes were split into reads, and every byte it is
/// fed ends up in exactly one event's raw bytes (bytes still waiting for the rest of their frame
/// when input ends become a final `incomplete frame at end of input` error).
public protocol DeviceDecoder: Sendable {
    /// Takes the next bytes read from the device and returns the events they complete. A frame's
    /// event comes from the call that delivers its last byte, or from the next call (or
    /// ``flush()``) where the protocol needs one more byte to know the frame has ended.
    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [DeviceEvent]

    /// Called after an idle gap on the line (the gateway uses 50 ms): emits a frame that is
    /// complete but held to see one more byte (a CR that might be followed by LF) and any skipped
    /// bytes held to join a longer run. Never declares a partial frame incomplete.
    mutating func flush() -> [DeviceEvent]

    /// End of input: flushes, then reports bytes still waiting for the rest of their frame as
    /// `incomplete frame at end of input`. The decoder starts afresh afterwards.
    mutating func finish() -> [DeviceEvent]
}

extension DeviceDecoder {
    /// Feeds bytes held in an array (or any contiguous byte collection).
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [DeviceEvent] {
        if let events = bytes.withContiguousStorageIfAvailable({ buffer in
            feed(UnsafeRawBufferPointer(buffer))
        }) {
            return events
        }
        let copy = Array(bytes)
        return copy.withUnsafeBytes { feed($0) }
    }
}
