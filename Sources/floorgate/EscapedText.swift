/// Text typed with escapes for characters a terminal cannot type: `\xHH` (a byte: `\x1d` GS,
/// `\x04` EOT), `\\` (a backslash), and where control escapes are on, `\r`, `\n` and `\t`.
/// Anything else is kept as typed.
enum EscapedText {
    /// The text with `\xHH` and `\\` undone (`floorgate barcode parse --escapes`).
    static func string(_ text: String) -> String {
        String(String.UnicodeScalarView(scalars(text, controlEscapes: false)))
    }

    /// The bytes a simulated device sends for a script line: every escape undone, `\xHH` as
    /// that byte, other characters as UTF-8.
    static func bytes(_ text: String) -> [UInt8] {
        scalars(text, controlEscapes: true).flatMap { scalar in
            scalar.value < 0x100 ? [UInt8(scalar.value)] : Array(String(scalar).utf8)
        }
    }

    private static func scalars(_ text: String, controlEscapes: Bool) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while index < scalars.count {
            if scalars[index] == "\\", index + 1 < scalars.count {
                let next = scalars[index + 1]
                let control: Unicode.Scalar? = switch next {
                case "r" where controlEscapes: "\r"
                case "n" where controlEscapes: "\n"
                case "t" where controlEscapes: "\t"
                case "\\": "\\"
                default: nil
                }
                if let control {
                    result.append(control)
                    index += 2
                    continue
                }
                if next == "x", index + 3 < scalars.count,
                   scalars[(index + 2)...(index + 3)].allSatisfy(\.properties.isASCIIHexDigit),
                   let value = UInt8(String(String.UnicodeScalarView(scalars[(index + 2)...(index + 3)])), radix: 16) {
                    result.append(Unicode.Scalar(value))
                    index += 4
                    continue
                }
            }
            result.append(scalars[index])
            index += 1
        }
        return result
    }
}
