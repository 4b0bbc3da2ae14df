public import FloorgateCore

/// One GS1 element string: an Application Identifier and its data.
public struct GS1Element: Sendable, Hashable {
    /// The AI's digits.
    public let ai: String
    /// The dictionary's data title (`GTIN`, `BATCH/LOT`).
    public let title: String
    /// The data exactly as scanned.
    public let value: String
    /// For AIs whose last digit places the decimal point (310n net weight, 392n amount, …): the
    /// value as an exact decimal, with its unit where the AI states one.
    public let measure: GS1Measure?
}

/// The decimal value of a measure or amount AI: `3103` `001250` is 1.250 kg.
public struct GS1Measure: Sendable, Hashable {
    public let value: ExactDecimal
    /// `kg`, `m²`, … for 31nn–36nn; the ISO 4217 numeric currency for 391n/393n; `%` for 394n;
    /// nil where the AI has no unit (390n, 392n, 395n amounts in the local currency).
    public let unit: String?
}

/// The elements of a GS1 message and why it is not valid (empty when it is).
public struct GS1Message: Sendable, Hashable {
    public var elements: [GS1Element] = []
    /// Problems in words, parse errors in input order first, then message-level checks.
    public var errors: [String] = []
    /// Each element's AI as a number (``AIPattern/code``), for the message-level checks.
    var codes: [Int] = []

    public var isValid: Bool { errors.isEmpty }
}

/// Parses and validates GS1 element strings by the GS1 Barcode Syntax Dictionary's rules, as
/// the GS1 Barcode Syntax Engine applies them: each AI's length, character set and linters;
/// separators; requisites, exclusions and repeated AIs across the message.
public enum GS1ElementStrings {
    static let groupSeparator: UInt8 = 0x1D

    /// Element strings as a scanner sends them, GS (0x1D) ending variable-length values.
    /// `start` is where the element strings begin in `input` (after an AIM identifier);
    /// positions in errors count from 1 at the start of `input`.
    public static func parse(_ input: [UInt8], from start: Int = 0) -> GS1Message {
        var message = GS1Message()
        message.elements.reserveCapacity(4)
        message.codes.reserveCapacity(4)
        var index = start
        while index < input.count {
            if input[index] == groupSeparator {
                // A separator ends a value; one right after a predefined-length value is
                // superfluous but harmless. At the start, or after another, it stands for nothing.
                if index == start || input[index - 1] == groupSeparator {
                    message.errors.append("separator not allowed at position \(index + 1)")
                }
                index += 1
                continue
            }
            guard let definition = GS1Dictionary.definition(startingAt: input[index...]) else {
                message.errors.append("unknown AI at '\(Check.text(input[index...].prefix(4)))'")
                break
            }
            let valueStart = index + definition.ai.utf8.count
            let nextSeparator = input[valueStart...].firstIndex(of: groupSeparator) ?? input.count
            let valueEnd = definition.hasPredefinedLength || definition.isFixedLength
                ? min(valueStart + definition.maximumLength, nextSeparator) : nextSeparator
            append(definition, value: input[valueStart..<valueEnd], to: &message)
            index = valueEnd
            if !definition.hasPredefinedLength, index < input.count, input[index] != groupSeparator {
                message.errors.append("AI \(definition.ai): missing separator")
            }
        }
        if message.elements.isEmpty && message.errors.isEmpty {
            message.errors.append("no GS1 element string in the data")
        }
        checkMessage(&message)
        return message
    }

    /// Bracketed human-readable form: `(01)09506000134352(10)ABC123`. A value runs to the next
    /// `(` that opens 2–4 digits and `)` (a `(` of the data itself is written `\(`); no
    /// separators are involved.
    public static func parseBracketed(_ text: String) -> GS1Message {
        let input = Array(text.utf8)
        var message = GS1Message()
        var index = 0
        while index < input.count {
            guard let aiEnd = bracketedAIEnd(input[...], at: index) else {
                message.errors.append("expected '(' and an AI at position \(index + 1)")
                break
            }
            let digits = input[(index + 1)..<(aiEnd - 1)]
            guard let definition = GS1Dictionary.definition(of: Check.text(digits)) else {
                message.errors.append("unknown AI at '\(Check.text(digits))'")
                break
            }
            // The value runs to the next bracketed AI; `\(` stands for a `(` of the data.
            var value: [UInt8] = []
            var valueEnd = aiEnd
            while valueEnd < input.count, bracketedAIEnd(input[...], at: valueEnd) == nil {
                if input[valueEnd] == UInt8(ascii: "\\"), valueEnd + 1 < input.count, input[valueEnd + 1] == UInt8(ascii: "(") {
                    valueEnd += 1
                }
                value.append(input[valueEnd])
                valueEnd += 1
            }
            append(definition, value: value[...], to: &message)
            index = valueEnd
        }
        checkMessage(&message)
        return message
    }

    /// Whether `text` starts in bracketed form: `(`, 2–4 digits, `)`.
    public static func isBracketed(_ text: some StringProtocol) -> Bool {
        isBracketed(Array(text.utf8.prefix(6))[...])
    }

    /// Whether the bytes start in bracketed form.
    static func isBracketed(_ data: ArraySlice<UInt8>) -> Bool {
        bracketedAIEnd(data, at: data.startIndex) != nil
    }

    /// The index after `(dd…)` at `index`, or nil when no bracketed AI stands there.
    private static func bracketedAIEnd(_ input: ArraySlice<UInt8>, at index: Int) -> Int? {
        guard index < input.endIndex, input[index] == UInt8(ascii: "(") else { return nil }
        var end = index + 1
        while end < input.endIndex, end - index <= 5, Check.isDigit(input[end]) { end += 1 }
        guard (2...4).contains(end - index - 1), end < input.endIndex, input[end] == UInt8(ascii: ")") else { return nil }
        return end + 1
    }

    /// Records an element and the first problem with its value, if any.
    static func append(_ definition: GS1AIDefinition, value: ArraySlice<UInt8>, to message: inout GS1Message) {
        let problem = self.problem(with: value, of: definition)
        message.codes.append(definition.code)
        message.elements.append(GS1Element(
            ai: definition.ai, title: definition.title, value: Check.text(value),
            measure: problem == nil ? measure(value, of: definition) : nil
        ))
        if let problem { message.errors.append("AI \(definition.ai): \(problem)") }
    }

    /// The first problem with an AI's value: its length, then each component's character set and
    /// linters in order.
    static func problem(with value: ArraySlice<UInt8>, of definition: GS1AIDefinition) -> String? {
        if value.count > definition.maximumLength {
            return "value too long (\(value.count) > \(definition.maximumLength))"
        }
        if value.count < definition.minimumLength {
            return "value too short (\(value.count) < \(definition.minimumLength))"
        }
        var rest = value
        for component in definition.components {
            if component.isOptional && rest.isEmpty { break }
            let part = rest.prefix(component.maximumLength)
            rest = rest.dropFirst(part.count)
            guard part.count >= component.minimumLength else {
                return "value length \(value.count) leaves a part incomplete"
            }
            if let bad = badCharacter(in: part, component.characterSet) {
                return "character \(Check.describeCharacter(at: bad, in: part)) not allowed"
            }
            for linter in component.linters {
                if let failure = linter.failure(part) { return failure }
            }
        }
        return nil
    }

    /// The index of the first byte the character set does not allow, if any.
    private static func badCharacter(in part: ArraySlice<UInt8>, _ characterSet: GS1CharacterSet) -> Int? {
        var checked = part
        if characterSet == .cset64 {
            // base64url padding: at most two `=` at the very end, the whole a multiple of 3 long.
            let padding = part.reversed().prefix(while: { $0 == UInt8(ascii: "=") }).count
            if padding > 0 {
                if padding > 2 || part.count % 3 != 0 { return part.endIndex - padding }
                checked = part.dropLast(padding)
            }
        }
        return checked.firstIndex { !characterSet.allows($0) }
    }

    private static func measure(_ value: ArraySlice<UInt8>, of definition: GS1AIDefinition) -> GS1Measure? {
        guard let places = definition.impliedDecimalPlaces else { return nil }
        let group = definition.code % 100_000 / 10
        var digits = value
        var unit = definition.unit
        if group == 391 || group == 393 {
            unit = Check.text(value.prefix(3))  // the currency
            digits = value.dropFirst(3)
        } else if group == 394 {
            unit = "%"
        }
        guard digits.count <= 18, let number = Check.value(digits).map(UInt64.init),
              let decimal = ExactDecimal(digits: number, scale: places)
        else { return nil }
        return GS1Measure(value: decimal, unit: unit)
    }

    // MARK: - Message-level checks

    /// The keys a digital signature (8030) needs with a serial: GDTI, GCN, GRAI.
    private static let signedKeysNeedingSerial = ["253", "255", "8003"].map { AIPattern($0).code }

    /// Repeated AIs with different values, the digital-signature rule, then per AI (in order of first appearance) its
    /// requisites and its exclusions, each excluded pair once. Works on the AIs' numbers; strings
    /// are built only for errors.
    static func checkMessage(_ message: inout GS1Message) {
        let codes = message.codes
        // An AI's first element stands for it; messages are short, so plain scans beat sets.
        func isFirst(_ index: Int) -> Bool { !codes[..<index].contains(codes[index]) }
        for first in codes.indices where isFirst(first) {
            let value = message.elements[first].value
            if codes.indices.contains(where: { $0 > first && codes[$0] == codes[first] && message.elements[$0].value != value }) {
                message.errors.append("AI \(message.elements[first].ai) appears twice with different values")
            }
        }
        if codes.contains(AIPattern("8030").code) {
            // A digital signature signs one item: the keys it may sign must then carry a serial.
            for (index, code) in codes.enumerated() where signedKeysNeedingSerial.contains(code) {
                if let definition = GS1Dictionary.definition(code: code), message.elements[index].value.utf8.count <= definition.minimumLength {
                    message.errors.append("AI \(definition.ai) must carry a serial component when AI 8030 is present")
                }
            }
        }
        var reportedPairs: [(Int, Int)] = []
        for first in codes.indices where isFirst(first) {
            let code = codes[first]
            guard let definition = GS1Dictionary.definition(code: code) else { continue }
            func present(_ pattern: AIPattern) -> Bool {
                codes.contains { $0 != code && pattern.matches($0) }
            }
            for (index, requirement) in definition.requiredPatterns.enumerated() where !requirement.contains(where: { $0.allSatisfy(present) }) {
                let alternatives = definition.requirements[index].map { $0.joined(separator: "+") }.joined(separator: ", ")
                message.errors.append("AI \(definition.ai) requires one of: \(alternatives)")
            }
            for pattern in definition.excludedPatterns {
                for other in codes.indices where isFirst(other) && codes[other] != code && pattern.matches(codes[other]) {
                    let pair = (min(code, codes[other]), max(code, codes[other]))
                    guard !reportedPairs.contains(where: { $0 == pair }) else { continue }
                    reportedPairs.append(pair)
                    message.errors.append("AI \(definition.ai) and AI \(message.elements[other].ai) cannot appear together")
                }
            }
        }
    }
}
