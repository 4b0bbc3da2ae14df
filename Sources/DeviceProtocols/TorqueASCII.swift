public import FloorgateCore

/// What differs between torque meters and tools that print one reading per line: which unit
/// spellings they use and which lines frame a report. Norbar, Mark-10, Sturtevant Richmont and
/// Mecmesin all fit ``standard``; a device with other spellings needs a spec, not a decoder.
public struct TorqueASCIISpec: Sendable, Hashable {
    /// Device unit spellings to units. Matching ignores case, `.`, `·`, `-`, `*` and spaces, so
    /// `"nm"` covers `N.m`, `Nm`, `N-m` and `N·m`.
    public var unitAliases: [String: MeasurementUnit]
    /// Lines starting with one of these are report framing (`device_info`), not readings.
    public var reportFramingPrefixes: [String]
    /// The CSV mode words that mark a peak value (Sturtevant Richmont `PEAK`).
    public var peakModes: Set<String>

    public init(unitAliases: [String: MeasurementUnit], reportFramingPrefixes: [String], peakModes: Set<String>) {
        self.unitAliases = unitAliases
        self.reportFramingPrefixes = reportFramingPrefixes
        self.peakModes = peakModes
    }

    /// The alias table of PROTOCOLS.md §3.5 and the Sturtevant Richmont report framing.
    public static let standard = TorqueASCIISpec(
        unitAliases: [
            "nm": .newtonMetre,
            "ncm": .newtonCentimetre, "cnm": .newtonCentimetre,
            "knm": .kilonewtonMetre,
            "lbfft": .poundForceFoot, "lbft": .poundForceFoot, "ftlb": .poundForceFoot, "ftlbf": .poundForceFoot,
            "lbfin": .poundForceInch, "lbin": .poundForceInch, "inlb": .poundForceInch, "inlbf": .poundForceInch,
            "ozfin": .ounceForceInch, "ozin": .ounceForceInch, "inoz": .ounceForceInch, "inozf": .ounceForceInch,
            "kgfcm": .kilogramForceCentimetre, "kgcm": .kilogramForceCentimetre,
            "kgfm": .kilogramForceMetre, "kgm": .kilogramForceMetre, "kpm": .kilogramForceMetre,
            "mnm": .millinewtonMetre,
            "gfcm": .gramForceCentimetre,
            "n": .newton, "kn": .kilonewton, "lbf": .poundForce, "kgf": .kilogramForce, "ozf": .ounceForce,
            "gf": .gramForce,
        ],
        reportFramingPrefixes: ["Start Report", "End Report", "Records in Report"],
        peakModes: ["PEAK"]
    )
}

/// A unit spelling folded for lookup without building a string: lower case, with `.`, `-`, `*`,
/// spaces and the middle dot `·` (Latin-1 0xB7 or UTF-8 C2 B7) removed, packed into 16 bytes.
/// Spellings with other non-ASCII bytes, or longer than 16 bytes once folded, have no key (and so
/// are `unknown unit`).
struct FoldedSpelling: Equatable, Sendable {
    private var low: UInt64 = 0
    private var high: UInt64 = 0

    init?(_ bytes: UnsafeRawBufferPointer) {
        var count = 0
        var index = 0
        while index < bytes.count {
            var byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "*"), ASCII.space, 0xB7:
                continue
            case 0xC2 where index < bytes.count && bytes[index] == 0xB7:
                index += 1
                continue
            case 0x80...:
                return nil
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                byte += 0x20
            default:
                break
            }
            guard count < 16 else { return nil }
            if count < 8 {
                low |= UInt64(byte) << UInt64(8 * count)
            } else {
                high |= UInt64(byte) << UInt64(8 * (count - 8))
            }
            count += 1
        }
    }

    init?(_ text: String) {
        guard let folded = Array(text.utf8).withUnsafeBytes({ FoldedSpelling($0) }) else { return nil }
        self = folded
    }
}

/// Protocol `torque-ascii`: torque meters and tools that print `value [unit]` per line, CR or
/// CR LF (PROTOCOLS.md §3): Norbar `368.4 N.m`, Mark-10 `-18.78 lbFin`, Sturtevant Richmont CSV
/// records `+41.2597,In.oz,PEAK,…`, Mecmesin `0.85 N.cm`.
///
/// A unit spelling outside the spec's table is `unknown unit`: the reading is never guessed.
public struct TorqueASCIIGrammar: LineGrammar {
    public let maximumLineLength = 256
    public let spec: TorqueASCIISpec
    /// The spec's aliases by folded spelling, so a line's unit is found without building strings.
    /// A short list searched in order beats hashing for the few dozen spellings a spec has.
    private let units: [(spelling: FoldedSpelling, unit: MeasurementUnit)]
    private let reportFramingPrefixes: [[UInt8]]

    public init(spec: TorqueASCIISpec = .standard) {
        self.spec = spec
        units = spec.unitAliases.compactMap { spelling, unit in
            FoldedSpelling(spelling).map { ($0, unit) }
        }
        reportFramingPrefixes = spec.reportFramingPrefixes.map { Array($0.utf8) }
    }

    /// Control bytes other than TAB, CR and LF, and DEL. Bytes 0x80–0xFF are data (a Latin-1 `·`).
    public func isBreaker(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != ASCII.tab) || byte == 0x7F
    }

    public func parse(_ untrimmed: UnsafeRawBufferPointer) -> LineParse {
        let line = ASCII.trimmingSpaces(untrimmed)
        if reportFramingPrefixes.contains(where: { line.starts(with: $0) }) {
            return .status(DeviceStatus(state: .deviceInfo, message: ASCII.text(line)))
        }
        if line.count > 1, line[0] == UInt8(ascii: "*"), line.dropFirst().allSatisfy(ASCII.isDigit) {
            return .status(DeviceStatus(state: .deviceError, message: ASCII.text(line)))
        }
        if line.contains(UInt8(ascii: ",")) {
            return parseRecord(line)
        }
        let isValueByte: (UInt8) -> Bool = { ASCII.isDigit($0) || $0 == ASCII.point || $0 == ASCII.plus || $0 == ASCII.minus }
        let valueEnd = line.firstIndex { !isValueByte($0) } ?? line.count
        return reading(
            value: UnsafeRawBufferPointer(rebasing: line[..<valueEnd]),
            unit: ASCII.trimmingSpaces(UnsafeRawBufferPointer(rebasing: line[valueEnd...])),
            mode: nil
        )
    }

    /// A Sturtevant Richmont record: value, unit, mode, then fields read by position only.
    private func parseRecord(_ line: UnsafeRawBufferPointer) -> LineParse {
        let fields = line.split(separator: UInt8(ascii: ","), maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count >= 2 else { return .failure(.malformedFrame) }
        return reading(
            value: ASCII.trimmingSpaces(UnsafeRawBufferPointer(rebasing: fields[0])),
            unit: ASCII.trimmingSpaces(UnsafeRawBufferPointer(rebasing: fields[1])),
            mode: fields.count > 2 ? ASCII.trimmingSpaces(UnsafeRawBufferPointer(rebasing: fields[2])) : nil
        )
    }

    private func reading(value: UnsafeRawBufferPointer, unit spelling: UnsafeRawBufferPointer, mode: UnsafeRawBufferPointer?) -> LineParse {
        guard Self.isStrictNumber(value), let number = try? ExactDecimal(parsingASCII: value) else {
            return .failure(.malformedFrame)
        }
        var unit: MeasurementUnit?
        if !spelling.isEmpty {
            guard let key = FoldedSpelling(spelling), let known = units.first(where: { $0.spelling == key }) else {
                return .failure(.unknownUnit)
            }
            unit = known.unit
        }
        let peak: Peak? = mode.map { spec.peakModes.contains(ASCII.text($0)) ? .max : nil } ?? nil
        return .reading(Reading(value: number, unit: unit, peak: peak))
    }

    /// `[+-]?digits[.digits]`: the value forms torque meters print.
    static func isStrictNumber(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        if let first = bytes.first, first == ASCII.plus || first == ASCII.minus { index = 1 }
        var digitsInPart = 0
        var sawPoint = false
        while index < bytes.count {
            let byte = bytes[index]
            if ASCII.isDigit(byte) {
                digitsInPart += 1
            } else if byte == ASCII.point && !sawPoint && digitsInPart > 0 {
                sawPoint = true
                digitsInPart = 0
            } else {
                return false
            }
            index += 1
        }
        return digitsInPart > 0
    }
}
