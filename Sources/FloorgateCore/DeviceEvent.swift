/// Everything a device, a decoder or a transport can report: the one closed set of events that
/// flows from decoders to the normalizer and that `floorgate decode` prints (INTERFACES.md).
///
/// Every event carries the raw bytes it came from, so the record keeps what the device said.
/// For decoder output, the raw bytes of all events of a stream concatenate to exactly the bytes
/// read (except bytes still waiting for the rest of their frame).
public enum DeviceEvent: Sendable, Hashable {
    /// A gauge or meter value.
    case reading(Reading, raw: RawBytes)
    /// A tightening result from a torque controller. Boxed: the result has many fields, and every
    /// other event would otherwise be as large as it.
    indirect case tightening(TighteningResult, raw: RawBytes)
    /// One scanned code.
    case scan(Scan, raw: RawBytes)
    /// The device (or the transport) said something that is not a result.
    case status(DeviceStatus, raw: RawBytes)
    /// Bytes that were not a valid frame and were skipped.
    case error(DecodeFailure, raw: RawBytes)

    /// The bytes this event came from.
    public var raw: RawBytes {
        switch self {
        case .reading(_, let raw), .tightening(_, let raw), .scan(_, let raw), .status(_, let raw),
             .error(_, let raw):
            raw
        }
    }

    /// The event with `unit` filled in where the frame carried none (a reading's unit, a
    /// tightening's torque unit), as a device profile or `floorgate decode --unit` supplies it.
    public func supplyingUnit(_ unit: MeasurementUnit) -> DeviceEvent {
        switch self {
        case .reading(var reading, let raw) where reading.unit == nil:
            reading.unit = unit
            return .reading(reading, raw: raw)
        case .tightening(var result, let raw) where result.torqueUnit == nil:
            result.torqueUnit = unit
            return .tightening(result, raw: raw)
        default:
            return self
        }
    }

    /// The event's name in JSON: `reading`, `tightening`, `scan`, `status`, `error`.
    public var name: String {
        switch self {
        case .reading: "reading"
        case .tightening: "tightening"
        case .scan: "scan"
        case .status: "status"
        case .error: "error"
        }
    }
}

/// A gauge or meter value exactly as the device sent it.
public struct Reading: Sendable, Hashable {
    public var value: ExactDecimal
    /// The unit the frame stated, or nil when the device does not say it (the profile supplies it).
    public var unit: MeasurementUnit?
    /// The device's channel or gauge number, as a string.
    public var channel: String?
    /// Whether the device tagged the value as a peak.
    public var peak: Peak?

    public init(value: ExactDecimal, unit: MeasurementUnit?, channel: String? = nil, peak: Peak? = nil) {
        self.value = value
        self.unit = unit
        self.channel = channel
        self.peak = peak
    }
}

/// Which peak a device reported.
public enum Peak: String, Sendable, Hashable {
    case max, min
}

/// One scanned code.
public struct Scan: Sendable, Hashable {
    /// The data without the AIM symbology identifier and without the scanner's suffix.
    public var text: String
    /// The AIM symbology identifier (`]C1`), or nil when the scanner sent none.
    public var aim: String?

    public init(text: String, aim: String?) {
        self.text = text
        self.aim = aim
    }

    /// A scan of `data` as the scanner sent it: when it starts with an AIM symbology identifier
    /// (`]`, a letter, one more character; ISO/IEC 15424) those three characters are the `aim`
    /// and the rest is the text, else the whole data is the text and `aim` is nil.
    public init(splittingAIMFrom data: String) {
        let scalars = data.unicodeScalars
        var index = scalars.startIndex
        var prefix: [Unicode.Scalar] = []
        while prefix.count < 3, index < scalars.endIndex {
            prefix.append(scalars[index])
            index = scalars.index(after: index)
        }
        if prefix.count == 3, prefix[0] == "]", prefix[1].isASCIILetter {
            self.init(text: String(scalars[index...]), aim: String(String.UnicodeScalarView(prefix)))
        } else {
            self.init(text: data, aim: nil)
        }
    }
}

extension Unicode.Scalar {
    /// `A`–`Z` or `a`–`z`.
    fileprivate var isASCIILetter: Bool {
        (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value)
    }
}

/// Something a device or its link reported that is not a result.
public struct DeviceStatus: Sendable, Hashable {
    public var state: DeviceState
    /// The device's own words (`ERR3`, `SY203.1`), or the transport's description.
    public var message: String

    public init(state: DeviceState, message: String) {
        self.state = state
        self.message = message
    }
}

/// The kinds of status: the first three come from decoders, the last two from transports and
/// device supervisors.
public enum DeviceState: String, Sendable, Hashable, CaseIterable {
    /// An error code from the device itself (Sylvac `ERR3`, Mark-10 `*10`).
    case deviceError = "device_error"
    /// Identification or report-framing lines.
    case deviceInfo = "device_info"
    /// A controller alarm.
    case alarm
    /// The device's link came up.
    case connected
    /// The device's link went away (unplugged, connection lost).
    case lost
}

/// Why bytes were skipped: the closed list of error reasons (fixtures/README.md). Operator-facing
/// wording belongs in log messages; these words are a contract.
public enum DecodeFailure: String, Error, Sendable, Hashable, CaseIterable {
    case incompleteFrame = "incomplete frame at end of input"
    case unexpectedBytes = "unexpected bytes"
    case malformedFrame = "malformed frame"
    case unknownUnit = "unknown unit"
    case emptyFrame = "empty frame"
    case frameTooLong = "frame too long"
    case unmappedKey = "unmapped key"
    case unsupportedRevision = "unsupported revision"

    /// The reason as it appears in JSON.
    public var reason: String { rawValue }
}
