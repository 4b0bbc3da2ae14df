/// The parts of one scanned code a ``SerialPattern`` looks at: its text and, where the content
/// was structured, its GS1 and HIBC fields. The Barcodes module fills it from a parsed scan.
public struct ScannedFields: Sendable, Hashable {
    /// The data after the AIM identifier, exactly as scanned.
    public var text: String
    /// Whether the content passed every check of its scheme (check digits, dates, …).
    public var isValid: Bool
    /// GS1 AI → value (the first occurrence), for GS1 content.
    public var gs1: [String: String]
    /// HIBC fields (`labeler`, `product`, `serial`, `lot`, …), for HIBC content.
    public var hibc: [String: String]

    public init(text: String, isValid: Bool, gs1: [String: String] = [:], hibc: [String: String] = [:]) {
        self.text = text
        self.isValid = isValid
        self.gs1 = gs1
        self.hibc = hibc
    }
}

/// Which scanned content is a unit serial — the scan that opens a build — and which part of it is
/// the serial. A step or a station configuration names one, written as text:
///
/// - `gs1:21` the GS1 serial (AI 21) of any GTIN; `gs1:21@09506000134352` only with that GTIN
///   (AI 01; 8-, 12- and 13-digit GTINs may be written without their leading zeros);
/// - `hibc:serial` the serial of a HIBC code; `hibc:serial@E123` only from that labeler;
/// - `regex:^SN-[0-9]{6}$` the scanned text (after the AIM identifier) matching the whole
///   expression; the serial is its first capture group when it has one, else the whole text.
///
/// Content must be valid to count: a serial from a code with a bad check digit never opens a
/// build, whichever pattern would match it.
public enum SerialPattern: Sendable, Hashable, CustomStringConvertible {
    case gs1Serial(gtin: String?)
    case hibcSerial(labeler: String?)
    case text(regex: String)

    /// Reads the text form; the error says what is allowed.
    public init(parsing text: String) throws(SerialPatternError) {
        let (kind, rest) = Self.split(text, at: ":")
        guard let rest else { throw SerialPatternError(text: text, problem: "expected gs1:21, hibc:serial or regex:EXPRESSION") }
        switch kind {
        case "gs1":
            let (ai, gtin) = Self.split(rest, at: "@")
            guard ai == "21" else { throw SerialPatternError(text: text, problem: "only AI 21 (serial) names a unit serial") }
            if let gtin {
                guard (8...14).contains(gtin.count), gtin.allSatisfy(\.isASCIIDigitCharacter) else {
                    throw SerialPatternError(text: text, problem: "a GTIN is 8 to 14 digits")
                }
                self = .gs1Serial(gtin: String(repeating: "0", count: 14 - gtin.count) + gtin)
            } else {
                self = .gs1Serial(gtin: nil)
            }
        case "hibc":
            let (field, labeler) = Self.split(rest, at: "@")
            guard field == "serial" else { throw SerialPatternError(text: text, problem: "only the HIBC serial names a unit serial") }
            if let labeler, labeler.count != 4 { throw SerialPatternError(text: text, problem: "a HIBC labeler code is 4 characters") }
            self = .hibcSerial(labeler: labeler)
        case "regex":
            do {
                _ = try Regex(rest)
            } catch {
                throw SerialPatternError(text: text, problem: "not a regular expression: \(error)")
            }
            self = .text(regex: rest)
        default:
            throw SerialPatternError(text: text, problem: "unknown kind '\(kind)'; expected gs1, hibc or regex")
        }
    }

    /// The unit serial in `fields`, or nil when the scan is not one.
    public func serial(in fields: ScannedFields) -> String? {
        switch self {
        case .gs1Serial(let gtin):
            guard fields.isValid, let serial = fields.gs1["21"] else { return nil }
            if let gtin, fields.gs1["01"] != gtin { return nil }
            return serial
        case .hibcSerial(let labeler):
            guard fields.isValid, let serial = fields.hibc["serial"] else { return nil }
            if let labeler, fields.hibc["labeler"] != labeler { return nil }
            return serial
        case .text(let pattern):
            guard fields.isValid, let regex = try? Regex(pattern), let match = try? regex.wholeMatch(in: fields.text) else { return nil }
            if match.output.count > 1, let group = match.output[1].substring {
                return String(group)
            }
            return fields.text
        }
    }

    public var description: String {
        switch self {
        case .gs1Serial(let gtin): "gs1:21" + (gtin.map { "@" + $0 } ?? "")
        case .hibcSerial(let labeler): "hibc:serial" + (labeler.map { "@" + $0 } ?? "")
        case .text(let regex): "regex:" + regex
        }
    }

    private static func split(_ text: String, at separator: Character) -> (String, String?) {
        guard let index = text.firstIndex(of: separator) else { return (text, nil) }
        return (String(text[..<index]), String(text[text.index(after: index)...]))
    }
}

/// A serial pattern that cannot be read.
public struct SerialPatternError: Error, Sendable, Hashable, CustomStringConvertible {
    public let text: String
    public let problem: String

    public var description: String { "serial pattern '\(text)': \(problem)" }
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool { ("0"..."9").contains(self) }
}
