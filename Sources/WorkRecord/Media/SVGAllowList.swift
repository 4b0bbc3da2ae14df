import Foundation

/// Whether an SVG picture may be shown on the station page: it must be well-formed XML made of
/// drawing elements and presentation attributes only. Anything that could run, load or reach
/// out is refused: scripts, `foreignObject`, event attributes (`on…`), style sheets, images,
/// links other than to a fragment of the same picture (`#id`), DOCTYPEs and entities.
///
/// A small strict reader of its own, not a general XML parser: what it does not know, it refuses.
struct SVGAllowList {
    /// Why a picture was refused, in words that name the offending part.
    struct Refusal: Error, Equatable, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    static let elements: Set<String> = [
        "svg", "g", "defs", "title", "desc", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "tspan",
        "linearGradient", "radialGradient", "stop", "clipPath", "mask", "symbol", "use", "marker", "pattern",
    ]

    static let attributes: Set<String> = [
        "id", "class", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "width", "height", "d", "points",
        "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity", "stroke-linecap", "stroke-linejoin",
        "stroke-dasharray", "stroke-dashoffset", "stroke-miterlimit", "opacity", "transform", "viewBox", "preserveAspectRatio",
        "xmlns", "xmlns:xlink", "version", "font-family", "font-size", "font-weight", "font-style", "text-anchor",
        "dominant-baseline", "letter-spacing", "offset", "stop-color", "stop-opacity", "gradientUnits", "gradientTransform",
        "spreadMethod", "clip-path", "clip-rule", "clipPathUnits", "mask", "maskUnits", "href", "xlink:href", "marker-start",
        "marker-mid", "marker-end", "markerWidth", "markerHeight", "markerUnits", "refX", "refY", "orient", "patternUnits",
        "patternTransform", "visibility", "display", "vector-effect", "dx", "dy", "rotate", "textLength", "lengthAdjust",
    ]

    /// Checks `bytes` (UTF-8); throws the first thing refused.
    static func check(_ bytes: [UInt8]) throws(Refusal) {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw Refusal(reason: "the SVG is not UTF-8 text") }
        var reader = Reader(text: Array(text.unicodeScalars))
        try reader.document()
    }

    private struct Reader {
        let text: [Unicode.Scalar]
        var index = 0
        var open: [String] = []
        var sawRoot = false

        init(text: [Unicode.Scalar]) { self.text = text }

        /// `<use>` elements seen: a few are enough for a drawing, and many could expand like an
        /// entity bomb (uses of groups of uses).
        var uses = 0
        static let mostUses = 8

        mutating func document() throws(Refusal) {
            // XML forbids C0 controls but tab, CR and LF; a browser given one may read other markup.
            if let control = text.first(where: { $0.value < 0x20 && ![0x09, 0x0A, 0x0D].contains($0.value) }) {
                throw Refusal(reason: "control character U+\(String(control.value, radix: 16, uppercase: true)) is not allowed in XML")
            }
            while index < text.count {
                if starts(with: "<?xml ") || starts(with: "<?xml?") {
                    guard index == 0 else { throw Refusal(reason: "an XML declaration is allowed only at the very start") }
                    try declaration()
                } else if starts(with: "<?") {
                    throw Refusal(reason: "processing instructions are not allowed")
                } else if starts(with: "<!--") {
                    try skip(past: "-->")
                } else if starts(with: "<!") {
                    throw Refusal(reason: "DOCTYPEs, entities and CDATA sections are not allowed")
                } else if starts(with: "</") {
                    index += 2
                    let name = readName()
                    skipSpace()
                    guard consume(">"), open.last == name else { throw Refusal(reason: "</\(name)> does not close the open element (not well-formed XML)") }
                    open.removeLast()
                } else if text[index] == "<" {
                    index += 1
                    try element()
                } else {
                    guard !open.isEmpty || text[index].properties.isWhitespace else {
                        throw Refusal(reason: "text outside the <svg> element")
                    }
                    try characterData()
                }
            }
            guard sawRoot else { throw Refusal(reason: "no <svg> element") }
            guard open.isEmpty else { throw Refusal(reason: "<\(open.last ?? "")> is never closed (not well-formed XML)") }
        }

        mutating func element() throws(Refusal) {
            let name = readName()
            guard !name.isEmpty else { throw Refusal(reason: "a '<' that begins no element (not well-formed XML)") }
            if open.isEmpty {
                guard !sawRoot, name == "svg" else { throw Refusal(reason: "the document's element must be a single <svg>, not <\(name)>") }
                sawRoot = true
            }
            guard SVGAllowList.elements.contains(name) else { throw Refusal(reason: "element <\(name)> is not allowed") }
            if name == "use" {
                uses += 1
                guard uses <= Self.mostUses else { throw Refusal(reason: "more than \(Self.mostUses) <use> elements") }
            }
            var seen: Set<String> = []
            while true {
                skipSpace()
                if consume("/>") { return }
                if consume(">") {
                    open.append(name)
                    return
                }
                let attribute = readName()
                guard !attribute.isEmpty else { throw Refusal(reason: "a malformed attribute in <\(name)> (not well-formed XML)") }
                skipSpace()
                guard consume("=") else { throw Refusal(reason: "attribute \(attribute) of <\(name)> has no value (not well-formed XML)") }
                skipSpace()
                let value = try quoted()
                guard seen.insert(attribute).inserted else { throw Refusal(reason: "attribute \(attribute) appears twice in <\(name)>") }
                if attribute.lowercased().hasPrefix("on") {
                    throw Refusal(reason: "event attribute \(attribute) of <\(name)> is not allowed")
                }
                guard SVGAllowList.attributes.contains(attribute) else { throw Refusal(reason: "attribute \(attribute) of <\(name)> is not allowed") }
                try Self.checkValue(value, of: attribute, in: name)
            }
        }

        /// Links go only to a fragment of the same picture; no value reaches a script or a URL.
        /// `value` is as the browser reads it: character references decoded.
        static func checkValue(_ value: String, of attribute: String, in element: String) throws(Refusal) {
            let folded = String(value.unicodeScalars.filter { !$0.properties.isWhitespace }).lowercased()
            if attribute == "href" || attribute == "xlink:href" {
                guard value.hasPrefix("#"), !folded.contains(":") else {
                    throw Refusal(reason: "\(attribute) of <\(element)> must point inside the picture (#id), not to '\(value)'")
                }
            }
            // CSS escapes could spell a URL the browser decodes: no value needs one.
            guard !value.contains("\\") else { throw Refusal(reason: "attribute \(attribute) of <\(element)> holds a backslash escape") }
            if folded.contains("javascript:") || folded.contains("data:") {
                throw Refusal(reason: "attribute \(attribute) of <\(element)> holds a script or data URL")
            }
            var rest = Substring(folded)
            while let start = rest.range(of: "url(") {
                rest = rest[start.upperBound...]
                guard rest.hasPrefix("#") else { throw Refusal(reason: "attribute \(attribute) of <\(element)> refers outside the picture: \(value)") }
            }
        }

        mutating func characterData() throws(Refusal) {
            while index < text.count, text[index] != "<" {
                if text[index] == "&" { try reference() } else { index += 1 }
            }
        }

        /// Only the five predefined entities and character references: nothing to expand. Returns
        /// the character it stands for.
        @discardableResult
        mutating func reference() throws(Refusal) -> Unicode.Scalar {
            guard let end = text[index...].firstIndex(of: ";"), end - index <= 10 else { throw Refusal(reason: "a '&' that begins no reference") }
            let name = String(String.UnicodeScalarView(text[(index + 1)..<end]))
            let predefined: [String: Unicode.Scalar] = ["lt": "<", "gt": ">", "amp": "&", "quot": "\"", "apos": "'"]
            let code = name.hasPrefix("#x") ? UInt32(name.dropFirst(2), radix: 16) : name.hasPrefix("#") ? UInt32(name.dropFirst()) : nil
            guard let scalar = predefined[name] ?? code.flatMap(Unicode.Scalar.init) else { throw Refusal(reason: "entity &\(name); is not allowed") }
            guard scalar.value >= 0x20 || [0x09, 0x0A, 0x0D].contains(scalar.value) else {
                throw Refusal(reason: "a reference to control character U+\(String(scalar.value, radix: 16, uppercase: true))")
            }
            index = end + 1
            return scalar
        }

        /// The XML declaration: version, and an encoding only if it is UTF-8 (the bytes were read
        /// as UTF-8; a browser told otherwise would read other markup).
        mutating func declaration() throws(Refusal) {
            let start = index
            try skip(past: "?>")
            let declared = String(String.UnicodeScalarView(text[start..<index])).lowercased()
            if let encoding = declared.range(of: "encoding") {
                let rest = declared[encoding.upperBound...].drop { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "'" }
                guard rest.hasPrefix("utf-8\"") || rest.hasPrefix("utf-8'") else {
                    throw Refusal(reason: "the XML declaration names an encoding other than UTF-8")
                }
            }
        }

        mutating func quoted() throws(Refusal) -> String {
            guard index < text.count, text[index] == "\"" || text[index] == "'" else { throw Refusal(reason: "an attribute value without quotes") }
            let quote = text[index]
            index += 1
            var value = String.UnicodeScalarView()
            while index < text.count, text[index] != quote {
                guard text[index] != "<" else { throw Refusal(reason: "'<' inside an attribute value (not well-formed XML)") }
                if text[index] == "&" {
                    value.append(try reference())
                } else {
                    value.append(text[index])
                    index += 1
                }
            }
            guard index < text.count else { throw Refusal(reason: "an attribute value that never ends") }
            index += 1
            return String(value)
        }

        mutating func readName() -> String {
            var name = String.UnicodeScalarView()
            while index < text.count, text[index].properties.isAlphabetic || ("0"..."9").contains(text[index]) || [":", "-", "_", "."].contains(text[index]) {
                name.append(text[index])
                index += 1
            }
            return String(name)
        }

        mutating func skipSpace() {
            while index < text.count, text[index].properties.isWhitespace { index += 1 }
        }

        func starts(with prefix: String) -> Bool {
            text[index...].starts(with: prefix.unicodeScalars)
        }

        mutating func consume(_ literal: String) -> Bool {
            guard starts(with: literal) else { return false }
            index += literal.unicodeScalars.count
            return true
        }

        mutating func skip(past terminator: String) throws(Refusal) {
            while index < text.count {
                if consume(terminator) { return }
                index += 1
            }
            throw Refusal(reason: "a comment or declaration that never ends (not well-formed XML)")
        }
    }
}
