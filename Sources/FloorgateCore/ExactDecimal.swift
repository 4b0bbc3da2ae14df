/// An exact decimal number that keeps the scale it was written with.
///
/// A device that sends `+0012.340` means 12.340 at a resolution of 0.001, not 12.34: the trailing
/// zero states resolution, so `ExactDecimal` keeps it. Two values with different scales are
/// different *representations* (`==` is false) and may still be equal *in value*
/// (``isEqualInValue(to:)``). There is no binary floating point anywhere on this path.
///
/// The sign is kept as written, so a gauge's `-0.000` at a zero crossing survives; in value it
/// equals zero.
public struct ExactDecimal: Sendable, Hashable, CustomStringConvertible {
    /// The digits without the decimal point, as an unsigned integer (`12.340` → 12340).
    public let digits: UInt64
    /// How many of ``digits`` stand after the decimal point (`12.340` → 3).
    public let scale: Int
    /// Whether a minus sign was written (true for `-0.000` too).
    public let isNegative: Bool

    /// The largest scale an `ExactDecimal` may have. Device values use far fewer; conversion
    /// factors such as 1 ozf·in = 0.00706155181422604375 N·m use up to 20.
    public static let maximumScale = 24

    /// Creates a value from its digits, scale and sign, or returns nil when the scale is outside
    /// `0...maximumScale`.
    public init?(digits: UInt64, scale: Int, isNegative: Bool = false) {
        guard (0...Self.maximumScale).contains(scale) else { return nil }
        self.digits = digits
        self.scale = scale
        self.isNegative = isNegative
    }

    /// Creates a value from a signed significand and a scale: `ExactDecimal(254, scale: 1)` is 25.4.
    /// The scale is clamped to `0...maximumScale`; use it for constants, not for device input.
    public init(_ significand: Int64, scale: Int) {
        self.digits = significand.magnitude
        self.scale = min(max(scale, 0), Self.maximumScale)
        self.isNegative = significand < 0
    }

    /// Zero at scale 0.
    public static let zero = ExactDecimal(0, scale: 0)

    /// Whether the value is zero (`0`, `0.000` and `-0.000` all are).
    public var isZero: Bool { digits == 0 }

    /// The step of the last digit: `12.340` → `0.001`, `150` → `1`.
    public var resolution: ExactDecimal {
        ExactDecimal(1, scale: scale)
    }

    /// The value as the canonical decimal string of INTERFACES.md: a minus sign when one was
    /// written, no plus sign, no leading zeros but one `0` before the point, trailing zeros kept.
    public var description: String {
        var text = String(digits)
        if scale > 0 {
            if text.count <= scale {
                text = String(repeating: "0", count: scale - text.count + 1) + text
            }
            text.insert(".", at: text.index(text.endIndex, offsetBy: -scale))
        }
        return isNegative ? "-" + text : text
    }

    /// Whether both denote the same number, whatever their scales and signs of zero
    /// (`12.340` and `12.34`, `0.000` and `-0`).
    public func isEqualInValue(to other: ExactDecimal) -> Bool {
        WideDecimal(self).order(comparedTo: WideDecimal(other)) == .equal
    }

    /// How this value compares with another, exactly.
    public func valueOrder(comparedTo other: ExactDecimal) -> ValueOrder {
        WideDecimal(self).order(comparedTo: WideDecimal(other))
    }
}

/// The outcome of comparing two exact quantities.
public enum ValueOrder: Sendable, Hashable {
    case less, equal, greater
}

// MARK: - Parsing

/// Why a text is not a decimal number.
public enum DecimalParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// There was nothing to parse, or only a sign or a point.
    case noDigits
    /// A character that is neither a digit, a leading sign nor the one decimal point; `offset`
    /// counts from 0.
    case unexpectedCharacter(offset: Int)
    /// More significant digits than an unsigned 64-bit integer holds, or more than
    /// ``ExactDecimal/maximumScale`` digits after the point.
    case tooManyDigits

    public var description: String {
        switch self {
        case .noDigits: "no digits"
        case .unexpectedCharacter(let offset): "unexpected character at position \(offset + 1)"
        case .tooManyDigits: "too many digits"
        }
    }
}

extension ExactDecimal {
    /// Parses a decimal string as devices and configuration files write it: an optional `+` or
    /// `-`, digits with at most one `.`, at least one digit (`+0012.340`, `-000.0019`, `.5`, `7.`).
    public init(parsing text: some StringProtocol) throws(DecimalParseError) {
        let result = Array(text.utf8).withUnsafeBytes { bytes in
            Result { () throws(DecimalParseError) in try ExactDecimal(parsingASCII: bytes) }
        }
        self = try result.get()
    }

    /// Parses the ASCII bytes of a decimal number (same grammar as ``init(parsing:)``) without
    /// allocating; decoders call this on the bytes of a frame.
    public init(parsingASCII bytes: UnsafeRawBufferPointer) throws(DecimalParseError) {
        var index = 0
        var negative = false
        if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            negative = first == UInt8(ascii: "-")
            index = 1
        }
        var digits: UInt64 = 0
        var digitCount = 0
        var pointOffset: Int?
        while index < bytes.count {
            let byte = bytes[index]
            let digit = byte &- UInt8(ascii: "0")
            if digit <= 9 {
                if digitCount < 19 {  // 19 digits always fit in 64 bits
                    digits = digits &* 10 &+ UInt64(digit)
                } else {
                    let (times10, overflowA) = digits.multipliedReportingOverflow(by: 10)
                    let (sum, overflowB) = times10.addingReportingOverflow(UInt64(digit))
                    guard !overflowA && !overflowB else { throw .tooManyDigits }
                    digits = sum
                }
                digitCount += 1
            } else if byte == UInt8(ascii: "."), pointOffset == nil {
                pointOffset = index
            } else {
                throw .unexpectedCharacter(offset: index)
            }
            index += 1
        }
        guard digitCount > 0 else { throw .noDigits }
        let scale = pointOffset.map { bytes.count - 1 - $0 } ?? 0
        guard scale <= Self.maximumScale else { throw .tooManyDigits }
        self.digits = digits
        self.scale = scale
        self.isNegative = negative
    }
}
