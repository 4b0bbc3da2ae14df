import CDeviceShims
import CUdev
public import DeviceProtocols
import Glibc

/// An open hidraw node: its descriptor (which the caller owns), what the kernel says of it, and
/// its report layout, which the HID decoders frame by.
public struct HIDRawDevice: Sendable {
    public var descriptor: Int32
    public var name: String
    public var vendorID: UInt16
    public var productID: UInt16
    public var reportDescriptor: HIDReportDescriptor
}

/// Opening a hidraw node: a keyboard-wedge or POS scanner read as raw input reports.
public enum HIDRawPort {
    /// Opens `path` and reads its report descriptor (HIDIOCGRDESC), name and ids.
    public static func open(path: String) throws(DeviceOpenError) -> HIDRawDevice {
        let descriptor = Glibc.open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw DeviceOpenError(path: path, reason: DeviceOpenError.reason(forOpenErrno: errno)) }
        do throws(DeviceOpenError) {
            var bytes = [UInt8](repeating: 0, count: 4096)
            let length = floorgate_hidraw_report_descriptor(descriptor, &bytes, Int32(bytes.count))
            guard length >= 0 else { throw DeviceOpenError(path: path, reason: .configuration(call: "HIDIOCGRDESC", errno: errno)) }
            let parsed: HIDReportDescriptor
            do {
                parsed = try HIDReportDescriptor(parsing: Array(bytes[..<Int(length)]))
            } catch {
                throw DeviceOpenError(path: path, reason: .configuration(call: "report descriptor (\(error))", errno: EINVAL))
            }
            var bus: UInt32 = 0, vendor: UInt32 = 0, product: UInt32 = 0
            guard floorgate_hidraw_info(descriptor, &bus, &vendor, &product) == 0 else {
                throw DeviceOpenError(path: path, reason: .configuration(call: "HIDIOCGRAWINFO", errno: errno))
            }
            var name = [CChar](repeating: 0, count: 256)
            let nameLength = floorgate_hidraw_name(descriptor, &name, Int32(name.count))
            return HIDRawDevice(
                descriptor: descriptor,
                name: nameLength > 0 ? String(decoding: name.prefix(Int(nameLength)).map { UInt8(bitPattern: $0) }, as: UTF8.self) : "",
                vendorID: UInt16(truncatingIfNeeded: vendor), productID: UInt16(truncatingIfNeeded: product), reportDescriptor: parsed
            )
        } catch {
            close(descriptor)
            throw error
        }
    }
}

/// Holds the evdev node of a hidraw node's interface exclusively (EVIOCGRAB), so that what a
/// keyboard-wedge scanner types reaches Floorgate (through hidraw) and no window on the screen.
/// The grab lasts until ``release()`` (or the value is dropped, or the process ends).
public final class EvdevGrab: Sendable {
    public let eventNode: String
    private let descriptor: Int32

    /// Grabs every evdev node of the HID device behind `hidrawPath`; none when it has none (a
    /// POS scanner types nowhere).
    public static func grab(hidrawPath: String) throws(DeviceOpenError) -> [EvdevGrab] {
        var grabs: [EvdevGrab] = []
        for node in eventNodes(ofHIDRaw: hidrawPath) {
            let descriptor = Glibc.open(node, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
            guard descriptor >= 0 else { throw DeviceOpenError(path: node, reason: DeviceOpenError.reason(forOpenErrno: errno)) }
            guard floorgate_evdev_grab(descriptor, 1) == 0 else {
                let code = errno
                close(descriptor)
                throw DeviceOpenError(path: node, reason: code == EBUSY ? .busy : .configuration(call: "EVIOCGRAB", errno: code))
            }
            grabs.append(EvdevGrab(eventNode: node, descriptor: descriptor))
        }
        return grabs
    }

    private init(eventNode: String, descriptor: Int32) {
        self.eventNode = eventNode
        self.descriptor = descriptor
    }

    deinit {
        _ = floorgate_evdev_grab(descriptor, 0)
        close(descriptor)
    }

    /// The `/dev/input/eventN` nodes that belong to the same HID device as `hidrawPath`.
    static func eventNodes(ofHIDRaw hidrawPath: String) -> [String] {
        var status = stat()
        guard stat(hidrawPath, &status) == 0, let udev = udev_new() else { return [] }
        defer { udev_unref(udev) }
        guard let hidraw = udev_device_new_from_devnum(udev, CChar(UInt8(ascii: "c")), status.st_rdev) else { return [] }
        defer { udev_device_unref(hidraw) }
        guard let hid = udev_device_get_parent_with_subsystem_devtype(hidraw, "hid", nil),
              let enumerate = udev_enumerate_new(udev) else { return [] }
        defer { udev_enumerate_unref(enumerate) }
        udev_enumerate_add_match_parent(enumerate, hid)
        udev_enumerate_add_match_subsystem(enumerate, "input")
        udev_enumerate_scan_devices(enumerate)
        var nodes: [String] = []
        var entry = udev_enumerate_get_list_entry(enumerate)
        while let current = entry {
            if let name = udev_list_entry_get_name(current), let device = udev_device_new_from_syspath(udev, name) {
                if let node = udev_device_get_devnode(device).map({ String(cString: $0) }), node.hasPrefix("/dev/input/event") {
                    nodes.append(node)
                }
                udev_device_unref(device)
            }
            entry = udev_list_entry_get_next(current)
        }
        return nodes.sorted()
    }
}
