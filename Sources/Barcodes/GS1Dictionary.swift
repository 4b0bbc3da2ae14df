/// The character set of a GS1 component (GS1 General Specifications §7.11).
public enum GS1CharacterSet: Sendable {
    /// `N`: digits.
    case numeric
    /// `X`: GS1 AI encodable character set 82.
    case cset82
    /// `Y`: character set 39 (`#`, `-`, `/`, digits, upper-case letters).
    case cset39
    /// `Z`: base64url (`A-Z a-z 0-9 - _`), with `=` padding only at the end.
    case cset64

    /// Whether the byte belongs to the set (cset64's padding is checked by the element parser).
    func allows(_ byte: UInt8) -> Bool {
        Self.membership[Int(byte)] & mask != 0
    }

    private var mask: UInt8 {
        switch self {
        case .numeric: 1
        case .cset82: 2
        case .cset39: 4
        case .cset64: 8
        }
    }

    /// Per byte, one bit per set it belongs to.
    private static let membership: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        func add(_ characters: String, _ set: GS1CharacterSet) {
            for byte in characters.utf8 { table[Int(byte)] |= set.mask }
        }
        let digits = "0123456789"
        let upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        let lower = "abcdefghijklmnopqrstuvwxyz"
        add(digits, .numeric)
        add("!\"%&'()*+,-./" + digits + ":;<=>?" + upper + "_" + lower, .cset82)
        add("#-/" + digits + upper, .cset39)
        add(digits + upper + lower + "-_", .cset64)
        return table
    }()
}

/// One part of an AI's data field: its character set, length and the linters its content must
/// pass, as the GS1 Barcode Syntax Dictionary specifies it.
public struct GS1Component: Sendable {
    public let characterSet: GS1CharacterSet
    public let minimumLength: Int
    public let maximumLength: Int
    /// Optional parts may be left out at the end of the data.
    public let isOptional: Bool
    public let linters: [GS1Linter]

    init(_ characterSet: GS1CharacterSet, _ minimumLength: Int, _ maximumLength: Int, optional: Bool, _ linters: [GS1Linter]) {
        self.characterSet = characterSet
        self.minimumLength = minimumLength
        self.maximumLength = maximumLength
        isOptional = optional
        self.linters = linters
    }
}

/// One Application Identifier of the GS1 Barcode Syntax Dictionary. A class: messages refer to
/// the one shared definition instead of copying its strings and lists.
public final class GS1AIDefinition: Sendable {
    /// The AI, 2–4 digits.
    public let ai: String
    /// The data title (`GTIN`, `BATCH/LOT`, `NET WEIGHT (kg)`).
    public let title: String
    /// Whether the AI is in the predefined-length table: no separator needed after it.
    public let hasPredefinedLength: Bool
    public let components: [GS1Component]
    /// `req=`: each inner list is one requirement, met when all AIs (or patterns such as
    /// `35nn`) of one of its alternatives are present.
    public let requirements: [[[String]]]
    /// `ex=`: AIs (or patterns) that may not appear together with this one.
    public let exclusions: [String]
    /// For measure AIs (31nn–36nn): the unit of the value, from the title (`kg`, `m²`).
    public let unit: String?
    /// Fewest characters the data field may have (mandatory components at their minimum).
    public let minimumLength: Int
    /// Most characters the data field may have.
    public let maximumLength: Int
    /// The AI as a number tagged with its length (see ``AIPattern``), for matching requisites
    /// and exclusions without string work.
    let code: Int
    let requiredPatterns: [[[AIPattern]]]
    let excludedPatterns: [AIPattern]

    init(_ ai: String, _ title: String, predefinedLength: Bool, _ components: [GS1Component], requires: [[[String]]], excludes: [String], unit: String?) {
        self.ai = ai
        self.title = title
        hasPredefinedLength = predefinedLength
        self.components = components
        requirements = requires
        exclusions = excludes
        self.unit = unit
        minimumLength = components.filter { !$0.isOptional }.reduce(0) { $0 + $1.minimumLength }
        maximumLength = components.reduce(0) { $0 + $1.maximumLength }
        code = AIPattern(ai).code
        requiredPatterns = requires.map { $0.map { $0.map(AIPattern.init) } }
        excludedPatterns = excludes.map(AIPattern.init)
    }

    /// Whether the data field has one length only (all parts mandatory and fixed): true for the
    /// predefined-length AIs and for others such as 7003, which must then be followed by a
    /// separator unless they end the data.
    var isFixedLength: Bool { minimumLength == maximumLength }

    /// For AIs whose last digit gives the decimal places of the value (31nn–36nn measures,
    /// 390n–395n amounts and percentages), that digit.
    public var impliedDecimalPlaces: Int? {
        guard code / 100_000 == 4 else { return nil }
        let number = code % 100_000
        guard (3100...3699).contains(number) || (3900...3959).contains(number) else { return nil }
        return number % 10
    }
}

/// An AI or a dictionary pattern of AIs (`310n`, `35nn`: `n` any digit) as numbers, so that a
/// message's requisites and exclusions are checked without building strings.
struct AIPattern: Sendable, Hashable {
    let length: Int
    /// The digits before the wildcards.
    let prefix: Int
    /// 10 to the number of wildcards.
    let divisor: Int

    init(_ text: String) {
        var prefix = 0
        var divisor = 1
        for byte in text.utf8 {
            if byte == UInt8(ascii: "n") {
                divisor *= 10
            } else {
                prefix = prefix * 10 + Int(byte &- 0x30)
            }
        }
        length = text.utf8.count
        self.prefix = prefix
        self.divisor = divisor
    }

    /// An AI's number tagged with its length: `01` and `0001` differ.
    var code: Int { length * 100_000 + prefix }

    func matches(_ code: Int) -> Bool {
        code / 100_000 == length && (code % 100_000) / divisor == prefix
    }
}

/// The GS1 Barcode Syntax Dictionary as generated into Floorgate (GS1Dictionary+Entries.swift).
public enum GS1Dictionary {
    /// How many AIs the generated table defines.
    public static var entryCount: Int { entries.count }

    /// The definition of an AI given as its digits, or nil when the dictionary has none.
    public static func definition(of ai: String) -> GS1AIDefinition? {
        let bytes = Array(ai.utf8)
        guard (2...4).contains(bytes.count), let index = index(of: bytes[...]) else { return nil }
        return entries[index]
    }

    /// The definition of an AI given as its number (``AIPattern/code``).
    static func definition(code: Int) -> GS1AIDefinition? {
        let length = code / 100_000
        guard (2...4).contains(length) else { return nil }
        let slot = lookup[offset(forLength: length) + code % 100_000]
        return slot < 0 ? nil : entries[Int(slot)]
    }

    /// The entry of the AI that `data` starts with. AIs are prefix-free, so trying 2, 3 and 4
    /// digits finds at most one.
    static func definition(startingAt data: ArraySlice<UInt8>) -> GS1AIDefinition? {
        for length in 2...4 where data.count >= length {
            if let index = index(of: data.prefix(length)) { return entries[index] }
        }
        return nil
    }

    private static func index(of digits: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in digits {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        let slot = lookup[offset(forLength: digits.count) + value]
        return slot < 0 ? nil : Int(slot)
    }

    private static func offset(forLength length: Int) -> Int {
        switch length {
        case 2: 0
        case 3: 100
        default: 1100
        }
    }

    /// AI → entry index, by length then numeric value: 100 + 1000 + 10000 slots, -1 where no AI.
    private static let lookup: [Int16] = {
        var table = [Int16](repeating: -1, count: 11_100)
        for (index, entry) in entries.enumerated() {
            let digits = Array(entry.ai.utf8)
            let value = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            table[offset(forLength: digits.count) + value] = Int16(index)
        }
        return table
    }()
}

extension GS1Dictionary {
    /// The entries of the generated ``table``, read once at first use.
    static let entries: [GS1AIDefinition] = table.split(separator: "\n").compactMap(GS1AIDefinition.init(tableLine:))
}

extension GS1AIDefinition {
    /// One line of the generated table; nil for a line that does not read (the tests check that
    /// every line does).
    convenience init?(tableLine line: Substring) {
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 7 else { return nil }
        let components = fields[2].split(separator: " ").map(GS1Component.init(tableField:))
        guard !components.isEmpty, components.allSatisfy({ $0 != nil }) else { return nil }
        let requirements = fields[3].split(separator: ";").map { list in
            list.split(separator: ",").map { alternative in alternative.split(separator: "+").map(String.init) }
        }
        self.init(
            fields[0], fields[6], predefinedLength: fields[1] == "P", components.compactMap { $0 },
            requires: requirements, excludes: fields[4].split(separator: ",").map(String.init),
            unit: fields[5].isEmpty ? nil : fields[5]
        )
    }
}

extension GS1Component {
    /// `N14-14:csum,gcppos2`, `X1-20`, `N6-6?:yymmdd` (`?`: optional).
    init?(tableField field: Substring) {
        let parts = field.split(separator: ":", maxSplits: 1)
        var format = parts[0]
        let characterSet: GS1CharacterSet
        switch format.first {
        case "N": characterSet = .numeric
        case "X": characterSet = .cset82
        case "Y": characterSet = .cset39
        case "Z": characterSet = .cset64
        default: return nil
        }
        format = format.dropFirst()
        let optional = format.hasSuffix("?")
        if optional { format = format.dropLast() }
        let lengths = format.split(separator: "-").compactMap { Int($0) }
        let linters = parts.count == 2 ? parts[1].split(separator: ",").map { GS1Linter(rawValue: String($0)) } : []
        guard lengths.count == 2, linters.allSatisfy({ $0 != nil }) else { return nil }
        self.init(characterSet, lengths[0], lengths[1], optional: optional, linters.compactMap { $0 })
    }
}

/// Code lists the GS1 linters check against (ISOCodeLists.swift is generated from iso-codes).
enum ISOCodeLists {
    static let countryNumeric = codes(countryNumericText)
    static let countryAlpha2 = codes(countryAlpha2Text)
    static let currencyNumeric = codes(currencyNumericText)

    private static func codes(_ text: String) -> Set<String> {
        Set(text.split(whereSeparator: \.isWhitespace).map(String.init))
    }
}
