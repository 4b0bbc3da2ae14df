/// The specification limits of a data-collection point, in one unit: a lower and an upper limit,
/// either of which may be absent, both inclusive. Written either as limits or as a nominal value
/// with ± tolerances. A torque point may also carry an angle window.
public struct Limits: Sendable, Hashable {
    public var unit: MeasurementUnit
    /// The nominal value when the limits were written as nominal ± tolerances.
    public var nominal: ExactDecimal?
    public var lower: ExactDecimal?
    public var upper: ExactDecimal?
    /// For torque points: the window the final angle must fall in, in degrees.
    public var angleWindow: AngleWindow?

    /// Limits written as lower and upper specification limits (either may be nil).
    public init(lower: ExactDecimal?, upper: ExactDecimal?, unit: MeasurementUnit, angleWindow: AngleWindow? = nil) {
        self.unit = unit
        self.nominal = nil
        self.lower = lower
        self.upper = upper
        self.angleWindow = angleWindow
    }

    /// Limits written as nominal − `minus` … nominal + `plus`; a nil tolerance leaves that side
    /// open. Tolerances are magnitudes: `minus: 0.05` means the lower limit is nominal − 0.05.
    public init(
        nominal: ExactDecimal,
        minus: ExactDecimal?,
        plus: ExactDecimal?,
        unit: MeasurementUnit,
        angleWindow: AngleWindow? = nil
    ) throws(ConversionError) {
        self.unit = unit
        self.nominal = nominal
        self.angleWindow = angleWindow
        do {
            let center = WideDecimal(nominal)
            lower = try minus.map { tolerance throws(ArithmeticOverflow) in
                try center.adding(WideDecimal(tolerance).absolute().negated()).exactDecimal()
            }
            upper = try plus.map { tolerance throws(ArithmeticOverflow) in
                try center.adding(WideDecimal(tolerance).absolute()).exactDecimal()
            }
        } catch {
            throw .outOfRange
        }
    }

    /// The verdict for a measurement against these limits, exactly: the measurement is converted
    /// onto the same base as the limits with exact factors, never rounded. A torque point with an
    /// angle window needs the angle too; the torque is judged first, then the angle.
    public func verdict(for measurement: Measurement, angle: ExactDecimal? = nil) -> Verdict {
        guard measurement.unit.quantity == unit.quantity else {
            return .invalid(reason: "a \(measurement.unit.quantity) in \(measurement.unit.code) cannot be checked against \(unit.quantity) limits in \(unit.code)")
        }
        do {
            if let lower, try measurement.order(comparedTo: Measurement(lower, unit)) == .less {
                return .failLow
            }
            if let upper, try measurement.order(comparedTo: Measurement(upper, unit)) == .greater {
                return .failHigh
            }
        } catch {
            return .invalid(reason: "\(measurement) cannot be compared with limits in \(unit.code): \(error)")
        }
        guard let angleWindow else { return .pass }
        guard let angle else {
            return .invalid(reason: "this torque point has an angle window and the result carries no angle")
        }
        return angleWindow.verdict(for: angle)
    }
}

/// The window a tightening's final angle must fall in, in degrees, both ends inclusive.
public struct AngleWindow: Sendable, Hashable {
    public var minimum: ExactDecimal?
    public var maximum: ExactDecimal?

    public init(minimum: ExactDecimal?, maximum: ExactDecimal?) {
        self.minimum = minimum
        self.maximum = maximum
    }

    func verdict(for angle: ExactDecimal) -> Verdict {
        if let minimum, angle.valueOrder(comparedTo: minimum) == .less { return .failLow }
        if let maximum, angle.valueOrder(comparedTo: maximum) == .greater { return .failHigh }
        return .pass
    }
}

/// The outcome of checking a measurement against its point's limits.
public enum Verdict: Sendable, Hashable, CustomStringConvertible {
    case pass
    case failLow
    case failHigh
    /// The measurement could not be judged (wrong kind of quantity, no active step, …), with the
    /// reason in words an operator understands.
    case invalid(reason: String)

    /// The verdict's word in JSON and the record: `pass`, `fail_low`, `fail_high`, `invalid`.
    public var code: String {
        switch self {
        case .pass: "pass"
        case .failLow: "fail_low"
        case .failHigh: "fail_high"
        case .invalid: "invalid"
        }
    }

    /// Whether the measurement failed its limits (low or high).
    public var isFailure: Bool { self == .failLow || self == .failHigh }

    public var description: String {
        if case .invalid(let reason) = self { return "invalid: \(reason)" }
        return code
    }
}
