public import FloorgateCore

/// Protocol `digimatic`: raw 13-nibble Digimatic (SPC) frames, one nibble per byte, as an
/// interface board that does the clocking delivers them (PROTOCOLS.md §1.1).
///
/// | nibble | content |
/// |---|---|
/// | 1–4 | 0xF header |
/// | 5 | sign: 0 plus, 8 minus |
/// | 6–11 | six BCD digits, most significant first |
/// | 12 | digits after the decimal point, 0–5 |
/// | 13 | unit: 0 mm, 1 inch; 2–4 mm and 5–7 inch with a GO/NG judgement (dropped) |
///
/// A candidate frame starts where four 0xF nibbles follow each other; it is judged nibble by
/// nibble as the bytes arrive and fails at the first nibble out of range. A failed candidate
/// costs one byte (`malformed frame`) and scanning resumes at the next byte, so a torn frame
/// followed by a whole one loses only the torn nibbles. Bytes that start no candidate are
/// `unexpected bytes`. Skipped bytes that touch each other form one error event.
public struct DigimaticDecoder: DeviceDecoder {
    static let frameLength = 13
    static let headerNibble: UInt8 = 0x0F

    /// Bytes not yet decided: at most one candidate frame's worth.
    private var pending: [UInt8] = []
    private var skipped = SkippedRun()

    public init() {
        pending.reserveCapacity(Self.frameLength)
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [DeviceEvent] {
        var events: [DeviceEvent] = []
        // One copy of this read, made on its first whole frame; events share it (see RawBytes).
        var sharedRead: [UInt8]?
        var index = 0
        while index < bytes.count {
            // Fast path: a whole valid frame inside this read, with nothing pending before it.
            if pending.isEmpty, bytes.count - index >= Self.frameLength,
               case .frame(let reading) = Self.judge(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + Self.frameLength)])) {
                let read = sharedRead ?? [UInt8](bytes)
                sharedRead = read
                skipped.close(into: &events)
                events.append(.reading(reading, raw: RawBytes(read[index..<(index + Self.frameLength)])))
                index += Self.frameLength
                continue
            }
            pending.append(bytes[index])
            index += 1
            resolvePending(into: &events)
        }
        return events
    }

    public mutating func flush() -> [DeviceEvent] { skipped.flushed() }

    public mutating func finish() -> [DeviceEvent] {
        defer { pending.removeAll(keepingCapacity: true) }
        return skipped.finished(leaving: pending)
    }

    /// Decides as much of `pending` as its bytes allow: frames, skipped bytes, or a candidate
    /// that needs more nibbles.
    private mutating func resolvePending(into events: inout [DeviceEvent]) {
        while let first = pending.first {
            switch pending.withUnsafeBytes({ Self.judge($0) }) {
            case .needsMoreBytes:
                return
            case .notACandidate:
                skipped.append(first, reason: .unexpectedBytes, into: &events)
                pending.removeFirst()
            case .failedCandidate:
                skipped.append(first, reason: .malformedFrame, into: &events)
                pending.removeFirst()
            case .frame(let reading):
                skipped.close(into: &events)
                events.append(.reading(reading, raw: RawBytes(Array(pending[..<Self.frameLength]))))
                pending.removeFirst(Self.frameLength)
            }
        }
    }

    enum Judgement {
        case needsMoreBytes
        case notACandidate
        case failedCandidate
        case frame(Reading)
    }

    /// What the bytes at the start of `window` are, judged on the nibbles that have arrived.
    static func judge(_ window: UnsafeRawBufferPointer) -> Judgement {
        let headerLength = 4
        for offset in 0..<min(headerLength, window.count) where window[offset] != headerNibble {
            return .notACandidate
        }
        guard window.count >= headerLength else { return .needsMoreBytes }
        for offset in headerLength..<min(frameLength, window.count) where !isInRange(window[offset], at: offset) {
            return .failedCandidate
        }
        guard window.count >= frameLength else { return .needsMoreBytes }
        return reading(window).map(Judgement.frame) ?? .failedCandidate
    }

    /// Whether a nibble is valid at its position of the frame (after the header).
    static func isInRange(_ nibble: UInt8, at offset: Int) -> Bool {
        switch offset {
        case 4: nibble == 0 || nibble == 8
        case 5...10: nibble <= 9
        case 11: nibble <= 5
        default: nibble <= 7
        }
    }

    /// The reading of a validated frame (nil only if its point position were out of range).
    static func reading(_ frame: UnsafeRawBufferPointer) -> Reading? {
        var digits: UInt64 = 0
        for offset in 5...10 {
            digits = digits * 10 + UInt64(frame[offset])
        }
        guard let value = ExactDecimal(digits: digits, scale: Int(frame[11]), isNegative: frame[4] == 8) else { return nil }
        let unit: MeasurementUnit = frame[12] == 0 || (2...4).contains(frame[12]) ? .millimetre : .inch
        return Reading(value: value, unit: unit)
    }
}
