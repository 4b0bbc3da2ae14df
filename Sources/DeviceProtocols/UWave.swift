public import FloorgateCore

/// Protocol `uwave`: the Mitutoyo U-WAVE receiver's lines (format UNVERIFIED, PROTOCOLS.md §1.3).
///
/// Data: `DT` + channel block `[0-9A-Z]+` + sign + number + optional unit letter (`M` mm, `I` inch),
/// e.g. `DT10001+0012.345M`. The channel block is kept verbatim, so nothing is lost if its
/// structure turns out different. Status: `ST` + `[0-9A-Z]*` → `device_info`.
public struct UWaveGrammar: LineGrammar {
    public let maximumLineLength = 80

    public init() {}

    /// Every byte outside printable ASCII except TAB, CR and LF.
    public func isBreaker(_ byte: UInt8) -> Bool {
        !ASCII.isPrintable(byte) && byte != ASCII.tab
    }

    /// `DT`: only data lines are frame starts (an `ST` after a torn frame stays in the error).
    public func isFrameStart(in line: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        ASCII.hasPrefix(UnsafeRawBufferPointer(rebasing: line[offset...]), "DT")
    }

    public func parse(_ line: UnsafeRawBufferPointer) -> LineParse {
        if ASCII.hasPrefix(line, "ST") {
            guard line.dropFirst(2).allSatisfy(ASCII.isDigitOrUppercase) else { return .failure(.malformedFrame) }
            return .status(DeviceStatus(state: .deviceInfo, message: ASCII.text(line)))
        }
        guard ASCII.hasPrefix(line, "DT") else { return .failure(.malformedFrame) }
        let body = UnsafeRawBufferPointer(rebasing: line[2...])
        guard let signOffset = body.firstIndex(where: { $0 == ASCII.plus || $0 == ASCII.minus }),
              signOffset > 0,
              body[..<signOffset].allSatisfy(ASCII.isDigitOrUppercase)
        else { return .failure(.malformedFrame) }
        let channel = String(decoding: body[..<signOffset], as: UTF8.self)
        var numberEnd = signOffset + 1
        while numberEnd < body.count && (ASCII.isDigit(body[numberEnd]) || body[numberEnd] == ASCII.point) {
            numberEnd += 1
        }
        guard let value = try? ExactDecimal(parsingASCII: UnsafeRawBufferPointer(rebasing: body[signOffset..<numberEnd])) else {
            return .failure(.malformedFrame)
        }
        let unit: MeasurementUnit?
        switch body.count - numberEnd {
        case 0:
            unit = nil
        case 1 where ASCII.isLetter(body[numberEnd]):
            switch body[numberEnd] {
            case UInt8(ascii: "M"): unit = .millimetre
            case UInt8(ascii: "I"): unit = .inch
            default: return .failure(.unknownUnit)
            }
        default:
            return .failure(.malformedFrame)
        }
        return .reading(Reading(value: value, unit: unit, channel: channel))
    }
}
