public import FloorgateCore

/// The meaning of one Open Protocol frame: what a controller sends (for the decoder and the
/// client) and what an integrator sends (for the controller simulator).
public enum OpenProtocolMessage: Sendable, Hashable {
    /// MID 0001: the integrator starts a session (the header revision is the one it asks for).
    case communicationStart
    /// MID 0003: the integrator ends the session.
    case communicationStop
    /// MID 0060: subscribe to results; `noAcknowledge` when the integrator will not send MID 0062.
    case resultSubscribe(noAcknowledge: Bool)
    /// MID 0062: the integrator acknowledges the last result.
    case resultAcknowledge
    /// MID 0063: unsubscribe from results.
    case resultUnsubscribe
    /// MID 0064: the integrator asks for an old result by tightening id.
    case oldResultRequest(tighteningID: UInt64)
    /// MID 0002: the controller accepted the session.
    case communicationStartAcknowledge
    /// MID 0004: the controller refused the request `mid` with `errorCode` (97: revision
    /// unsupported, 74: subscribed MID revision unsupported, 96: client already connected, …).
    case commandError(mid: Int, errorCode: Int)
    /// MID 0005: the controller accepted the request `mid`.
    case commandAccepted(mid: Int)
    /// MID 9999.
    case keepAlive
    /// MID 0061: the last tightening result, pushed after every tightening.
    case lastTighteningResult(TighteningResult)
    /// MID 0065: an old tightening result, the answer to MID 0064.
    case oldTighteningResult(TighteningResult)
    /// MID 0071, or MID 0076 with an alarm active: the controller's error code.
    case alarm(code: String)
    /// MID 0014: the integrator subscribes to program (parameter set) selections; the header
    /// revision is the MID 0015 revision it wants.
    case programSelectedSubscribe
    /// MID 0015: the controller's selected program, after a selection from anywhere (an
    /// integrator's MID 0018, the controller's panel, a digital input).
    case programSelected(ProgramSelection)
    /// MID 0016: the integrator acknowledges a MID 0015.
    case programSelectedAcknowledge
    /// MID 0018: select a program.
    case selectProgram(Int)
    /// MID 0019: set a program's batch size.
    case setBatchSize(program: Int, size: Int)
    /// MID 0020: reset a program's batch counter.
    case resetBatchCounter(program: Int)
    /// MID 0038: select a job.
    case selectJob(Int)
    /// MID 0040: ask for the tool's data.
    case toolDataRequest
    /// MID 0041: the tool's serial, tightening count and last calibration date.
    case toolData(ToolIdentity)
    /// MID 0042: disable (lock) the tool.
    case disableTool
    /// MID 0043: enable the tool.
    case enableTool
    /// MID 0050: download the identifier (VIN) the next tightenings carry.
    case identifierDownload(String)
    /// MID 0420: subscribe to the controller's "Open Protocol commands disabled" input.
    case commandsDisabledSubscribe
    /// MID 0421: that input's state (true: the controller refuses commands).
    case commandsDisabled(Bool)
    /// MID 0422: the integrator acknowledges a MID 0421.
    case commandsDisabledAcknowledge
    /// Any other well-formed message (MID 0076 with no alarm active among them).
    case other(mid: Int)

    /// What a frame means, or why it is refused: `malformed frame` (a field breaks its
    /// layout) or `unsupported revision` (a result revision no specification defines).
    public init(_ frame: OpenProtocolFrame) throws(DecodeFailure) {
        let content = Array(frame.content)
        switch frame.mid {
        case 1:
            self = .communicationStart
        case 3:
            self = .communicationStop
        case 60:
            self = .resultSubscribe(noAcknowledge: frame.noAcknowledge)
        case 62:
            self = .resultAcknowledge
        case 63:
            self = .resultUnsubscribe
        case 64:
            guard content.count >= 30, content[20..<30].allSatisfy(ASCII.isDigit) else { self = .other(mid: 64); return }
            self = .oldResultRequest(tighteningID: UInt64(OpenProtocolHeader.number(content[20..<30])))
        case 2:
            self = .communicationStartAcknowledge
        case 4:
            guard content.count >= 26, content[20..<26].allSatisfy(ASCII.isDigit) else { self = .other(mid: 4); return }
            self = .commandError(mid: OpenProtocolHeader.number(content[20..<24]), errorCode: OpenProtocolHeader.number(content[24..<26]))
        case 5:
            guard content.count >= 24, content[20..<24].allSatisfy(ASCII.isDigit) else { self = .other(mid: 5); return }
            self = .commandAccepted(mid: OpenProtocolHeader.number(content[20..<24]))
        case 9999:
            self = .keepAlive
        case 14: self = .programSelectedSubscribe
        case 15: self = .programSelected(try ProgramSelection(content, revision: frame.revision))
        case 16: self = .programSelectedAcknowledge
        case 18: self = .selectProgram(try Self.digits(content, at: 20, width: 3))
        case 19:
            self = .setBatchSize(program: try Self.digits(content, at: 20, width: 3), size: try Self.digits(content, at: 23, width: frame.revision >= 2 ? 4 : 2))
        case 20: self = .resetBatchCounter(program: try Self.digits(content, at: 20, width: 3))
        case 38: self = .selectJob(try Self.digits(content, at: 20, width: frame.revision >= 2 ? 4 : 2))
        case 40: self = .toolDataRequest
        case 41: self = .toolData(try ToolDataReader.identity(content))
        case 42: self = .disableTool
        case 43: self = .enableTool
        case 50:
            let fields = try FieldReader(content, minimumLength: OpenProtocolHeader.length)
            self = .identifierDownload(try fields.text(id: nil, at: 20, width: min(25, content.count - 20)))
        case 420: self = .commandsDisabledSubscribe
        case 421: self = .commandsDisabled(try FieldReader(content, minimumLength: 21).flag(id: nil, at: 20))
        case 422: self = .commandsDisabledAcknowledge
        case 61, 65:
            let result = try TighteningFrameReader.result(content, mid: frame.mid, revision: frame.revision)
            self = frame.mid == 61 ? .lastTighteningResult(result) : .oldTighteningResult(result)
        case 71:
            guard frame.revision == 1 else { throw .unsupportedRevision }
            let fields = try FieldReader(content, expectedLength: 53)
            let code = try fields.text(id: 1, at: 22, width: 4)
            _ = try fields.flag(id: 2, at: 28)
            _ = try fields.flag(id: 3, at: 31)
            _ = try fields.text(id: 4, at: 34, width: 19)
            self = .alarm(code: code)
        case 76:
            guard frame.revision == 1 else { throw .unsupportedRevision }
            let fields = try FieldReader(content, expectedLength: 56)
            let active = try fields.flag(id: 1, at: 22)
            let code = try fields.text(id: 2, at: 25, width: 4)
            _ = try fields.flag(id: 3, at: 31)
            _ = try fields.flag(id: 4, at: 34)
            _ = try fields.text(id: 5, at: 37, width: 19)
            self = active ? .alarm(code: code) : .other(mid: 76)
        default:
            self = .other(mid: frame.mid)
        }
    }

    /// A fixed-width run of digits (a command's program, job or batch size).
    private static func digits(_ content: [UInt8], at offset: Int, width: Int) throws(DecodeFailure) -> Int {
        guard offset + width <= content.count, content[offset..<(offset + width)].allSatisfy(ASCII.isDigit) else { throw .malformedFrame }
        return OpenProtocolHeader.number(content[offset..<(offset + width)])
    }
}

/// Reads parameter-numbered fields out of a frame's content, checking each parameter id.
struct FieldReader {
    let content: [UInt8]

    init(_ content: [UInt8], expectedLength: Int) throws(DecodeFailure) {
        guard content.count == expectedLength else { throw .malformedFrame }
        self.content = content
    }

    init(_ content: [UInt8], minimumLength: Int) throws(DecodeFailure) {
        guard content.count >= minimumLength else { throw .malformedFrame }
        self.content = content
    }

    /// The raw value of a field, after checking the 2-digit parameter id before it (if any).
    func value(id: Int?, at offset: Int, width: Int) throws(DecodeFailure) -> ArraySlice<UInt8> {
        guard offset + width <= content.count else { throw .malformedFrame }
        if let id {
            let idBytes = content[(offset - 2)..<offset]
            guard idBytes.allSatisfy(ASCII.isDigit), OpenProtocolHeader.number(idBytes) == id else { throw .malformedFrame }
        }
        return content[offset..<(offset + width)]
    }

    /// A text field: trailing spaces and NULs trimmed, UTF-8 when valid, else ISO-8859-1.
    func text(id: Int?, at offset: Int, width: Int) throws(DecodeFailure) -> String {
        let raw = try value(id: id, at: offset, width: width)
        let trimmed = raw.reversed().drop { $0 == ASCII.space || $0 == 0 }.reversed()
        return ASCII.text(Array(trimmed).drop { $0 == ASCII.space })
    }

    /// A `0`/`1` flag.
    func flag(id: Int?, at offset: Int) throws(DecodeFailure) -> Bool {
        let raw = try value(id: id, at: offset, width: 1)
        switch raw.first {
        case UInt8(ascii: "0"): return false
        case UInt8(ascii: "1"): return true
        default: throw .malformedFrame
        }
    }
}

/// Turns MID 0061 / 0065 content into a ``TighteningResult`` by the revision's layout.
enum TighteningFrameReader {
    static func result(_ content: [UInt8], mid: Int, revision: Int) throws(DecodeFailure) -> TighteningResult {
        guard let (layout, mayBeLonger) = TighteningLayout.layout(mid: mid, revision: revision) else {
            throw .unsupportedRevision
        }
        let fields = mayBeLonger
            ? try FieldReader(content, minimumLength: layout.contentLength)
            : try FieldReader(content, expectedLength: layout.contentLength)
        var result = TighteningResult()
        for field in layout.fields {
            let raw = try fields.value(id: field.id, at: field.offset, width: field.width)
            guard let target = field.target else { continue }
            try apply(raw, to: target, of: &result, fields: fields, field: field)
        }
        return result
    }

    private static func apply(
        _ raw: ArraySlice<UInt8>,
        to target: TighteningField,
        of result: inout TighteningResult,
        fields: FieldReader,
        field: TighteningLayout.Field
    ) throws(DecodeFailure) {
        switch target {
        case .cellID: result.cellID = try identifier(raw)
        case .channelID: result.channelID = try identifier(raw)
        case .parameterSet: result.parameterSet = try identifier(raw)
        case .tighteningID: result.tighteningID = try identifier(raw)
        case .controllerName: result.controllerName = nonEmpty(try fields.text(id: field.id, at: field.offset, width: field.width))
        case .identifier: result.identifier = nonEmpty(try fields.text(id: field.id, at: field.offset, width: field.width))
        case .toolSerial: result.toolSerial = nonEmpty(try fields.text(id: field.id, at: field.offset, width: field.width))
        case .timestamp: result.timestamp = nonEmpty(try fields.text(id: field.id, at: field.offset, width: field.width))
        case .batchSize: result.batchSize = try count(raw, scale: 0)
        case .batchCounter: result.batchCounter = try count(raw, scale: 0)
        case .angle: result.angle = try count(raw, scale: 0)
        case .angleMinimum: result.angleMinimum = try count(raw, scale: 0)
        case .angleMaximum: result.angleMaximum = try count(raw, scale: 0)
        case .angleTarget: result.angleTarget = try count(raw, scale: 0)
        case .torque: result.torque = try count(raw, scale: 2)
        case .torqueMinimum: result.torqueMinimum = try count(raw, scale: 2)
        case .torqueMaximum: result.torqueMaximum = try count(raw, scale: 2)
        case .torqueTarget: result.torqueTarget = try count(raw, scale: 2)
        case .status: result.status = try code(raw, [.nok, .ok])
        case .torqueStatus: result.torqueStatus = try code(raw, [.low, .ok, .high])
        case .angleStatus: result.angleStatus = try code(raw, [.low, .ok, .high])
        case .batchStatus: result.batchStatus = try code(raw, [.nok, .ok, .notUsed, .running])
        case .torqueUnit: result.torqueUnit = torqueUnit(raw)
        case .resultType:
            switch Array(raw) {
            case Array("01".utf8): result.resultType = .tightening
            case Array("02".utf8): result.resultType = .loosening
            default: result.resultType = nil
            }
        }
    }

    /// The field with padding spaces trimmed at both ends; digits only; nil when blank.
    private static func trimmedDigits(_ raw: ArraySlice<UInt8>) throws(DecodeFailure) -> ArraySlice<UInt8>? {
        let trimmed = raw.drop { $0 == ASCII.space }.reversed().drop { $0 == ASCII.space }.reversed()
        guard !trimmed.isEmpty else { return nil }
        guard trimmed.allSatisfy(ASCII.isDigit) else { throw .malformedFrame }
        return ArraySlice(trimmed)
    }

    /// An id as sent: leading zeros kept, padding spaces trimmed.
    private static func identifier(_ raw: ArraySlice<UInt8>) throws(DecodeFailure) -> String? {
        try trimmedDigits(raw).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A number with leading zeros dropped; `scale` 2 rescales a ×100 torque field.
    private static func count(_ raw: ArraySlice<UInt8>, scale: Int) throws(DecodeFailure) -> ExactDecimal? {
        guard let digits = try trimmedDigits(raw) else { return nil }
        guard digits.count <= 18 else { throw .malformedFrame }
        return ExactDecimal(digits: UInt64(OpenProtocolHeader.number(digits)), scale: scale)
    }

    /// A one-digit code mapped by position (`0` → first value); blank → nil; other → malformed.
    private static func code<Value>(_ raw: ArraySlice<UInt8>, _ values: [Value]) throws(DecodeFailure) -> Value? {
        guard let byte = raw.first, raw.count == 1 else { throw .malformedFrame }
        if byte == ASCII.space { return nil }
        let index = Int(byte) - Int(UInt8(ascii: "0"))
        guard values.indices.contains(index) else { throw .malformedFrame }
        return values[index]
    }

    /// Torque unit codes of MID 0061 parameter 48 / MID 0065 parameter 29; others → nil.
    private static func torqueUnit(_ raw: ArraySlice<UInt8>) -> MeasurementUnit? {
        switch raw.first {
        case UInt8(ascii: "1"): .newtonMetre
        case UInt8(ascii: "2"): .poundForceFoot
        case UInt8(ascii: "3"): .poundForceInch
        case UInt8(ascii: "4"): .kilogramForceMetre
        case UInt8(ascii: "5"): .kilogramForceCentimetre
        case UInt8(ascii: "6"): .ounceForceInch
        case UInt8(ascii: "7"): .percent
        case UInt8(ascii: "8"): .newtonCentimetre
        default: nil
        }
    }

    private static func nonEmpty(_ text: String) -> String? { text.isEmpty ? nil : text }
}
