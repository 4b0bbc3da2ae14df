public import FloorgateCore

/// How a line protocol's lines end.
public enum LineEnding: String, Sendable, Hashable, CaseIterable {
    /// CR, LF or CR LF. A CR is held until the next byte (or an idle-gap flush) shows whether an
    /// LF follows. The right choice when the device's terminator is unknown (`floorgate decode`).
    case auto
    /// CR ends a line at once (so does a lone LF). For devices that send CR only.
    case cr
    /// LF ends a line at once; a CR right before it belongs to the terminator. For devices that
    /// send CR LF or LF.
    case lf
}

/// What a line protocol's grammar makes of one line (without its terminator).
public enum LineParse: Sendable, Hashable {
    case reading(Reading)
    case status(DeviceStatus)
    case scan(Scan)
    case failure(DecodeFailure)
}

/// The per-protocol part of a line protocol: which bytes may not appear in a line, how long a line
/// may be, where a frame may start inside a line, and what a line means. Everything else
/// (terminators, breaker runs, length limits, resynchronisation, error runs) is ``LineDecoder``'s.
public protocol LineGrammar: Sendable {
    /// The longest line, terminator excluded; a longer one is `frame too long`.
    var maximumLineLength: Int { get }

    /// Whether a byte can never belong to a line (line noise, a wrong baud rate or parity). A run
    /// of such bytes and the partial line before it are skipped as `unexpected bytes`.
    func isBreaker(_ byte: UInt8) -> Bool

    /// A byte that ends a line on its own besides CR and LF (a scanner configured with a TAB
    /// suffix), or nil. It is part of the line's raw bytes, like any terminator.
    var extraTerminator: UInt8? { get }

    /// Whether a frame may start at `offset` inside a line that did not parse from its first byte
    /// (Mitutoyo's `01A+`, U-WAVE's `DT`). Protocols with no recognisable frame start return false.
    func isFrameStart(in line: UnsafeRawBufferPointer, at offset: Int) -> Bool

    /// The meaning of one whole line, terminator excluded (never empty, never longer than
    /// ``maximumLineLength``).
    func parse(_ line: UnsafeRawBufferPointer) -> LineParse
}

extension LineGrammar {
    public var extraTerminator: UInt8? { nil }

    public func isFrameStart(in line: UnsafeRawBufferPointer, at offset: Int) -> Bool { false }
}

/// The one decoder of every line protocol (`mitutoyo`, `uwave`, `sylvac`, `torque-ascii`, …):
/// frames lines, skips garbage and resynchronises by the rules of fixtures/README.md, and asks its
/// ``LineGrammar`` what each line means.
///
/// The byte loop never calls the grammar: its breakers are read once into a byte set. The grammar
/// is consulted once per line, so holding it as an existential costs nothing measurable and keeps
/// this one non-generic implementation for every line protocol.
public struct LineDecoder: DeviceDecoder {
    /// The grammar this decoder applies to each line.
    public let grammar: any LineGrammar
    /// How lines end.
    public let lineEnding: LineEnding
    /// The grammar's longest line, read once.
    private let maximumLineLength: Int
    /// The grammar's extra terminator, read once.
    private let extraTerminator: UInt8?

    /// Bytes that need attention in the scanning loop: CR, LF and the grammar's breakers.
    private let specialBytes: ByteSet
    /// The current line's bytes that are still undecided (terminator excluded).
    private var line: [UInt8] = []
    /// Whether the head of an over-long line was already skipped (it can no longer parse from
    /// its start; only a frame start near its end can still rescue a frame).
    private var lineHeadSkipped = false
    /// Whether a CR ended the line and the next byte decides whether an LF belongs to it.
    private var heldCarriageReturn = false
    /// Skipped bytes. A run is cut into 4096-byte pieces only past twice the longest line, so an
    /// over-long line of a protocol with long lines (4096-byte scans) is reported whole.
    private var skipped: SkippedRun

    /// A line longer than this is cut: its head is skipped as `frame too long` in pieces of the
    /// error-event size, keeping enough of its tail for a frame start to be found.
    private var lineBufferLimit: Int { skipped.splitThreshold + maximumLineLength }

    public init(grammar: any LineGrammar, lineEnding: LineEnding = .auto) {
        self.grammar = grammar
        self.lineEnding = lineEnding
        maximumLineLength = grammar.maximumLineLength
        extraTerminator = grammar.extraTerminator
        skipped = SkippedRun(splitThreshold: 2 * grammar.maximumLineLength)
        var special = ByteSet(where: grammar.isBreaker)
        special.insert(ASCII.carriageReturn)
        special.insert(ASCII.lineFeed)
        if let extraTerminator { special.insert(extraTerminator) }
        specialBytes = special
        line.reserveCapacity(maximumLineLength + 2)
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [DeviceEvent] {
        var events: [DeviceEvent] = []
        var index = 0
        let count = bytes.count
        // One copy of this read, made on its first whole line; events share it (see RawBytes).
        var sharedRead: [UInt8]?
        while index < count {
            if heldCarriageReturn {
                heldCarriageReturn = false
                if bytes[index] == ASCII.lineFeed {
                    endLine(terminator: ASCII.crlf, into: &events)
                    index += 1
                    continue
                }
                endLine(terminator: ASCII.cr, into: &events)
            }
            // Plain line bytes up to the next CR, LF or breaker go to the line in one copy.
            var end = index
            while end < count && !specialBytes.contains(bytes[end]) { end += 1 }
            if line.isEmpty, !lineHeadSkipped,
               let frameEnd = decodeWholeLine(bytes, from: index, terminatorAt: end, sharedRead: &sharedRead, into: &events) {
                index = frameEnd
                continue
            }
            if end > index {
                line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<end]))
                if line.count > lineBufferLimit { skipLineHead(into: &events) }
                index = end
                continue
            }
            let byte = bytes[index]
            index += 1
            switch byte {
            case ASCII.carriageReturn where lineEnding == .auto:
                heldCarriageReturn = true
            case ASCII.carriageReturn where lineEnding == .cr:
                endLine(terminator: ASCII.cr, into: &events)
            case ASCII.carriageReturn:
                line.append(byte)  // `.lf`: part of the terminator if an LF follows at once
            case ASCII.lineFeed:
                if lineEnding == .lf, line.last == ASCII.carriageReturn {
                    line.removeLast()
                    endLine(terminator: ASCII.crlf, into: &events)
                } else {
                    endLine(terminator: ASCII.lf, into: &events)
                }
            case _ where byte == extraTerminator:
                endLine(terminator: [byte], into: &events)
            default:
                skipBreaker(byte, into: &events)
            }
        }
        return events
    }

    /// The fast path for the common case: a whole, good line inside this read. Parses it in place
    /// and emits its event, returning the offset after its terminator; returns nil (having done
    /// nothing) when the line is not whole here, needs the next read to see its terminator, or
    /// does not parse, so the general path takes it.
    private mutating func decodeWholeLine(
        _ bytes: UnsafeRawBufferPointer,
        from start: Int,
        terminatorAt end: Int,
        sharedRead: inout [UInt8]?,
        into events: inout [DeviceEvent]
    ) -> Int? {
        guard end > start, end - start <= maximumLineLength, end < bytes.count else { return nil }
        let followedByLineFeed = end + 1 < bytes.count && bytes[end + 1] == ASCII.lineFeed
        let terminatorLength: Int
        switch (bytes[end], lineEnding) {
        case (ASCII.lineFeed, _), (ASCII.carriageReturn, .cr):
            terminatorLength = 1
        case (let terminator, _) where terminator == extraTerminator:
            terminatorLength = 1
        case (ASCII.carriageReturn, .auto) where end + 1 < bytes.count:
            terminatorLength = followedByLineFeed ? 2 : 1
        case (ASCII.carriageReturn, .lf) where followedByLineFeed:
            terminatorLength = 2
        default:
            return nil  // a breaker, or a CR whose next byte is in the next read
        }
        let parsed = grammar.parse(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
        let frameEnd = end + terminatorLength
        guard let event = Self.event(parsed, raw: {
            let read = sharedRead ?? [UInt8](bytes)
            sharedRead = read
            return RawBytes(read[start..<frameEnd])
        }()) else { return nil }
        skipped.close(into: &events)
        events.append(event)
        return frameEnd
    }

    public mutating func flush() -> [DeviceEvent] {
        var events: [DeviceEvent] = []
        if heldCarriageReturn {
            heldCarriageReturn = false
            endLine(terminator: ASCII.cr, into: &events)
        }
        skipped.close(into: &events)
        return events
    }

    public mutating func finish() -> [DeviceEvent] {
        var events = flush()
        if !line.isEmpty {
            events.append(.error(.incompleteFrame, raw: RawBytes(line)))
        }
        line.removeAll(keepingCapacity: true)
        lineHeadSkipped = false
        return events
    }

    // MARK: - Lines

    /// A breaker byte: the partial line before it and the byte itself are skipped; the next line
    /// starts after it.
    private mutating func skipBreaker(_ byte: UInt8, into events: inout [DeviceEvent]) {
        skipped.append(line, reason: .unexpectedBytes, into: &events)
        skipped.append(byte, reason: .unexpectedBytes, into: &events)
        line.removeAll(keepingCapacity: true)
        lineHeadSkipped = false
    }

    /// Skips the head of an over-long line: no frame can start there any more.
    private mutating func skipLineHead(into events: inout [DeviceEvent]) {
        let headLength = line.count - maximumLineLength
        skipped.append(line[..<headLength], reason: .frameTooLong, into: &events)
        line.removeFirst(headLength)
        lineHeadSkipped = true
    }

    /// A terminator arrived: decides what the line was.
    private mutating func endLine(terminator terminatorBytes: [UInt8], into events: inout [DeviceEvent]) {
        defer {
            line.removeAll(keepingCapacity: true)
            lineHeadSkipped = false
        }
        if line.isEmpty && !lineHeadSkipped {
            skipped.append(terminatorBytes, reason: .emptyFrame, into: &events)
            return
        }
        let wholeLineFailure: DecodeFailure
        if lineHeadSkipped || line.count > maximumLineLength {
            wholeLineFailure = .frameTooLong
        } else {
            let parsed = line.withUnsafeBytes { grammar.parse($0) }
            if let event = Self.event(parsed, raw: RawBytes(line + terminatorBytes)) {
                skipped.close(into: &events)
                events.append(event)
                return
            }
            guard case .failure(let failure) = parsed else { return }
            wholeLineFailure = failure
        }
        if let start = firstFrameStart() {
            let headFailure: DecodeFailure = lineHeadSkipped || start > maximumLineLength ? .frameTooLong : .malformedFrame
            skipped.append(line[..<start], reason: headFailure, into: &events)
            skipped.close(into: &events)
            let frame = Array(line[start...])
            let parsed = frame.withUnsafeBytes { grammar.parse($0) }
            if let event = Self.event(parsed, raw: RawBytes(frame + terminatorBytes)) {
                events.append(event)
            }
            return
        }
        skipped.append(line, reason: wholeLineFailure, into: &events)
        skipped.append(terminatorBytes, reason: wholeLineFailure, into: &events)
    }

    /// The first offset inside the line where a frame start stands and the rest of the line
    /// parses as a frame of its own (fixtures/README.md "Frame starts inside a line").
    private func firstFrameStart() -> Int? {
        line.withUnsafeBytes { buffer -> Int? in
            // A frame is at most one line long, so it starts within the line's last
            // `maximumLineLength` bytes; the line's own first byte was already tried.
            let earliest = max(lineHeadSkipped ? 0 : 1, buffer.count - maximumLineLength)
            guard earliest < buffer.count else { return nil }
            for start in earliest..<buffer.count where grammar.isFrameStart(in: buffer, at: start) {
                switch grammar.parse(UnsafeRawBufferPointer(rebasing: buffer[start...])) {
                case .reading, .status, .scan: return start
                case .failure: continue
                }
            }
            return nil
        }
    }

    /// Builds the event the raw bytes are `parsed` into, or nil when `parsed` is a failure; the
    /// raw array is created only for a good frame.
    private static func event(_ parsed: LineParse, raw: @autoclosure () -> RawBytes) -> DeviceEvent? {
        switch parsed {
        case .reading(let reading): .reading(reading, raw: raw())
        case .status(let status): .status(status, raw: raw())
        case .scan(let scan): .scan(scan, raw: raw())
        case .failure: nil
        }
    }
}
