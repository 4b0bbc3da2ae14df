import Glibc

/// One interface of a plugged-in USB device and the kernel driver bound to it, if any
/// (`usbfs` when a program such as Floorgate holds it through libusb).
public struct USBInterfaceBinding: Sendable, Hashable {
    public var interface: USBInterface
    public var driver: String?

    /// Whether a program may read it through libusb without setting a kernel driver aside.
    public var isFree: Bool { driver == nil }
}

/// What sysfs tells of a USB device beyond udev's properties: its descriptors (endpoints
/// included) and which driver serves each interface.
public enum USBSysfs {
    /// The interfaces (first alternate setting each) of the active configuration of the
    /// `usb_device` at `syspath`; nil when its descriptors cannot be read or parsed.
    public static func interfaces(syspath: String) -> [USBInterfaceBinding]? {
        guard let bytes = contents(syspath + "/descriptors"), let descriptors = try? USBDescriptors(parsing: bytes) else { return nil }
        let active = contents(syspath + "/bConfigurationValue").flatMap { UInt8(String(decoding: $0, as: UTF8.self).filter(\.isNumber)) }
        let configuration = descriptors.configurations.first { $0.value == active } ?? descriptors.configurations.first
        let name = syspath.split(separator: "/").last.map(String.init) ?? ""
        return (configuration?.interfaces ?? []).filter { $0.alternateSetting == 0 }.map { interface in
            let link = "\(syspath)/\(name):\(configuration?.value ?? 1).\(interface.number)/driver"
            return USBInterfaceBinding(interface: interface, driver: driverName(link))
        }
    }

    private static func driverName(_ link: String) -> String? {
        var target = [CChar](repeating: 0, count: 4096)
        let length = readlink(link, &target, target.count - 1)
        guard length > 0 else { return nil }
        let path = String(decoding: target[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return path.split(separator: "/").last.map(String.init)
    }

    private static func contents(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        return readAll(descriptor)
    }

    /// Everything `descriptor` reads until its end (a sysfs attribute, a usbfs node's
    /// descriptors); nil on a read error.
    static func readAll(_ descriptor: Int32) -> [UInt8]? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(descriptor, &chunk, chunk.count)
            if count < 0 { return nil }
            if count == 0 { return bytes }
            bytes += chunk[..<count]
        }
    }
}
