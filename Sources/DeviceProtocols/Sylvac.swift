public import FloorgateCore

/// Protocol `sylvac`: Sylvac Opto-RS232 replies (PROTOCOLS.md §2), 4800 7E2.
///
/// Data: sign (`+`, `-` or a space for plus) + digits + `.` + digits, e.g. `+012.34`; no unit (the
/// profile supplies it). `ERR` + digit → `device_error`; `SY` + digits + `.option`… (the
/// identification sent at switch-on) → `device_info`. Replies have no recognisable frame start, so
/// a bad line is skipped through its terminator.
public struct SylvacGrammar: LineGrammar {
    public let maximumLineLength = 80

    public init() {}

    /// Every byte outside printable ASCII except TAB, CR and LF — including a 7E2 reply read at
    /// 8N1, whose parity bit turns up as bit 7.
    public func isBreaker(_ byte: UInt8) -> Bool {
        !ASCII.isPrintable(byte) && byte != ASCII.tab
    }

    public func parse(_ line: UnsafeRawBufferPointer) -> LineParse {
        guard let sign = line.first, sign == ASCII.plus || sign == ASCII.minus || sign == ASCII.space else {
            return parseStatus(line)
        }
        // Digits, a point, digits: the decimal parser checks the characters; the point must
        // stand between digits.
        let number = UnsafeRawBufferPointer(rebasing: line[1...])
        guard let first = number.first, ASCII.isDigit(first),
              let magnitude = try? ExactDecimal(parsingASCII: number),
              magnitude.scale > 0,
              let value = ExactDecimal(digits: magnitude.digits, scale: magnitude.scale, isNegative: sign == ASCII.minus)
        else { return .failure(.malformedFrame) }
        return .reading(Reading(value: value, unit: nil))
    }

    /// `ERRn` → `device_error`; the identification line → `device_info`; anything else is malformed.
    private func parseStatus(_ line: UnsafeRawBufferPointer) -> LineParse {
        if line.count == 4, ASCII.hasPrefix(line, "ERR"), ASCII.isDigit(line[3]) {
            return .status(DeviceStatus(state: .deviceError, message: ASCII.text(line)))
        }
        if Self.isIdentification(line) {
            return .status(DeviceStatus(state: .deviceInfo, message: ASCII.text(ASCII.trimmingSpaces(line))))
        }
        return .failure(.malformedFrame)
    }

    /// `SY` + digits + one or more `.` + word (`SY203.1`).
    static func isIdentification(_ line: UnsafeRawBufferPointer) -> Bool {
        guard ASCII.hasPrefix(line, "SY") else { return false }
        let rest = line.dropFirst(2)
        guard let firstPoint = rest.firstIndex(of: ASCII.point),
              firstPoint > rest.startIndex,
              rest[..<firstPoint].allSatisfy(ASCII.isDigit)
        else { return false }
        let options = rest[firstPoint...].split(separator: ASCII.point, omittingEmptySubsequences: false).dropFirst()
        return !options.isEmpty && options.allSatisfy { word in
            !word.isEmpty && word.allSatisfy { ASCII.isDigit($0) || ASCII.isLetter($0) }
        }
    }
}
