public import FloorgateCore
public import Logging
public import RecordProtocol

/// What the calibration register says of a measuring device that is not in order, in words.
public struct CalibrationWarning: Sendable, Hashable {
    public var text: String
    /// Whether the record refuses the device's results now (overdue, out of service, unknown),
    /// rather than warning that it falls due soon.
    public var refusesResults: Bool

    public init(_ text: String, refusesResults: Bool) {
        self.text = text
        self.refusesResults = refusesResults
    }
}

/// Asks the record's calibration register, at start and every quarter of an hour, how the
/// station's measuring devices stand, and tells the views in words: a device overdue, out of
/// service or unknown to the register (whose results the record refuses), or due within the
/// warning period. Scanners are not calibrated and are not asked about.
public struct CalibrationWatch: Sendable {
    /// A gauge or torque tool of the station, by the name its configuration gives it.
    public struct Device: Sendable, Hashable {
        public var name: String
        /// The asset number its results carry (the configuration's `serial`).
        public var serial: String?

        public init(name: String, serial: String?) {
            self.name = name
            self.serial = serial
        }
    }

    public var devices: [Device]
    public var warningDays: Int

    public init(devices: [Device], warningDays: Int) {
        self.devices = devices
        self.warningDays = warningDays
    }

    /// The station's gauges and torque tools.
    public init(_ configuration: StationConfiguration) {
        self.init(
            devices: configuration.devices.filter { $0.profile.kind != .scanner }.map { Device(name: $0.name, serial: $0.serial) },
            warningDays: configuration.calibrationWarningDays)
    }

    /// Each device's warning from a `calibration.list` answer of the whole register (nil when
    /// it is in order). A register without entries gates nothing, so it warns of nothing.
    public func warnings(from list: JSONValue) -> [(device: String, warning: CalibrationWarning?)] {
        let entries = list["devices"]?.arrayValue ?? []
        let byAsset = Dictionary(entries.compactMap { entry in entry["asset"]?.stringValue.map { ($0, entry) } }, uniquingKeysWith: { $1 })
        return devices.map { device in
            guard !entries.isEmpty else { return (device.name, nil) }
            guard let serial = device.serial else {
                return (device.name, refused("\(device.name): no serial in the station's configuration, so the record refuses its results: give it its asset number"))
            }
            guard let entry = byAsset[serial] else {
                return (device.name, refused("\(device.name) \(serial): not in the calibration register: the record refuses its results"))
            }
            let due = entry["due_on"]?.stringValue ?? "?"
            switch entry["status"]?.stringValue {
            case "calibrated":
                guard let days = entry["days_until_due"]?.integerValue else { return (device.name, nil) }
                if days < 0 { return (device.name, refused("\(device.name) \(serial): calibration overdue since \(due)")) }
                if days <= Int64(warningDays) {
                    let when = days == 0 ? "today" : "in \(days) day\(days == 1 ? "" : "s")"
                    return (device.name, CalibrationWarning("\(device.name) \(serial): calibration due \(due) (\(when))", refusesResults: false))
                }
                return (device.name, nil)
            case "failed":
                return (device.name, refused("\(device.name) \(serial): failed calibration on \(entry["calibrated_on"]?.stringValue ?? "?"), out of service"))
            default:
                return (device.name, refused("\(device.name) \(serial): out of service"))
            }
        }
    }

    private func refused(_ text: String) -> CalibrationWarning { CalibrationWarning(text, refusesResults: true) }

    /// Asks the register and reports to `station` until cancelled: every 15 minutes, or after
    /// 30 s while the record cannot be reached.
    public func run(record: RecordClient, station: Station, logger: Logger) async {
        guard !devices.isEmpty else { return }
        while !Task.isCancelled {
            var wait = Duration.seconds(900)
            do {
                await station.calibrationReviewed(warnings(from: try await record.call(.calibrationList, [:])))
            } catch {
                logger.debug("calibration register not read", metadata: ["reason": "\(error)"])
                wait = .seconds(30)
            }
            try? await Task.sleep(for: wait)
        }
    }
}
