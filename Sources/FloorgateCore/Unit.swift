/// What a unit measures. Values convert only between units of the same kind.
public enum QuantityKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case length, torque, angle, force, mass, temperature, dimensionless

    public var description: String { rawValue }
}

/// The closed set of units Floorgate records (INTERFACES.md "Units"). The raw value is the ASCII
/// code that travels in JSON, profiles and the record (`N.m`, `lbf.in`, `Cel`).
///
/// Devices spell units many ways; each decoder maps its device's spellings onto these codes.
public enum MeasurementUnit: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    // length
    case millimetre = "mm"
    case micrometre = "um"
    case inch = "in"
    // torque
    case newtonMetre = "N.m"
    case newtonCentimetre = "N.cm"
    case millinewtonMetre = "mN.m"
    case kilonewtonMetre = "kN.m"
    case poundForceFoot = "lbf.ft"
    case poundForceInch = "lbf.in"
    case ounceForceInch = "ozf.in"
    case kilogramForceCentimetre = "kgf.cm"
    case kilogramForceMetre = "kgf.m"
    case gramForceCentimetre = "gf.cm"
    // angle
    case degree = "deg"
    // force
    case newton = "N"
    case kilonewton = "kN"
    case poundForce = "lbf"
    case kilogramForce = "kgf"
    case ounceForce = "ozf"
    case gramForce = "gf"
    // mass
    case gram = "g"
    case kilogram = "kg"
    case pound = "lb"
    case ounce = "oz"
    // temperature
    case celsius = "Cel"
    case fahrenheit = "degF"
    // dimensionless
    case one = "1"
    case percent = "%"

    /// The unit's code (`N.m`), as INTERFACES.md writes it.
    public var code: String { rawValue }

    public var description: String { rawValue }

    /// The unit for a code of the closed set, or nil for any other spelling.
    public init?(code: some StringProtocol) {
        self.init(rawValue: String(code))
    }

    /// Every code of the closed set, in table order, for help texts and error messages.
    public static var allCodes: [String] { allCases.map(\.code) }

    /// The kind of quantity the unit measures.
    public var quantity: QuantityKind {
        switch self {
        case .millimetre, .micrometre, .inch:
            .length
        case .newtonMetre, .newtonCentimetre, .millinewtonMetre, .kilonewtonMetre, .poundForceFoot,
             .poundForceInch, .ounceForceInch, .kilogramForceCentimetre, .kilogramForceMetre,
             .gramForceCentimetre:
            .torque
        case .degree:
            .angle
        case .newton, .kilonewton, .poundForce, .kilogramForce, .ounceForce, .gramForce:
            .force
        case .gram, .kilogram, .pound, .ounce:
            .mass
        case .celsius, .fahrenheit:
            .temperature
        case .one, .percent:
            .dimensionless
        }
    }

    /// How a value in this unit maps onto its kind's base scale: `base = value × factor + offset`.
    ///
    /// Bases: mm, N·m, degree, N, g, the number 1, and for temperature nine times the Celsius value
    /// (so that both Celsius and Fahrenheit map with terminating decimals: 9 × °C = 5 × °F − 160).
    /// Every factor is exact, derived from 1 in = 25.4 mm, 1 ft = 0.3048 m, 1 lbf = 4.4482216152605 N,
    /// 1 kgf = 9.80665 N, 1 ozf = 1/16 lbf, 1 lb = 453.59237 g (PROTOCOLS.md §3.6).
    var toBase: (factor: ExactDecimal, offset: ExactDecimal) {
        switch self {
        case .millimetre: (ExactDecimal(1, scale: 0), .zero)
        case .micrometre: (ExactDecimal(1, scale: 3), .zero)
        case .inch: (ExactDecimal(254, scale: 1), .zero)
        case .newtonMetre: (ExactDecimal(1, scale: 0), .zero)
        case .newtonCentimetre: (ExactDecimal(1, scale: 2), .zero)
        case .millinewtonMetre: (ExactDecimal(1, scale: 3), .zero)
        case .kilonewtonMetre: (ExactDecimal(1000, scale: 0), .zero)
        case .poundForceFoot: (ExactDecimal(13_558_179_483_314_004, scale: 16), .zero)
        case .poundForceInch: (ExactDecimal(1_129_848_290_276_167, scale: 16), .zero)
        case .ounceForceInch: (ExactDecimal(706_155_181_422_604_375, scale: 20), .zero)
        case .kilogramForceCentimetre: (ExactDecimal(980_665, scale: 7), .zero)
        case .kilogramForceMetre: (ExactDecimal(980_665, scale: 5), .zero)
        case .gramForceCentimetre: (ExactDecimal(980_665, scale: 10), .zero)
        case .degree: (ExactDecimal(1, scale: 0), .zero)
        case .newton: (ExactDecimal(1, scale: 0), .zero)
        case .kilonewton: (ExactDecimal(1000, scale: 0), .zero)
        case .poundForce: (ExactDecimal(44_482_216_152_605, scale: 13), .zero)
        case .kilogramForce: (ExactDecimal(980_665, scale: 5), .zero)
        case .ounceForce: (ExactDecimal(27_801_385_095_378_125, scale: 17), .zero)
        case .gramForce: (ExactDecimal(980_665, scale: 8), .zero)
        case .gram: (ExactDecimal(1, scale: 0), .zero)
        case .kilogram: (ExactDecimal(1000, scale: 0), .zero)
        case .pound: (ExactDecimal(45_359_237, scale: 5), .zero)
        case .ounce: (ExactDecimal(28_349_523_125, scale: 9), .zero)
        case .celsius: (ExactDecimal(9, scale: 0), .zero)
        case .fahrenheit: (ExactDecimal(5, scale: 0), ExactDecimal(-160, scale: 0))
        case .one: (ExactDecimal(1, scale: 0), .zero)
        case .percent: (ExactDecimal(1, scale: 2), .zero)
        }
    }
}
