import CUdev
import Glibc

/// A USB device's identity, read from the `usb_device` above a node in sysfs (udev's database
/// has it too, but only where udevd runs).
public struct USBIdentity: Sendable, Hashable {
    /// Four lower-case hex digits, as udev's `ID_VENDOR_ID`.
    public var vendorID: String
    public var productID: String
    public var serial: String?
    public var manufacturer: String?
    public var product: String?
    /// The interface the node belongs to (`00`), as udev's `ID_USB_INTERFACE_NUM`.
    public var interfaceNumber: String?

    public init(vendorID: String, productID: String, serial: String?, manufacturer: String?, product: String?, interfaceNumber: String?) {
        self.vendorID = vendorID
        self.productID = productID
        self.serial = serial
        self.manufacturer = manufacturer
        self.product = product
        self.interfaceNumber = interfaceNumber
    }
}

/// A device node as udev knows it.
public struct DiscoveredDevice: Sendable, Hashable {
    /// `/dev/ttyUSB0`, `/dev/hidraw2`; nil for a device without a node.
    public var node: String?
    /// `tty`, `hidraw`.
    public var subsystem: String
    /// `/sys/devices/…`.
    public var syspath: String
    /// udev's properties, completed where udevd did not run: `SUBSYSTEM`, and `ID_VENDOR_ID`,
    /// `ID_MODEL_ID`, `ID_SERIAL_SHORT`, `ID_USB_INTERFACE_NUM` from the USB device when missing.
    public var properties: [String: String]
    public var usb: USBIdentity?

    public init(node: String?, subsystem: String, syspath: String, properties: [String: String], usb: USBIdentity?) {
        self.node = node
        self.subsystem = subsystem
        self.syspath = syspath
        var properties = properties
        properties["SUBSYSTEM"] = properties["SUBSYSTEM"] ?? subsystem
        if let usb {
            properties["ID_VENDOR_ID"] = properties["ID_VENDOR_ID"] ?? usb.vendorID
            properties["ID_MODEL_ID"] = properties["ID_MODEL_ID"] ?? usb.productID
            if let serial = usb.serial { properties["ID_SERIAL_SHORT"] = properties["ID_SERIAL_SHORT"] ?? serial }
            if let interface = usb.interfaceNumber { properties["ID_USB_INTERFACE_NUM"] = properties["ID_USB_INTERFACE_NUM"] ?? interface }
        }
        self.properties = properties
        self.usb = usb
    }

    /// What stays the same when the device is unplugged and plugged back, wherever: its USB ids,
    /// serial and interface; for a device without a USB serial, its port path; else its syspath.
    public var identity: String {
        if let usb {
            let place = usb.serial ?? properties["ID_PATH"] ?? syspath
            return "usb:\(usb.vendorID):\(usb.productID):\(place):\(usb.interfaceNumber ?? "-")"
        }
        return syspath
    }

    /// Whether this is a virtual device (a pty, a console), which no bench device is.
    public var isVirtual: Bool { syspath.hasPrefix("/sys/devices/virtual/") }
}

/// Why udev could not be asked.
public struct UdevError: Error, Sendable, Hashable, CustomStringConvertible {
    public var call: String
    public var description: String { "libudev: \(call) failed" }
}

/// Enumerating device nodes through libudev.
public enum Udev {
    /// Every device of `subsystems` udev (or sysfs, without udevd) knows of.
    public static func devices(subsystems: [String]) throws(UdevError) -> [DiscoveredDevice] {
        guard let udev = udev_new() else { throw UdevError(call: "udev_new") }
        defer { udev_unref(udev) }
        guard let enumerate = udev_enumerate_new(udev) else { throw UdevError(call: "udev_enumerate_new") }
        defer { udev_enumerate_unref(enumerate) }
        for subsystem in subsystems { udev_enumerate_add_match_subsystem(enumerate, subsystem) }
        guard udev_enumerate_scan_devices(enumerate) >= 0 else { throw UdevError(call: "udev_enumerate_scan_devices") }
        var devices: [DiscoveredDevice] = []
        var entry = udev_enumerate_get_list_entry(enumerate)
        while let current = entry {
            if let name = udev_list_entry_get_name(current), let device = udev_device_new_from_syspath(udev, name) {
                devices.append(discovered(device))
                udev_device_unref(device)
            }
            entry = udev_list_entry_get_next(current)
        }
        return devices.sorted { ($0.node ?? $0.syspath) < ($1.node ?? $1.syspath) }
    }

    /// The device at `node` (`/dev/ttyUSB0`, or a link to it).
    public static func device(node: String) throws(UdevError) -> DiscoveredDevice? {
        var status = stat()
        guard stat(node, &status) == 0, status.st_mode & S_IFMT == S_IFCHR else { return nil }
        guard let udev = udev_new() else { throw UdevError(call: "udev_new") }
        defer { udev_unref(udev) }
        guard let device = udev_device_new_from_devnum(udev, CChar(UInt8(ascii: "c")), status.st_rdev) else { return nil }
        defer { udev_device_unref(device) }
        return discovered(device)
    }

    /// A Swift value of a libudev device (which the caller still owns).
    static func discovered(_ device: OpaquePointer) -> DiscoveredDevice {
        var properties: [String: String] = [:]
        var entry = udev_device_get_properties_list_entry(device)
        while let current = entry {
            if let name = udev_list_entry_get_name(current) {
                properties[String(cString: name)] = udev_list_entry_get_value(current).map { String(cString: $0) } ?? ""
            }
            entry = udev_list_entry_get_next(current)
        }
        return DiscoveredDevice(
            node: udev_device_get_devnode(device).map { String(cString: $0) },
            subsystem: udev_device_get_subsystem(device).map { String(cString: $0) } ?? "",
            syspath: udev_device_get_syspath(device).map { String(cString: $0) } ?? "",
            properties: properties,
            usb: usbIdentity(of: device)
        )
    }

    private static func usbIdentity(of device: OpaquePointer) -> USBIdentity? {
        let isUSBDevice = udev_device_get_devtype(device).map { String(cString: $0) == "usb_device" } ?? false
        guard let usb = isUSBDevice ? device : udev_device_get_parent_with_subsystem_devtype(device, "usb", "usb_device") else { return nil }
        func attribute(_ device: OpaquePointer, _ name: String) -> String? {
            udev_device_get_sysattr_value(device, name).map { String(cString: $0).trimmingSpaces }
        }
        guard let vendor = attribute(usb, "idVendor"), let product = attribute(usb, "idProduct") else { return nil }
        let interface = udev_device_get_parent_with_subsystem_devtype(device, "usb", "usb_interface").flatMap { attribute($0, "bInterfaceNumber") }
        return USBIdentity(
            vendorID: vendor.lowercased(), productID: product.lowercased(), serial: attribute(usb, "serial"),
            manufacturer: attribute(usb, "manufacturer"), product: attribute(usb, "product"), interfaceNumber: interface
        )
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var text = Substring(self)
        while text.last?.isWhitespace == true { text = text.dropLast() }
        while text.first?.isWhitespace == true { text = text.dropFirst() }
        return String(text)
    }
}
