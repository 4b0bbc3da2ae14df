/// Text from a device or a client, made safe to show on a terminal or in a log line. A control
/// character (C0, DEL, C1) in a scanned barcode or a device's name could move the cursor,
/// recolour the screen or rewrite what the operator reads; each is shown as `\x` and two hex
/// digits (`\x1b` for ESC, `\x0a` for a line feed). Everything else is left as it is.
public enum TerminalText {
    /// `text` with every control character escaped.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var escaped = ""
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                escaped += "\\x" + DeviceEvent.hex([UInt8(scalar.value)])
            } else {
                escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}
