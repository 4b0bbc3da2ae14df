public import DeviceIO

/// A device plugged in, as `floorgate devices` and the station page's devices page show it: its
/// node and USB identity, the profile it matches (or why none), whether this user may open it,
/// and for a USB device its interfaces with their drivers and endpoints.
public struct PluggedDevice: Sendable {
    public var device: DiscoveredDevice
    public var match: ProfileMatch
    /// Nil for a device without a node (a USB interface).
    public var access: NodeAccess?
    /// For a `usb_device`: its interfaces (nil for other nodes, or when sysfs cannot tell).
    public var interfaces: [USBInterfaceBinding]?

    public init(device: DiscoveredDevice, profiles: [DeviceProfile]) {
        self.device = device
        match = ProfileMatch.find(for: device, among: profiles)
        access = device.node.map(NodeAccess.check)
        interfaces = device.subsystem == "usb" ? USBSysfs.interfaces(syspath: device.syspath) : nil
    }

    /// USB ttys, every hidraw node, and USB devices with an interface no kernel driver serves;
    /// not consoles, ptys, on-board UARTs, hubs, USB interfaces (they have no node) or devices
    /// wholly served by kernel drivers.
    public static func isBenchCandidate(_ device: DiscoveredDevice) -> Bool {
        switch device.subsystem {
        case "hidraw": true
        case "usb": isUSBDevice(device) && (USBSysfs.interfaces(syspath: device.syspath)?.contains { $0.driver == nil || $0.driver == "usbfs" } ?? false)
        default: device.usb != nil && !device.isVirtual
        }
    }

    /// Of the usb subsystem only whole devices (`usb_device`, with a /dev/bus/usb node), not
    /// their interfaces; every tty and hidraw node.
    public static func isUSBDevice(_ device: DiscoveredDevice) -> Bool {
        device.subsystem != "usb" || device.properties["DEVTYPE"] == "usb_device"
    }

    /// `0403:6001 FTDI FT232R USB UART serial A10K3XQ9`, or `not USB`.
    public var usbText: String {
        device.usb.map { usb in
            let name = [usb.manufacturer, usb.product].compactMap { $0 }.joined(separator: " ")
            return "\(usb.vendorID):\(usb.productID)" + (name.isEmpty ? "" : " \(name)") + (usb.serial.map { " serial \($0)" } ?? "")
        } ?? "not USB"
    }

    /// `profile NAME (why)`, or why no profile matches.
    public var profileText: String {
        switch match {
        case .matched(let profile, let because): "profile \(profile.name) (\(because))"
        case .unmatched(let reason): reason
        }
    }

    /// `yes (owner …)`, or what to change; `no node`.
    public var accessText: String { access?.detail ?? "no node" }

    /// One line per interface: `0 vendor, no driver: 0x81 bulk IN, 64 bytes; 0x02 bulk OUT, 64 bytes`.
    public var interfaceLines: [String] {
        (interfaces ?? []).map { binding in
            let driver = switch binding.driver {
            case nil: "no driver"
            case "usbfs": "held through libusb"
            case let name?: "driver \(name)"
            }
            let endpoints = binding.interface.endpoints.map(\.description).joined(separator: "; ")
            return "\(binding.interface.number) \(binding.interface.className), \(driver)" + (endpoints.isEmpty ? "" : ": " + endpoints)
        }
    }
}
