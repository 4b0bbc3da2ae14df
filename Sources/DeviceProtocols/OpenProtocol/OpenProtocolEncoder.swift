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

    // MARK: Commanding the tool (integrator → controller)

    /// MID 0014 Parameter set selected subscribe, asking for MID 0015 in `revision`.
    public static func subscribeProgramSelection(revision: Int) -> [UInt8] { frame(mid: 14, revision: revision) }
    /// MID 0016 Parameter set selected acknowledge.
    public static func acknowledgeProgramSelection() -> [UInt8] { frame(mid: 16) }
    /// MID 0018 Select parameter set (3 digits).
    public static func selectProgram(_ program: Int) -> [UInt8] { frame(mid: 18, data: digits(program, width: 3)) }
    /// MID 0019 Set parameter set batch size: revision 1 takes 2 digits (1–99), revision 2 four.
    public static func setBatchSize(program: Int, size: Int, revision: Int) -> [UInt8] {
        frame(mid: 19, revision: revision, data: digits(program, width: 3) + digits(size, width: revision >= 2 ? 4 : 2))
    }
    /// MID 0020 Reset parameter set batch counter.
    public static func resetBatchCounter(program: Int) -> [UInt8] { frame(mid: 20, data: digits(program, width: 3)) }
    /// MID 0038 Select job: revision 1 takes 2 digits, revision 2 four.
    public static func selectJob(_ job: Int, revision: Int) -> [UInt8] {
        frame(mid: 38, revision: revision, data: digits(job, width: revision >= 2 ? 4 : 2))
    }
    /// MID 0040 Tool data upload request.
    public static func toolDataRequest() -> [UInt8] { frame(mid: 40) }
    /// MID 0042 Disable tool: revision 1 (no data), or revision 2 for tool `toolNumber` with
    /// disable type 00 (lock).
    public static func disableTool(toolNumber: Int? = nil) -> [UInt8] {
        guard let toolNumber else { return frame(mid: 42) }
        return frame(mid: 42, revision: 2, data: [UInt8]("01".utf8) + digits(toolNumber, width: 4) + [UInt8]("0200".utf8))
    }
    /// MID 0043 Enable tool: revision 1, or revision 2 for tool `toolNumber`.
    public static func enableTool(toolNumber: Int? = nil) -> [UInt8] {
        guard let toolNumber else { return frame(mid: 43) }
        return frame(mid: 43, revision: 2, data: [UInt8]("01".utf8) + digits(toolNumber, width: 4))
    }
    /// MID 0050 Vehicle ID number download: the identifier as it is (at most 25 bytes; the
    /// specification's field is dynamic), which the controller puts in its next results.
    public static func identifierDownload(_ identifier: String) -> [UInt8] { frame(mid: 50, data: Array(identifier.utf8.prefix(25))) }
    /// MID 0420 Open Protocol commands disabled subscribe.
    public static func subscribeCommandsDisabled() -> [UInt8] { frame(mid: 420) }
    /// MID 0422 Open Protocol commands disabled acknowledge.
    public static func acknowledgeCommandsDisabled() -> [UInt8] { frame(mid: 422) }

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

    /// MID 0015 Parameter set selected: revision 1 (id and date of last change) or 2 (with
    /// name, batch size and limits).
    public static func programSelected(_ selection: ProgramSelection, changedAt: String, revision: Int) -> [UInt8] {
        guard revision >= 2 else { return frame(mid: 15, data: digits(selection.id, width: 3) + text(changedAt, width: 19)) }
        func scaled(_ value: ExactDecimal?, _ scale: Int, _ width: Int) -> [UInt8] {
            digits(value.flatMap { fixedPoint($0, scale: scale) } ?? 0, width: width)
        }
        let values: [Int: [UInt8]] = [
            1: digits(selection.id, width: 3), 2: text(selection.name ?? "", width: 25), 3: text(changedAt, width: 19), 4: [UInt8]("1".utf8),
            5: digits(selection.batchSize ?? 0, width: 2), 6: scaled(selection.torqueMinimum, 2, 6), 7: scaled(selection.torqueMaximum, 2, 6),
            8: scaled(selection.torqueTarget, 2, 6), 9: scaled(selection.angleMinimum, 0, 5), 10: scaled(selection.angleMaximum, 0, 5),
            11: scaled(selection.angleTarget, 0, 5), 12: digits(0, width: 6), 13: digits(0, width: 6),
        ]
        let data = ProgramSelection.revision2.flatMap { field in digits(field.id, width: 2) + (values[field.id] ?? digits(0, width: field.width)) }
        return frame(mid: 15, revision: 2, data: data)
    }

    /// MID 0041 Tool data upload reply, revision 1: tool serial, tightening count, last
    /// calibration date (`YYYY-MM-DD:HH:MM:SS`), controller serial.
    public static func toolData(_ tool: ToolIdentity, controllerSerial: String) -> [UInt8] {
        let calibration = tool.calibratedOn.map { $0 + ":00:00:00" } ?? ""
        return frame(mid: 41, data: [UInt8]("01".utf8) + text(tool.serial ?? "", width: 14) + [UInt8]("02".utf8) + digits(tool.tightenings ?? 0, width: 10)
            + [UInt8]("03".utf8) + text(calibration, width: 19) + [UInt8]("04".utf8) + text(controllerSerial, width: 10))
    }

    /// MID 0421 Open Protocol commands disabled: the input's state.
    public static func commandsDisabled(_ disabled: Bool) -> [UInt8] { frame(mid: 421, data: [disabled ? UInt8(ascii: "1") : UInt8(ascii: "0")]) }

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
            guard let scaled = value.flatMap({ fixedPoint($0, scale: scale) }) else { return blank(width) }
            return digits(scaled, width: width)
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

    /// `value` as an integer count of 10^-`scale` (torque ×100: scale 2), truncated; nil when it
    /// does not fit.
    public static func fixedPoint(_ value: ExactDecimal, scale: Int) -> UInt64? {
        let (scaled, overflow) = value.scale <= scale
            ? value.digits.multipliedReportingOverflow(by: power(10, scale - value.scale))
            : (value.digits / power(10, value.scale - scale), false)
        return overflow ? nil : scaled
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
