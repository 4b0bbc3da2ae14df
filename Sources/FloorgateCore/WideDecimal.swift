/// The arithmetic behind unit conversion and verdicts: a 128-bit significand with a decimal
/// scale. Sums and products of terminating decimals are exact; the one division (into a unit
/// whose factor does not divide evenly) rounds half-even, once, at the scale asked for.
/// Every operation that would leave 128 bits reports `ArithmeticOverflow` instead of wrapping.
struct WideDecimal: Sendable, Hashable {
    var significand: Int128
    var scale: Int

    init(significand: Int128, scale: Int) {
        self.significand = significand
        self.scale = scale
    }

    init(_ value: ExactDecimal) {
        let magnitude = Int128(value.digits)
        significand = value.isNegative ? -magnitude : magnitude
        scale = value.scale
    }

    /// 10^exponent for exponent in 0...38, or nil when it does not fit in 128 bits.
    static func powerOfTen(_ exponent: Int) -> Int128? {
        guard exponent >= 0 else { return nil }
        var result: Int128 = 1
        for _ in 0..<exponent {
            let (next, overflow) = result.multipliedReportingOverflow(by: 10)
            if overflow { return nil }
            result = next
        }
        return result
    }

    /// The significand rewritten at a larger scale, or nil when it leaves 128 bits.
    func significand(atScale target: Int) -> Int128? {
        guard target >= scale, let factor = Self.powerOfTen(target - scale) else { return nil }
        let (result, overflow) = significand.multipliedReportingOverflow(by: factor)
        return overflow ? nil : result
    }

    func adding(_ other: WideDecimal) throws(ArithmeticOverflow) -> WideDecimal {
        let target = max(scale, other.scale)
        guard let left = significand(atScale: target), let right = other.significand(atScale: target) else {
            throw ArithmeticOverflow()
        }
        let (sum, overflow) = left.addingReportingOverflow(right)
        if overflow { throw ArithmeticOverflow() }
        return WideDecimal(significand: sum, scale: target)
    }

    func negated() -> WideDecimal { WideDecimal(significand: -significand, scale: scale) }

    func absolute() -> WideDecimal { significand < 0 ? negated() : self }

    func multiplied(by other: WideDecimal) throws(ArithmeticOverflow) -> WideDecimal {
        let (product, overflow) = significand.multipliedReportingOverflow(by: other.significand)
        if overflow { throw ArithmeticOverflow() }
        return WideDecimal(significand: product, scale: scale + other.scale)
    }

    /// Exact comparison. When aligning the scales would overflow, the value being scaled up is
    /// larger in magnitude than anything 128 bits hold, so its sign alone decides.
    func order(comparedTo other: WideDecimal) -> ValueOrder {
        let target = max(scale, other.scale)
        guard let left = significand(atScale: target) else {
            return significand > 0 ? .greater : .less
        }
        guard let right = other.significand(atScale: target) else {
            return other.significand > 0 ? .less : .greater
        }
        if left < right { return .less }
        if left > right { return .greater }
        return .equal
    }

    /// `self / divisor`, rounded half-even to `targetScale` digits after the point.
    func divided(by divisor: WideDecimal, roundedToScale targetScale: Int) throws(ArithmeticOverflow) -> WideDecimal {
        guard divisor.significand != 0 else { throw ArithmeticOverflow() }
        // self / divisor × 10^targetScale = s × 10^(targetScale + divisor.scale − scale) / d
        let exponent = targetScale + divisor.scale - scale
        var numerator = significand
        var denominator = divisor.significand
        if exponent >= 0 {
            guard let factor = Self.powerOfTen(exponent) else { throw ArithmeticOverflow() }
            let (scaled, overflow) = numerator.multipliedReportingOverflow(by: factor)
            if overflow { throw ArithmeticOverflow() }
            numerator = scaled
        } else {
            guard let factor = Self.powerOfTen(-exponent) else { throw ArithmeticOverflow() }
            let (scaled, overflow) = denominator.multipliedReportingOverflow(by: factor)
            if overflow { throw ArithmeticOverflow() }
            denominator = scaled
        }
        let (quotient, remainder) = numerator.quotientAndRemainder(dividingBy: denominator)
        let twiceRemainderOrder = remainder.magnitude.compareHalf(of: denominator.magnitude)
        let roundsAway: Bool
        switch twiceRemainderOrder {
        case .less: roundsAway = false
        case .greater: roundsAway = true
        case .equal: roundsAway = quotient % 2 != 0
        }
        var result = quotient
        if roundsAway {
            let negative = (numerator < 0) != (denominator < 0)
            result += negative ? -1 : 1
        }
        return WideDecimal(significand: result, scale: targetScale)
    }

    /// The value as an ``ExactDecimal``, or an overflow when it needs more than 64 bits of digits.
    func exactDecimal() throws(ArithmeticOverflow) -> ExactDecimal {
        guard let digits = UInt64(exactly: significand.magnitude),
              let value = ExactDecimal(digits: digits, scale: scale, isNegative: significand < 0)
        else { throw ArithmeticOverflow() }
        return value
    }
}

/// A computation left the 128-bit range of exact arithmetic (a value absurdly large or precise
/// for any instrument).
struct ArithmeticOverflow: Error, Sendable, Hashable {}

extension UInt128 {
    /// Compares `2 × self` with `divisor` without computing `2 × self` (which could overflow).
    fileprivate func compareHalf(of divisor: UInt128) -> ValueOrder {
        // 2r < d  ⇔  r < d − r  (r < d always holds for a remainder)
        let rest = divisor - self
        if self < rest { return .less }
        if self > rest { return .greater }
        return .equal
    }
}
