/// Text made safe in HTML content and attribute values, for the station page and the printed
/// device history record alike: `&`, `<`, `>`, `"` and `'` become character references.
public enum HTMLText {
    /// `text` escaped scalar by scalar: a quote followed by a combining mark is one Character to
    /// Swift but still a quote to the browser, so it is escaped too.
    public static func escaped(_ text: String) -> String {
        var escaped = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped.append(contentsOf: "&amp;".unicodeScalars)
            case "<": escaped.append(contentsOf: "&lt;".unicodeScalars)
            case ">": escaped.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": escaped.append(contentsOf: "&quot;".unicodeScalars)
            case "'": escaped.append(contentsOf: "&#39;".unicodeScalars)
            default: escaped.append(scalar)
            }
        }
        return String(escaped)
    }
}
