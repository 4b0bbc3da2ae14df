public import FloorgateCore

/// What the framer makes of the bytes: whole frames and runs of skipped bytes, in input order.
public enum OpenProtocolFramerOutput: Sendable, Hashable {
    case frame(OpenProtocolFrame)
    case skipped(DecodeFailure, raw: RawBytes)
}

/// Frames an Open Protocol byte stream (PROTOCOLS.md §4.2, fixtures/README.md `open-protocol`).
///
/// A header candidate is 8 ASCII digits (length L in 20…9999, MID) whose other 12 header bytes
/// have the header's shape and whose NUL stands at offset L (frame L+1 bytes) or, failing that, at
/// L−1 (the sender counted the NUL). A candidate that fails costs one byte (`malformed frame`) and
/// scanning resumes at the next byte, so a torn frame followed by a whole one loses only the torn
/// bytes; bytes that start no candidate are `unexpected bytes`. Every byte fed is in exactly one
/// output (or still pending at `finish()`, then `incomplete frame at end of input`).
public struct OpenProtocolFramer: Sendable {
    /// Bytes not yet decided, starting at the first byte that belongs to no output yet.
    private var pending: [UInt8] = []
    private var skipped = SkippedRun()

    public init() {}

    /// Frames what the new bytes complete.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [OpenProtocolFramerOutput] {
        pending.append(contentsOf: bytes)
        var outputs: [OpenProtocolFramerOutput] = []
        resolve(atEndOfInput: false, into: &outputs)
        return outputs
    }

    /// An idle gap: ends the current run of skipped bytes. A candidate still waiting stays.
    public mutating func flush() -> [OpenProtocolFramerOutput] {
        var outputs: [OpenProtocolFramerOutput] = []
        closeSkipped(into: &outputs)
        return outputs
    }

    /// End of input: a candidate that needed more bytes is a framing failure when a whole frame
    /// starts after it, else it and what follows are `incomplete frame at end of input`.
    public mutating func finish() -> [OpenProtocolFramerOutput] {
        var outputs: [OpenProtocolFramerOutput] = []
        resolve(atEndOfInput: true, into: &outputs)
        closeSkipped(into: &outputs)
        if !pending.isEmpty {
            outputs.append(.skipped(.incompleteFrame, raw: RawBytes(pending)))
            pending.removeAll(keepingCapacity: true)
        }
        return outputs
    }

    enum Candidate: Equatable {
        /// No header can start at this byte.
        case none
        /// A header starts here but fails its shape or its NUL.
        case failed
        /// The bytes so far fit; more are needed to decide.
        case needsMoreBytes
        /// A whole frame of this many bytes.
        case frame(length: Int)
    }

    private mutating func resolve(atEndOfInput: Bool, into outputs: inout [OpenProtocolFramerOutput]) {
        var start = 0
        defer { pending.removeFirst(start) }
        while start < pending.count {
            let judgement = pending.withUnsafeBytes { buffer in
                Self.judge(UnsafeRawBufferPointer(rebasing: buffer[start...]), atEndOfInput: atEndOfInput)
            }
            switch judgement {
            case .frame(let length):
                closeSkipped(into: &outputs)
                let raw = RawBytes(Array(pending[start..<(start + length)]))
                outputs.append(.frame(Self.frame(raw)))
                start += length
            case .none:
                skip(pending[start], reason: .unexpectedBytes, into: &outputs)
                start += 1
            case .failed:
                skip(pending[start], reason: .malformedFrame, into: &outputs)
                start += 1
            case .needsMoreBytes:
                guard atEndOfInput, wholeFrameFollows(after: start) else { return }
                skip(pending[start], reason: .malformedFrame, into: &outputs)
                start += 1
            }
        }
    }

    /// Whether a candidate that validates completely starts after `start` in the pending bytes.
    private func wholeFrameFollows(after start: Int) -> Bool {
        pending.withUnsafeBytes { buffer in
            (start + 1..<buffer.count).contains { position in
                if case .frame = Self.judge(UnsafeRawBufferPointer(rebasing: buffer[position...]), atEndOfInput: true) {
                    return true
                }
                return false
            }
        }
    }

    private mutating func skip(_ byte: UInt8, reason: DecodeFailure, into outputs: inout [OpenProtocolFramerOutput]) {
        var events: [DeviceEvent] = []
        skipped.append(byte, reason: reason, into: &events)
        outputs += events.map(Self.skippedOutput)
    }

    private mutating func closeSkipped(into outputs: inout [OpenProtocolFramerOutput]) {
        var events: [DeviceEvent] = []
        skipped.close(into: &events)
        outputs += events.map(Self.skippedOutput)
    }

    /// What the bytes at the start of `window` are, judged on those that have arrived.
    static func judge(_ window: UnsafeRawBufferPointer, atEndOfInput: Bool) -> Candidate {
        let available = window.count
        for offset in 0..<min(8, available) where !ASCII.isDigit(window[offset]) {
            return .none
        }
        guard available >= 4 else { return .needsMoreBytes }
        let length = OpenProtocolHeader.number(window[0..<4])
        guard length >= OpenProtocolHeader.length else { return .none }
        guard available >= 8 else { return .needsMoreBytes }
        for offset in 8..<min(OpenProtocolHeader.length, available)
        where !OpenProtocolHeader.isValidShapeByte(window[offset], at: offset) {
            return .failed
        }
        if available >= 11 && OpenProtocolHeader.revision(window[8..<11]) == nil {
            return .failed  // digits and spaces, but not a number padded with spaces ("0 3")
        }
        if available > length {
            if window[length] == 0 { return .frame(length: length + 1) }
            return window[length - 1] == 0 ? .frame(length: length) : .failed
        }
        if atEndOfInput && available == length && window[length - 1] == 0 {
            return .frame(length: length)
        }
        return .needsMoreBytes
    }

    static func frame(_ raw: RawBytes) -> OpenProtocolFrame {
        let header = raw.prefix(OpenProtocolHeader.length)
        let start = header.startIndex
        return OpenProtocolFrame(
            raw: raw,
            mid: OpenProtocolHeader.number(header[(start + 4)..<(start + 8)]),
            revision: OpenProtocolHeader.revision(header[(start + 8)..<(start + 11)]) ?? 1,  // validated by `judge`
            noAcknowledge: header[start + 11] == UInt8(ascii: "1")
        )
    }

    private static func skippedOutput(_ event: DeviceEvent) -> OpenProtocolFramerOutput {
        guard case .error(let reason, let raw) = event else { return .skipped(.malformedFrame, raw: event.raw) }
        return .skipped(reason, raw: raw)
    }
}
