/// A measured quantity: an exact decimal value in a unit of the closed set. Its resolution is the
/// step of the value's last digit, as the device reported it.
public struct Measurement: Sendable, Hashable, CustomStringConvertible {
    public var value: ExactDecimal
    public var unit: MeasurementUnit

    public init(_ value: ExactDecimal, _ unit: MeasurementUnit) {
        self.value = value
        self.unit = unit
    }

    /// The step of the last digit the device sent (`12.340 mm` → `0.001 mm`).
    public var resolution: Measurement { Measurement(value.resolution, unit) }

    public var description: String { "\(value) \(unit.code)" }

    /// The same quantity in another unit of the same kind, computed exactly and rounded
    /// half-even once, to `scale` digits after the point.
    ///
    /// `25.40 mm` in inches at scale 4 is `1.0000 in`; `1 N.m` in lbf·ft at scale 6 is
    /// `0.737562 lbf.ft`.
    public func converted(to target: MeasurementUnit, scale: Int) throws(ConversionError) -> Measurement {
        guard unit.quantity == target.quantity else {
            throw .incompatibleUnits(from: unit, to: target)
        }
        guard (0...ExactDecimal.maximumScale).contains(scale) else { throw .outOfRange }
        do {
            let base = try baseValue()
            let (factor, offset) = target.toBase
            let shifted = try base.adding(WideDecimal(offset).negated())
            let result = try shifted.divided(by: WideDecimal(factor), roundedToScale: scale)
            return Measurement(try result.exactDecimal(), target)
        } catch {
            throw .outOfRange
        }
    }

    /// The value on its kind's base scale (see ``MeasurementUnit/toBase``), exactly.
    func baseValue() throws(ArithmeticOverflow) -> WideDecimal {
        let (factor, offset) = unit.toBase
        return try WideDecimal(value).multiplied(by: WideDecimal(factor)).adding(WideDecimal(offset))
    }

    /// Exact comparison with another measurement of the same kind, in any unit.
    public func order(comparedTo other: Measurement) throws(ConversionError) -> ValueOrder {
        guard unit.quantity == other.unit.quantity else {
            throw .incompatibleUnits(from: unit, to: other.unit)
        }
        do {
            return try baseValue().order(comparedTo: other.baseValue())
        } catch {
            throw .outOfRange
        }
    }
}

/// Why a measurement could not be converted or compared.
public enum ConversionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The two units measure different kinds of quantity (a torque and a length).
    case incompatibleUnits(from: MeasurementUnit, to: MeasurementUnit)
    /// The exact result needs more digits than Floorgate's decimal arithmetic holds (128 bits),
    /// or the requested scale is outside 0...24.
    case outOfRange

    public var description: String {
        switch self {
        case .incompatibleUnits(let from, let to):
            "\(from.code) is a \(from.quantity) unit and \(to.code) is a \(to.quantity) unit; they do not convert"
        case .outOfRange:
            "the value is out of the range of exact arithmetic"
        }
    }
}
