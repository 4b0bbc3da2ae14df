import FloorgateCore

/// Protocol `mitutoyo`: the ASCII line of Digimatic-to-RS-232/USB interfaces and instruments with
/// a data port, `01A+0012.345` CR (PROTOCOLS.md §1.2).
///
/// A line is a header of 1–4 characters `[0-9A-Z]`, a sign, and a number (digits with at most one
/// point). The frame carries no unit: mm and inch differ only in decimals, so the unit is left to
/// the profile. Channel: header `ddA` → its second digit; header `0A` + digits → those digits.
public struct MitutoyoGrammar: LineGrammar {
    public let maximumLineLength = 80

    public init() {}

    /// Every byte outside printable ASCII except TAB, CR and LF.
    public func isBreaker(_ byte: UInt8) -> Bool {
        !ASCII.isPrintable(byte) && byte != ASCII.tab
    }

    /// Two digits, `A` and a sign (`01A+`, `02A-`).
    public func isFrameStart(in line: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        guard offset + 3 < line.count else { return false }
        return ASCII.isDigit(line[offset]) && ASCII.isDigit(line[offset + 1])
            && line[offset + 2] == UInt8(ascii: "A")
            && (line[offset + 3] == ASCII.plus || line[offset + 3] == ASCII.minus)
    }

    public func parse(_ line: UnsafeRawBufferPointer) -> LineParse {
        guard let signOffset = line.firstIndex(where: { $0 == ASCII.plus || $0 == ASCII.minus }),
              (1...4).contains(signOffset)
        else { return .failure(.malformedFrame) }
        let header = UnsafeRawBufferPointer(rebasing: line[..<signOffset])
        guard header.allSatisfy(ASCII.isDigitOrUppercase),
              let value = try? ExactDecimal(parsingASCII: UnsafeRawBufferPointer(rebasing: line[signOffset...]))
        else { return .failure(.malformedFrame) }
        return .reading(Reading(value: value, unit: nil, channel: Self.channel(header: header)))
    }

    /// "0"…"9", made once: the channel of nearly every frame is one of them.
    private static let digitNames = (0...9).map(String.init)

    /// The channel a header names: `01A` → `1`, `0A12` → `12`; other headers name none.
    static func channel(header: UnsafeRawBufferPointer) -> String? {
        let letterA = UInt8(ascii: "A")
        if header.count == 3, ASCII.isDigit(header[0]), ASCII.isDigit(header[1]), header[2] == letterA {
            return digitNames[Int(header[1] - UInt8(ascii: "0"))]
        }
        if header.count >= 3, header[0] == UInt8(ascii: "0"), header[1] == letterA {
            let digits = header.dropFirst(2)
            guard digits.allSatisfy(ASCII.isDigit) else { return nil }
            let significant = digits.drop { $0 == UInt8(ascii: "0") }
            return significant.isEmpty ? "0" : String(decoding: significant, as: UTF8.self)
        }
        return nil
    }
}
