/// One field of an ISO/IEC 15434 format envelope.
public enum ISO15434Element: Sendable, Hashable {
    /// Format 06 (ASC MH10.8.2 data identifier, e.g. `1P`, `S`, `25S`) or 12 (text element
    /// identifier, e.g. `MFR`, `SER`) with its value.
    case identified(format: String, identifier: String, value: String)
    /// Format 05: a GS1 element string.
    case gs1(format: String, GS1Element)
    /// A format whose fields Floorgate does not break down (01, 02, 07, …): the field as sent.
    case field(format: String, value: String)
}

/// Parses ISO/IEC 15434 messages: `[)>` RS, then format envelopes `NN` GS field GS … RS, then EOT
/// (PROTOCOLS.md §6.2).
public enum ISO15434 {
    static let header = Array("[)>".utf8)
    static let recordSeparator: UInt8 = 0x1E
    static let groupSeparator: UInt8 = 0x1D
    static let endOfTransmission: UInt8 = 0x04

    /// The elements of every envelope and the problems found; positions count from 1 at the start
    /// of `input`, where the message begins at `start`.
    public static func parse(_ input: [UInt8], from start: Int) -> (elements: [ISO15434Element], errors: [String]) {
        var index = start + header.count
        guard index < input.count, input[index] == recordSeparator else {
            return ([], ["ISO/IEC 15434: RS missing after [)>"])
        }
        index += 1
        var elements: [ISO15434Element] = []
        var errors: [String] = []
        while index < input.count, input[index] != endOfTransmission {
            // An envelope ends at its RS; a writer that forgot the RS ends it at the EOT.
            let envelopeEnd = input[index...].firstIndex { $0 == recordSeparator || $0 == endOfTransmission } ?? input.count
            let envelope = input[index..<envelopeEnd]
            parseEnvelope(input, envelope, into: &elements, errors: &errors)
            if envelopeEnd == input.count || input[envelopeEnd] == endOfTransmission {
                errors.append("ISO/IEC 15434: RS missing after format \(Check.text(envelope.prefix(2)))")
                index = envelopeEnd
            } else {
                index = envelopeEnd + 1
            }
        }
        if index >= input.count {
            errors.append("ISO/IEC 15434: EOT trailer missing")
        } else if index + 1 < input.count {
            errors.append("ISO/IEC 15434: data after the EOT trailer at position \(index + 2)")
        }
        return (elements, errors)
    }

    private static func parseEnvelope(_ input: [UInt8], _ envelope: ArraySlice<UInt8>, into elements: inout [ISO15434Element], errors: inout [String]) {
        let format = Check.text(envelope.prefix(2))
        guard envelope.count >= 2, envelope.prefix(2).allSatisfy(Check.isDigit) else {
            errors.append("ISO/IEC 15434: format indicator missing at position \(envelope.startIndex + 1)")
            return
        }
        let body = envelope.dropFirst(2)
        switch format {
        case "05":
            guard body.first == groupSeparator else {
                errors.append("ISO/IEC 15434: GS missing after format 05")
                return
            }
            let message = GS1ElementStrings.parse(Array(input[..<body.endIndex]), from: body.startIndex + 1)
            elements += message.elements.map { .gs1(format: format, $0) }
            errors += message.errors
        case "06", "12":
            for field in body.split(separator: groupSeparator) {
                guard let (identifier, value) = format == "06" ? dataIdentifier(field) : textElementIdentifier(field) else {
                    errors.append("ISO/IEC 15434: field '\(Check.text(field))' of format \(format) has no \(format == "06" ? "data" : "text element") identifier")
                    continue
                }
                elements.append(.identified(format: format, identifier: identifier, value: value))
            }
        default:
            for field in body.split(separator: groupSeparator) {
                elements.append(.field(format: format, value: Check.text(field)))
            }
        }
    }

    /// ASC MH10.8.2 data identifier: up to 3 digits and one upper-case letter (`P`, `1P`, `25S`).
    private static func dataIdentifier(_ field: ArraySlice<UInt8>) -> (String, String)? {
        let digits = field.prefix(while: Check.isDigit)
        guard digits.count <= 3, let letter = field.dropFirst(digits.count).first, Check.isUppercase(letter) else { return nil }
        let length = digits.count + 1
        return (Check.text(field.prefix(length)), Check.text(field.dropFirst(length)))
    }

    /// Text element identifier: the text before the first space (`MFR 0CVA5`).
    private static func textElementIdentifier(_ field: ArraySlice<UInt8>) -> (String, String)? {
        guard let space = field.firstIndex(of: UInt8(ascii: " ")), space > field.startIndex else { return nil }
        return (Check.text(field[..<space]), Check.text(field[(space + 1)...]))
    }
}
