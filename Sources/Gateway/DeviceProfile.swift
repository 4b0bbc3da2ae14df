public import DeviceIO
public import DeviceProtocols
public import FloorgateCore

/// What a device is for at the bench.
public enum DeviceKind: String, Sendable, Hashable, CaseIterable {
    case scanner, gauge, torque
}

/// How Floorgate reaches the device.
public enum TransportSettings: Sendable, Hashable {
    /// A tty: RS-232 adapter, USB-CDC, FTDI/CH340/CP210x cable.
    case serial(SerialSettings)
    /// A hidraw node; `capture` holds an exclusive grab on the interface's evdev node so a
    /// keyboard wedge's scans never type into the focused window.
    case hidraw(capture: Bool)
    /// A USB interface read through libusb (vendor class, which no kernel driver serves), by
    /// its usbfs node.
    case usb(USBInterfaceSettings)
    /// A TCP connection (Open Protocol controllers); the station names the host.
    case tcp(port: Int)

    public var name: String {
        switch self {
        case .serial: "serial"
        case .hidraw: "hidraw"
        case .usb: "usb"
        case .tcp: "tcp"
        }
    }

    /// The udev subsystem of the node the device is read from; nil for a network device.
    public var subsystem: String? {
        switch self {
        case .serial: "tty"
        case .hidraw: "hidraw"
        case .usb: "usb"
        case .tcp: nil
        }
    }
}

/// Which discovered device a profile is for, by its udev properties. Every rule given must
/// match; a value may list alternatives. `FLOORGATE_PROFILE`, set by a udev rule, names the
/// profile outright.
public struct MatchRules: Sendable, Hashable {
    public var subsystem: String?
    /// `ID_VENDOR_ID` values (lower-case hex, `0403`).
    public var vendorIDs: [String]
    /// `ID_MODEL_ID` values.
    public var modelIDs: [String]
    /// `ID_SERIAL` values.
    public var serials: [String]
    /// The `FLOORGATE_PROFILE` value a udev rule sets for this profile.
    public var profileProperty: String?

    /// Whether a device with these udev properties is this profile's.
    public func matches(_ properties: [String: String]) -> Bool {
        if let profileProperty, properties["FLOORGATE_PROFILE"] == profileProperty { return true }
        guard subsystem != nil || !vendorIDs.isEmpty || !modelIDs.isEmpty || !serials.isEmpty else { return false }
        if let subsystem, properties["SUBSYSTEM"] != subsystem { return false }
        for (values, key) in [(vendorIDs, "ID_VENDOR_ID"), (modelIDs, "ID_MODEL_ID"), (serials, "ID_SERIAL")] where !values.isEmpty {
            guard let value = properties[key]?.lowercased(), values.contains(value) else { return false }
        }
        return true
    }
}

/// A gauge that answers on request: what to write and how often. Floorgate writes to a device
/// only when its profile says so — an unknown port is never probed.
public struct PollSettings: Sendable, Hashable {
    public var command: [UInt8]
    public var periodMilliseconds: Int

    public init(command: [UInt8], periodMilliseconds: Int) {
        self.command = command
        self.periodMilliseconds = periodMilliseconds
    }
}

/// One device profile (`devices/NAME.toml`): everything Floorgate needs to run a device of a
/// known protocol, so a new device needs a profile, not code (docs/profiles.md).
public struct DeviceProfile: Sendable {
    /// The file's name without `.toml`; what `FLOORGATE_PROFILE` and station configs name.
    public var name: String
    public var description: String
    public var kind: DeviceKind
    /// The decoder (`floorgate decode --list`).
    public var protocolEntry: ProtocolEntry
    public var transport: TransportSettings
    public var match: MatchRules
    /// The unit of readings whose frames carry none.
    public var unit: MeasurementUnit?
    /// The resolution to record where the device does not state one.
    public var resolution: ExactDecimal?
    public var poll: PollSettings?
    /// The decoder's settings: line ending, keyboard layout, scan suffix and prefix.
    public var decoderOptions: DecoderOptions
}

extension DeviceProfile {
    /// The protocol id (`mitutoyo`, `scanner-serial`).
    public var protocolID: String { protocolEntry.id }

    /// A fresh decoder for a device of this profile, with the profile's decoder settings.
    public func makeDecoder() -> any DeviceDecoder {
        protocolEntry.makeDecoder(decoderOptions)
    }
}
