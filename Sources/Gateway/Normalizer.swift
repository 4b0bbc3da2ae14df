public import DeviceIO
public import FloorgateCore
public import Foundation

/// Turns what one device reported into the result the record takes (`result.record` params
/// without build, operator and station): an exact decimal value with its unit and resolution,
/// a tightening's torque and angle, or a scanned text, with the device's identity.
///
/// The profile fills what the frame does not say: the unit (a Mitutoyo frame has none) and the
/// resolution. Without the profile's resolution, the resolution is the step of the last digit
/// the device sent (`12.340` → `0.001`). A reading without any unit cannot be recorded: it is
/// kept as unbound with the reason. Bytes that were no result (`error` events) are kept as
/// `skipped`, so the station's file shows everything the device sent. Status events are not
/// results: the normalizer returns nil for them.
public struct Normalizer: Sendable {
    /// The device's identity at the station, stable across reconnects (`caliper-1`): the
    /// outbox source of its results.
    public let source: String
    public let kind: DeviceKind
    /// The profile's name, recorded with each result.
    public let profileName: String
    /// The unit of readings whose frames carry none.
    public let unit: MeasurementUnit?
    /// The resolution to record instead of the last digit's step.
    public let resolution: ExactDecimal?
    /// The device's own serial or asset number, recorded with each result for traceability
    /// (calibration records name it).
    public let deviceSerial: String?

    public init(source: String, kind: DeviceKind, profileName: String, unit: MeasurementUnit?, resolution: ExactDecimal?, deviceSerial: String?) {
        self.source = source
        self.kind = kind
        self.profileName = profileName
        self.unit = unit
        self.resolution = resolution
        self.deviceSerial = deviceSerial
    }

    /// The normalizer of a device run with `profile`.
    public init(source: String, profile: DeviceProfile, deviceSerial: String?) {
        self.init(
            source: source, kind: profile.kind, profileName: profile.name, unit: profile.unit, resolution: profile.resolution,
            deviceSerial: deviceSerial
        )
    }

    /// The outbox item for `event`, or nil when the event is not a result.
    public func item(for event: ReadEvent, sourceKey: String? = nil, measuredAt: Date = Date()) -> Outbox.Item? {
        let payload: Result<JSONValue, Rejection>
        switch event.event {
        case .status:
            return nil
        case .reading(let reading, _):
            payload = measurement(value: reading.value, unit: reading.unit, angle: nil)
        case .tightening(let tightening, _):
            if let torque = tightening.torque {
                payload = measurement(value: torque, unit: tightening.torqueUnit, angle: tightening.angle, kind: "torque")
            } else {
                payload = .failure(Rejection(state: .unbound, reason: "the tightening result carries no torque value"))
            }
        case .scan(let scan, _):
            payload = .success(["kind": "scan", "text": .string(scan.text), "aim": scan.aim.map(JSONValue.string) ?? .null])
        case .error(let failure, _):
            payload = .failure(Rejection(state: .skipped, reason: "\(failure.reason): not a result"))
        }
        let raw = event.event.raw
        var item = Outbox.Item(
            source: source, sourceKey: sourceKey, eventLine: event.event.jsonLine, result: .null, raw: raw,
            readAt: event.readAt, measuredAt: measuredAt
        )
        switch payload {
        case .success(var result):
            if case .object(var members) = result {
                members["device"] = device
                members["raw_hex"] = .string(raw.description)
                result = .object(members)
            }
            item.result = result
        case .failure(let rejection):
            item.state = rejection.state
            item.reason = rejection.reason
            item.result = ["device": device, "raw_hex": .string(raw.description)]
        }
        return item
    }

    /// Why an event gives no deliverable result, and how it is kept.
    struct Rejection: Error {
        var state: Outbox.State
        var reason: String
    }

    private var device: JSONValue {
        ["kind": .string(kind.rawValue), "profile": .string(profileName), "serial": deviceSerial.map(JSONValue.string) ?? .null]
    }

    private func measurement(value: ExactDecimal, unit: MeasurementUnit?, angle: ExactDecimal?, kind: String? = nil) -> Result<JSONValue, Rejection> {
        guard let unit = unit ?? self.unit else {
            return .failure(Rejection(
                state: .unbound,
                reason: "the frame carries no unit and profile '\(profileName)' names none; set `unit` in devices/\(profileName).toml"
            ))
        }
        var members: [String: JSONValue] = [
            "kind": .string(kind ?? (self.kind == .torque ? "torque" : "measure")),
            "value": .string(value.description),
            "unit": .string(unit.code),
            "resolution": .string((resolution ?? value.resolution).description),
        ]
        if let angle { members["angle"] = .string(angle.description) }
        return .success(.object(members))
    }
}

/// The outbox as the `DurableSink` of a device whose protocol acknowledges results (Open
/// Protocol): each result is normalized and committed before `store` returns.
public struct OutboxSink: DurableSink {
    public let outbox: Outbox
    public let normalizer: Normalizer

    public init(outbox: Outbox, normalizer: Normalizer) {
        self.outbox = outbox
        self.normalizer = normalizer
    }

    public func store(_ result: DeviceResult) async throws -> StoreReceipt {
        let read = ReadEvent(event: result.event, readAt: MonotonicClock.nanoseconds())
        guard var item = normalizer.item(for: read, sourceKey: result.sourceKey) else {
            throw OutboxSinkError.notAResult(result.event.jsonLine)
        }
        item.source = result.source  // the client's source, which its gap queries use
        return try await outbox.append(item)
    }
}

/// A status event handed to an ``OutboxSink`` (the Open Protocol client stores results only).
public enum OutboxSinkError: Error, CustomStringConvertible {
    case notAResult(String)

    public var description: String {
        switch self {
        case .notAResult(let line): "not a result, nothing stored: \(line)"
        }
    }
}
