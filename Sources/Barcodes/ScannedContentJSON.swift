import FloorgateCore

extension ScannedContent {
    /// The one JSON object `floorgate barcode parse` prints for this content (INTERFACES.md):
    /// `input`, `aim`, `symbology`, `scheme`, `valid`, `elements`, `errors`.
    public var jsonLine: String {
        var object = JSONObjectWriter()
        object.add("input", input)
        object.add("aim", aim)
        object.add("symbology", symbology)
        object.add("scheme", scheme.rawValue)
        object.add("valid", isValid)
        object.add("elements", json: "[" + elements.map(\.jsonObject).joined(separator: ",") + "]")
        object.add("errors", json: "[" + errors.map { error in
            var text = ""
            JSONObjectWriter.appendQuoted(error, to: &text)
            return text
        }.joined(separator: ",") + "]")
        return object.finished()
    }
}

extension ContentElement {
    /// The element as a JSON object: GS1 `ai`/`title`/`value`; ISO/IEC 15434 `format` with `di`
    /// and `value` (or the GS1 keys for format 05); HIBC `labeler`, `product`, `unit`, `lot`,
    /// `serial`, `expiry` where present (INTERFACES.md; quantity, hour and link character are in
    /// ``HIBCData`` for library users).
    var jsonObject: String {
        var object = JSONObjectWriter()
        switch self {
        case .gs1(let element):
            Self.add(element, to: &object)
        case .iso15434(.identified(let format, let identifier, let value)):
            object.add("format", format)
            object.add("di", identifier)
            object.add("value", value)
        case .iso15434(.gs1(let format, let element)):
            object.add("format", format)
            Self.add(element, to: &object)
        case .iso15434(.field(let format, let value)):
            object.add("format", format)
            object.add("value", value)
        case .hibc(let data):
            object.addIfPresent("labeler", data.labeler)
            object.addIfPresent("product", data.product)
            object.addIfPresent("unit", data.unit)
            object.addIfPresent("lot", data.lot)
            object.addIfPresent("serial", data.serial)
            object.addIfPresent("expiry", data.expiry)
        }
        return object.finished()
    }

    private static func add(_ element: GS1Element, to object: inout JSONObjectWriter) {
        object.add("ai", element.ai)
        object.add("title", element.title)
        object.add("value", element.value)
    }
}
