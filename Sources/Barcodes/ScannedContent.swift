public import FloorgateCore

/// How scanned data is structured (INTERFACES.md `floorgate barcode parse`).
public enum ContentScheme: String, Sendable, Hashable {
    case gs1
    case iso15434
    case hibc
    case plain
}

/// One element of scanned content, by scheme.
public enum ContentElement: Sendable, Hashable {
    case gs1(GS1Element)
    case iso15434(ISO15434Element)
    case hibc(HIBCData)
}

/// What one scanned code holds: its symbology, its scheme, its elements and whether it is valid.
public struct ScannedContent: Sendable, Hashable {
    /// The text as scanned, AIM identifier included.
    public let input: String
    /// The AIM symbology identifier (`]C1`), or nil.
    public let aim: String?
    /// The symbology the AIM identifier names, or nil.
    public let symbology: String?
    public let scheme: ContentScheme
    public let elements: [ContentElement]
    /// Why the content is not valid, in words; empty when it is.
    public let errors: [String]

    public var isValid: Bool { errors.isEmpty }

    /// Parses scanned text. `assumeGS1` reads data that starts with a digit and carries no AIM
    /// identifier as GS1 element strings (`floorgate barcode parse --gs1`).
    public init(parsing input: String, assumeGS1: Bool = false) {
        self.input = input
        let bytes = Array(input.utf8)
        let aimLength = Self.aimLength(bytes, input)
        aim = aimLength > 0 ? String(decoding: bytes[..<aimLength], as: UTF8.self) : nil
        symbology = aim.flatMap(Symbology.name(aim:))
        let data = bytes[aimLength...]

        if data.starts(with: ISO15434.header) {
            scheme = .iso15434
            let parsed = ISO15434.parse(bytes, from: aimLength)
            elements = parsed.elements.map(ContentElement.iso15434)
            errors = parsed.errors
        } else if let aim, let length = Symbology.gtinLength(aim: aim) {
            scheme = .gs1
            let parsed = Self.gtin(data, expectedLength: length)
            elements = [.gs1(parsed.element)]
            errors = parsed.errors
        } else if aim.map(Symbology.carriesGS1ElementStrings) == true
                    || (assumeGS1 && aim == nil && data.first.map(Check.isDigit) == true) {
            scheme = .gs1
            let message = GS1ElementStrings.parse(bytes, from: aimLength)
            elements = message.elements.map(ContentElement.gs1)
            errors = message.errors
        } else if GS1ElementStrings.isBracketed(data) {
            scheme = .gs1
            let message = GS1ElementStrings.parseBracketed(Check.text(data))
            elements = message.elements.map(ContentElement.gs1)
            errors = message.errors
        } else if data.first == UInt8(ascii: "+"), case let text = Check.text(data), text.count >= 7 {
            scheme = .hibc
            let parsed = HIBC.parse(text)
            elements = [.hibc(parsed.data)]
            errors = parsed.errors
        } else {
            scheme = .plain
            elements = []
            errors = []
        }
    }

    /// The length in bytes of the AIM identifier `input` starts with (`]`, a letter, one more
    /// character, as ``Scan/init(splittingAIMFrom:)`` reads it), or 0.
    private static func aimLength(_ bytes: [UInt8], _ input: String) -> Int {
        guard bytes.count >= 3, bytes[0] == UInt8(ascii: "]"), Check.isAlphanumeric(bytes[1]), !Check.isDigit(bytes[1]) else { return 0 }
        if bytes[2] < 0x80 { return 3 }
        let scan = Scan(splittingAIMFrom: input)
        return scan.aim?.utf8.count ?? 0
    }

    /// A GTIN carried without AIs (EAN-13/UPC-A, EAN-8, ITF-14): element 01 padded to 14 digits.
    private static func gtin(_ data: ArraySlice<UInt8>, expectedLength: Int) -> (element: GS1Element, errors: [String]) {
        let digits = Array(data)
        let padded = digits.count < 14 ? [UInt8](repeating: UInt8(ascii: "0"), count: 14 - digits.count) + digits : digits
        let element = GS1Element(ai: "01", title: "GTIN", value: Check.text(padded[...]), measure: nil)
        if digits.count < expectedLength {
            return (element, ["AI 01: value too short (\(digits.count) < \(expectedLength))"])
        }
        if digits.count > expectedLength {
            return (element, ["AI 01: value too long (\(digits.count) > \(expectedLength))"])
        }
        if let bad = digits.firstIndex(where: { !Check.isDigit($0) }) {
            return (element, ["AI 01: character \(Check.describeCharacter(at: bad, in: digits[...])) not allowed"])
        }
        return (element, Check.mod10(padded[...]) ? [] : ["AI 01: bad check digit"])
    }
}

/// AIM symbology identifiers (ISO/IEC 15424, PROTOCOLS.md §5.4).
public enum Symbology {
    /// The symbology an AIM identifier names, or nil for identifiers Floorgate does not name.
    public static func name(aim: String) -> String? {
        let characters = Array(aim.unicodeScalars)
        guard characters.count == 3, characters[0] == "]" else { return nil }
        switch (characters[1], characters[2]) {
        case ("A", _): return "Code 39"
        case ("C", "0"), ("C", "2"): return "Code 128"
        case ("C", "1"): return "GS1-128"
        case ("E", "0"), ("E", "1"), ("E", "2"), ("E", "3"): return "EAN-13"
        case ("E", "4"): return "EAN-8"
        case ("I", "0"), ("I", "1"): return "ITF"
        case ("d", "1"): return "Data Matrix"
        case ("d", "2"): return "GS1 DataMatrix"
        case ("Q", "1"): return "QR Code"
        case ("Q", "3"): return "GS1 QR Code"
        case ("e", "0"): return "GS1 DataBar"
        case ("J", "0"): return "DotCode"
        case ("J", "1"): return "GS1 DotCode"
        case ("L", "0"): return "PDF417"
        case ("z", "0"): return "Aztec Code"
        default: return nil
        }
    }

    /// Whether the identifier says the data is GS1 element strings (FNC1 in first position).
    public static func carriesGS1ElementStrings(aim: String) -> Bool {
        ["]C1", "]e0", "]d2", "]Q3", "]J1"].contains(aim)
    }

    /// For symbologies that carry a bare GTIN, the number of digits they carry.
    static func gtinLength(aim: String) -> Int? {
        switch aim {
        case "]E0": 13
        case "]E4": 8
        case "]I1": 14
        default: nil
        }
    }
}

extension ScannedContent {
    /// The GS1 element strings it holds, in order: a GS1 symbol's, or those in an ISO/IEC 15434
    /// envelope's GS1 format.
    public var gs1Elements: [GS1Element] {
        elements.compactMap { element in
            switch element {
            case .gs1(let element), .iso15434(.gs1(_, let element)): element
            default: nil
            }
        }
    }

    /// The fields a ``SerialPattern`` looks at.
    public var fields: ScannedFields {
        var gs1: [String: String] = [:]
        var hibc: [String: String] = [:]
        for element in elements {
            switch element {
            case .gs1(let element), .iso15434(.gs1(_, let element)):
                if gs1[element.ai] == nil { gs1[element.ai] = element.value }
            case .hibc(let data):
                let pairs: [(String, String?)] = [
                    ("labeler", data.labeler), ("product", data.product), ("unit", data.unit), ("lot", data.lot),
                    ("serial", data.serial), ("expiry", data.expiry), ("quantity", data.quantity),
                ]
                for case (let key, let value?) in pairs { hibc[key] = value }
            case .iso15434:
                continue
            }
        }
        return ScannedFields(text: Scan(splittingAIMFrom: input).text, isValid: isValid, gs1: gs1, hibc: hibc)
    }
}
