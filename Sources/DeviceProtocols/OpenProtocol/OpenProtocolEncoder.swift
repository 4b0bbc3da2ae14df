public import FloorgateCore

/// Builds Open Protocol frames: the messages the integrator sends (MID 0001, 0003, 0060, 0062,
/// 0064, 9999) and, for the controller simulator, those a controller sends (MID 0002, 0004, 0005,
/// 0061, 0065). Headers carry spaces in the optional fields and a NUL after the data; the length
/// counts header and data, not the NUL.
public enum OpenProtocolEncoder {
    /// A frame: header (length, MID, revision — blank when nil —, no-ack flag, blank
    /// station/spindle/sequence/parts), data, NUL.
    public static func frame(mid: Int, revision: Int? = 1, noAcknowledge: Bool = false, data: [UInt8] = []) -> [UInt8] {
        var bytes = digits(OpenProtocolHeader.length + data.count, width: 4)
        bytes += digits(mid, width: 4)
        bytes += revision.map { digits($0, width: 3) } ?? blank(3)
        bytes.append(noAcknowledge ? UInt8(ascii: "1") : ASCII.space)
        bytes += [UInt8](repeating: ASCII.space, count: 8)
        return bytes + data + [0]
    }

    // MARK: Integrator → controller

    /// MID 0001 Communication start.
    public static func communicationStart(revision: Int) -> [UInt8] { frame(mid: 1, revision: revision) }
    /// MID 0003 Communication stop.
    public static func communicationStop() -> [UInt8] { frame(mid: 3) }
    /// MID 0060 Last tightening result data subscribe, asking for MID 0061 in `revision`.
    public static func subscribeLastTighteningResult(revision: Int) -> [UInt8] { frame(mid: 60, revision: revision) }
    /// MID 0062 Last tightening result data acknowledge.
    public static func acknowledgeLastTighteningResult() -> [UInt8] { frame(mid: 62) }
    /// MID 0064 Old tightening result upload request for one tightening id.
    public static func oldTighteningResultRequest(tighteningID: UInt64) -> [UInt8] {
        frame(mid: 64, data: digits(tighteningID, width: 10))
    }
    /// MID 9999 Keep alive.
    public static func keepAlive() -> [UInt8] { frame(mid: 9999, revision: nil) }

    // MARK: Controller → integrator (the simulator)

    /// MID 0002 Communication start acknowledge, revision 1: cell id, channel id, controller name.
    public static func communicationStartAcknowledge(cellID: Int, channelID: Int, controllerName: String) -> [UInt8] {
        frame(mid: 2, data: [UInt8]("01".utf8) + digits(cellID, width: 4) + [UInt8]("02".utf8) + digits(channelID, width: 2)
            + [UInt8]("03".utf8) + text(controllerName, width: 25))
    }
    /// MID 0004 Command error: the refused MID and the error code.
    public static func commandError(mid: Int, errorCode: Int) -> [UInt8] {
        frame(mid: 4, data: digits(mid, width: 4) + digits(errorCode, width: 2))
    }
    /// MID 0005 Command accepted.
    public static func commandAccepted(mid: Int) -> [UInt8] { frame(mid: 5, data: digits(mid, width: 4)) }

    /// MID 0061 (or, with `mid: 65`, MID 0065) carrying `result` in one of the revisions whose
    /// layout Floorgate knows (1, 2, 3; 999 for MID 0061). Fields the result lacks are sent blank
    /// (spaces) or zero, as a controller fills fields it does not use.
    public static func tighteningResult(_ result: TighteningResult, mid: Int = 61, revision: Int) -> [UInt8]? {
        guard let (layout, _) = TighteningLayout.layout(mid: mid, revision: revision) else { return nil }
        var content = [UInt8](repeating: ASCII.space, count: layout.contentLength)
        for field in layout.fields {
            if let id = field.id {
                content.replaceSubrange((field.offset - 2)..<field.offset, with: digits(id, width: 2))
            }
            let value = field.target.map { encode(result, $0, width: field.width) } ?? digits(0, width: field.width)
            content.replaceSubrange(field.offset..<(field.offset + field.width), with: value)
        }
        let data = Array(content[OpenProtocolHeader.length...])
        return frame(mid: mid, revision: revision, data: data)
    }

    private static func encode(_ result: TighteningResult, _ field: TighteningField, width: Int) -> [UInt8] {
        func number(_ value: ExactDecimal?, scale: Int) -> [UInt8] {
            guard let value else { return blank(width) }
            let (scaled, overflow) = value.scale <= scale
                ? value.digits.multipliedReportingOverflow(by: power(10, scale - value.scale))
                : (value.digits / power(10, value.scale - scale), false)
            return overflow ? blank(width) : digits(scaled, width: width)
        }
        func code<Value: Equatable>(_ value: Value?, _ values: [Value]) -> [UInt8] {
            guard let value, let index = values.firstIndex(of: value) else { return blank(width) }
            return digits(index, width: width)
        }
        switch field {
        case .cellID: return padded(result.cellID, width: width, alignRight: true)
        case .channelID: return padded(result.channelID, width: width, alignRight: true)
        case .parameterSet: return padded(result.parameterSet, width: width, alignRight: true)
        case .tighteningID: return padded(result.tighteningID, width: width, alignRight: true)
        case .controllerName: return text(result.controllerName ?? "", width: width)
        case .identifier: return text(result.identifier ?? "", width: width)
        case .toolSerial: return text(result.toolSerial ?? "", width: width)
        case .timestamp: return text(result.timestamp ?? "", width: width)
        case .batchSize: return number(result.batchSize, scale: 0)
        case .batchCounter: return number(result.batchCounter, scale: 0)
        case .angle: return number(result.angle, scale: 0)
        case .angleMinimum: return number(result.angleMinimum, scale: 0)
        case .angleMaximum: return number(result.angleMaximum, scale: 0)
        case .angleTarget: return number(result.angleTarget, scale: 0)
        case .torque: return number(result.torque, scale: 2)
        case .torqueMinimum: return number(result.torqueMinimum, scale: 2)
        case .torqueMaximum: return number(result.torqueMaximum, scale: 2)
        case .torqueTarget: return number(result.torqueTarget, scale: 2)
        case .status: return code(result.status, [.nok, .ok])
        case .torqueStatus: return code(result.torqueStatus, [.low, .ok, .high])
        case .angleStatus: return code(result.angleStatus, [.low, .ok, .high])
        case .batchStatus: return code(result.batchStatus, [.nok, .ok, .notUsed, .running])
        case .torqueUnit:
            let codes: [MeasurementUnit] = [.newtonMetre, .poundForceFoot, .poundForceInch, .kilogramForceMetre,
                                            .kilogramForceCentimetre, .ounceForceInch, .percent, .newtonCentimetre]
            guard let unit = result.torqueUnit, let index = codes.firstIndex(of: unit) else { return blank(width) }
            return digits(index + 1, width: width)
        case .resultType:
            switch result.resultType {
            case .tightening: return [UInt8]("01".utf8)
            case .loosening: return [UInt8]("02".utf8)
            case nil: return blank(width)
            }
        }
    }

    /// `value` as zero-padded decimal digits; the lowest `width` digits if it is longer, and 0 for
    /// a negative value (no field Floorgate writes is signed).
    static func digits(_ value: some BinaryInteger, width: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: UInt8(ascii: "0"), count: width)
        var rest = UInt64(clamping: value)
        for index in stride(from: width - 1, through: 0, by: -1) {
            bytes[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        return bytes
    }

    /// Text left-aligned and space-padded (UTF-8; cut at `width` bytes).
    static func text(_ value: String, width: Int) -> [UInt8] {
        let bytes = Array(value.utf8.prefix(width))
        return bytes + [UInt8](repeating: ASCII.space, count: width - bytes.count)
    }

    private static func padded(_ value: String?, width: Int, alignRight: Bool) -> [UInt8] {
        guard let value else { return blank(width) }
        let bytes = Array(value.utf8.prefix(width))
        let padding = [UInt8](repeating: ASCII.space, count: width - bytes.count)
        return alignRight ? padding + bytes : bytes + padding
    }

    private static func blank(_ width: Int) -> [UInt8] { [UInt8](repeating: ASCII.space, count: width) }

    /// base^exponent for the small exponents of field scales (at most 10^19 fits).
    private static func power(_ base: UInt64, _ exponent: Int) -> UInt64 {
        (0..<min(exponent, 19)).reduce(1) { result, _ in result &* base }
    }
}
