/// Byte values and small byte-level helpers the decoders share.
enum ASCII {
    static let carriageReturn: UInt8 = 0x0D
    static let lineFeed: UInt8 = 0x0A
    static let tab: UInt8 = 0x09
    static let space: UInt8 = 0x20
    static let plus = UInt8(ascii: "+")
    static let minus = UInt8(ascii: "-")
    static let point = UInt8(ascii: ".")

    static let cr: [UInt8] = [carriageReturn]
    static let lf: [UInt8] = [lineFeed]
    static let crlf: [UInt8] = [carriageReturn, lineFeed]

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    static func isUppercaseLetter(_ byte: UInt8) -> Bool { byte >= 0x41 && byte <= 0x5A }
    static func isLetter(_ byte: UInt8) -> Bool { isUppercaseLetter(byte) || (byte >= 0x61 && byte <= 0x7A) }
    /// `[0-9A-Z]`, the character set of Mitutoyo headers and U-WAVE channel blocks.
    static func isDigitOrUppercase(_ byte: UInt8) -> Bool { isDigit(byte) || isUppercaseLetter(byte) }
    /// Printable ASCII 0x20...0x7E.
    static func isPrintable(_ byte: UInt8) -> Bool { byte >= 0x20 && byte <= 0x7E }

    /// Text of device bytes: UTF-8 when the bytes are valid UTF-8, else ISO-8859-1.
    static func text(_ bytes: some Collection<UInt8>) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var text = ""
        text.unicodeScalars.append(contentsOf: bytes.map { Unicode.Scalar($0) })
        return text
    }

    /// The bytes without spaces at either end.
    static func trimmingSpaces(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0
        var end = bytes.count
        while start < end && bytes[start] == space { start += 1 }
        while end > start && bytes[end - 1] == space { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    /// Whether the bytes begin with the given ASCII text.
    static func hasPrefix(_ bytes: UnsafeRawBufferPointer, _ prefix: String) -> Bool {
        let prefixBytes = prefix.utf8
        guard bytes.count >= prefixBytes.count else { return false }
        return zip(bytes, prefixBytes).allSatisfy { $0 == $1 }
    }
}
