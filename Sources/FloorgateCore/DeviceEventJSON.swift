extension DeviceEvent {
    /// The event as one line of JSON, exactly as INTERFACES.md fixes it (`floorgate decode`):
    /// `{"event":"reading","value":"12.345","unit":"mm","channel":"1","raw_hex":"…"}`.
    /// Keys a frame does not carry are absent, except those the contract always prints
    /// (`unit` and `aim` may be null; `torque_unit` is always present).
    public var jsonLine: String {
        var object = JSONObjectWriter()
        object.add("event", name)
        switch self {
        case .reading(let reading, _):
            object.add("value", reading.value.description)
            object.add("unit", reading.unit?.code)
            object.addIfPresent("channel", reading.channel)
            object.addIfPresent("peak", reading.peak?.rawValue)
        case .tightening(let result, _):
            result.addFields(to: &object)
        case .scan(let scan, _):
            object.add("text", scan.text)
            object.add("aim", scan.aim)
        case .status(let status, _):
            object.add("state", status.state.rawValue)
            object.add("message", status.message)
        case .error(let failure, _):
            object.add("reason", failure.reason)
        }
        object.add("raw_hex", Self.hex(raw))
        return object.finished()
    }

    /// Lowercase hex of bytes, two digits each, no separators.
    public static func hex(_ bytes: some Collection<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The bytes of hex text (two digits each, either case, no separators); nil for anything else.
    public static func bytes(fromHex text: some StringProtocol) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension TighteningResult {
    fileprivate func addFields(to object: inout JSONObjectWriter) {
        object.addIfPresent("result_type", resultType?.rawValue)
        object.addIfPresent("status", status?.rawValue)
        object.addIfPresent("torque", torque?.description)
        object.add("torque_unit", torqueUnit?.code)
        object.addIfPresent("torque_min", torqueMinimum?.description)
        object.addIfPresent("torque_max", torqueMaximum?.description)
        object.addIfPresent("torque_target", torqueTarget?.description)
        object.addIfPresent("torque_status", torqueStatus?.rawValue)
        object.addIfPresent("angle", angle?.description)
        object.addIfPresent("angle_min", angleMinimum?.description)
        object.addIfPresent("angle_max", angleMaximum?.description)
        object.addIfPresent("angle_target", angleTarget?.description)
        object.addIfPresent("angle_status", angleStatus?.rawValue)
        object.addIfPresent("tightening_id", tighteningID)
        object.addIfPresent("pset", parameterSet)
        object.addIfPresent("batch_size", batchSize?.description)
        object.addIfPresent("batch_counter", batchCounter?.description)
        object.addIfPresent("batch_status", batchStatus?.rawValue)
        object.addIfPresent("identifier", identifier)
        object.addIfPresent("cell_id", cellID)
        object.addIfPresent("channel_id", channelID)
        object.addIfPresent("controller_name", controllerName)
        object.addIfPresent("tool_serial", toolSerial)
        object.addIfPresent("timestamp", timestamp)
    }
}

/// Writes one flat JSON object with string (or null) values, keys in the order added.
public struct JSONObjectWriter: Sendable {
    private var text = "{"
    private var isEmpty = true

    public init() {}

    /// Adds `"key":"value"`, or `"key":null` for nil.
    public mutating func add(_ key: String, _ value: String?) {
        if !isEmpty { text += "," }
        isEmpty = false
        Self.appendQuoted(key, to: &text)
        text += ":"
        if let value {
            Self.appendQuoted(value, to: &text)
        } else {
            text += "null"
        }
    }

    /// Adds `"key":"value"` only when the value is present.
    public mutating func addIfPresent(_ key: String, _ value: String?) {
        if let value { add(key, value) }
    }

    /// Adds `"key":true` or `"key":false`.
    public mutating func add(_ key: String, _ value: Bool) {
        add(key, json: value ? "true" : "false")
    }

    /// Adds `"key":` followed by `json`, a JSON value the caller has already written (an array or
    /// a nested object).
    public mutating func add(_ key: String, json: String) {
        if !isEmpty { text += "," }
        isEmpty = false
        Self.appendQuoted(key, to: &text)
        text += ":" + json
    }

    /// The object's text, closed.
    public func finished() -> String { text + "}" }

    /// Appends a JSON string literal: quotes, backslashes and control characters escaped,
    /// everything else as UTF-8.
    public static func appendQuoted(_ string: String, to text: inout String) {
        text += "\""
        // Most strings need no escaping: append them whole.
        if !string.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            text += string
            text += "\""
            return
        }
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }
}
