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

    /// The outbox item for `event`, or nil when the event is not a result. `tool` is the
    /// physical tool a torque controller described, recorded with its tightenings.
    public func item(for event: ReadEvent, sourceKey: String? = nil, tool: ToolIdentity? = nil, measuredAt: Date = Date()) -> Outbox.Item? {
        let payload: Result<Outbox.Payload, Rejection>
        switch event.event {
        case .status:
            return nil
        case .reading(let reading, _):
            payload = measurement(kind == .torque ? .torque : .measure, value: reading.value, unit: reading.unit, angle: nil)
        case .tightening(let tightening, _):
            if let torque = tightening.torque {
                payload = measurement(.torque, value: torque, unit: tightening.torqueUnit, angle: tightening.angle).map { measured in
                    var measured = measured
                    measured.tightening = Outbox.TighteningContext(tightening, tool: tool)
                    return measured
                }
            } else {
                payload = .failure(Rejection(state: .unbound, reason: "the tightening result carries no torque value"))
            }
        case .scan(let scan, _):
            payload = .success(.scan(text: scan.text, aim: scan.aim))
        case .error(let failure, _):
            payload = .failure(Rejection(state: .skipped, reason: "\(failure.reason): not a result"))
        }
        var item = Outbox.Item(
            source: source, sourceKey: sourceKey, eventLine: event.event.jsonLine, payload: nil, device: device, raw: event.event.raw,
            readAt: event.readAt, measuredAt: measuredAt
        )
        switch payload {
        case .success(let result):
            item.payload = result
        case .failure(let rejection):
            item.state = rejection.state
            item.reason = rejection.reason
        }
        return item
    }

    /// Why an event gives no deliverable result, and how it is kept.
    struct Rejection: Error {
        var state: Outbox.State
        var reason: String
    }

    private var device: Outbox.Device {
        Outbox.Device(kind: kind, profile: profileName, serial: deviceSerial)
    }

    private func measurement(_ kind: Outbox.Payload.Kind, value: ExactDecimal, unit: MeasurementUnit?, angle: ExactDecimal?) -> Result<Outbox.Payload, Rejection> {
        guard let unit = unit ?? self.unit else {
            return .failure(Rejection(
                state: .unbound,
                reason: "the frame carries no unit and profile '\(profileName)' names none; set `unit` in devices/\(profileName).toml"
            ))
        }
        return .success(.measurement(kind, value: value, unit: unit, resolution: resolution ?? value.resolution, angle: angle))
    }
}
