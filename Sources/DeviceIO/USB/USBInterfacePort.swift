import CLibUSB
public import DeviceProtocols
import Foundation
import Glibc

/// What a profile says of a device read through libusb: the interface, the IN endpoint (nil:
/// the interface's first interrupt or bulk IN endpoint) and whether a kernel driver that holds
/// the interface may be set aside while Floorgate reads it (it is given back on close).
public struct USBInterfaceSettings: Sendable, Hashable {
    public var interface: UInt8
    public var endpoint: UInt8?
    public var detachKernelDriver: Bool

    public init(interface: UInt8 = 0, endpoint: UInt8? = nil, detachKernelDriver: Bool = false) {
        self.interface = interface
        self.endpoint = endpoint
        self.detachKernelDriver = detachKernelDriver
    }

    /// `interface 0, endpoint 0x81, kernel driver set aside`.
    public var summary: String {
        var parts = ["interface \(interface)", "endpoint " + (endpoint.map(hex) ?? "first IN")]
        if detachKernelDriver { parts.append("kernel driver set aside") }
        return parts.joined(separator: ", ")
    }
}

/// A USB interface opened for reading: the descriptor the device's packets arrive on (one packet
/// per read; writes to it go to the interface's OUT endpoint), which the caller owns, what was
/// opened, and for a HID interface its report descriptor.
public struct USBInterfaceDevice: Sendable {
    public var descriptor: Int32
    public var vendorID: UInt16
    public var productID: UInt16
    public var interface: USBInterface
    public var endpoint: USBEndpoint
    public var hidReportDescriptor: HIDReportDescriptor?
    /// The most one read returns: a packet, or a HID interface's longest input report when that
    /// spans several packets.
    public var readSize: Int
    /// Ends once the interface is released (and given back to a kernel driver that was set
    /// aside), after the descriptor's channel closed or the device went away.
    public var released: AsyncStream<Void>

    /// `0403:6001 interface 0 (vendor), 0x81 bulk IN, 64 bytes`.
    public var description: String {
        String(format: "%04x:%04x", vendorID, productID) + " interface \(interface.number) (\(interface.className)), \(endpoint)"
    }
}

/// The libusb transport: for USB interfaces no kernel driver serves (vendor class), or whose
/// driver the profile sets aside.
///
/// The device is named by its usbfs node (`/dev/bus/usb/BBB/DDD`, or a udev link to it), which
/// Floorgate opens itself so that the udev rules' group and mode govern access, as for ttys and
/// hidraw nodes; libusb only performs transfers on it (`libusb_wrap_sys_device`), and does no
/// discovery or hotplug of its own: udev does that for every transport.
///
/// A thread of the device's own moves packets from the IN endpoint into one end of a
/// `SOCK_SEQPACKET` socket pair, one packet per message, and what is written into the other
/// end to the OUT endpoint. The other end is what this returns: the same NIO channel and decoder
/// path as a tty or hidraw node reads it. When the device goes away the thread closes its end,
/// which the channel sees as the device hanging up; when the channel closes, the thread notices
/// within 100 ms, releases the interface (giving it back to its kernel driver) and ends.
public enum USBInterfacePort {
    /// The `usb_device` character major (`/dev/bus/usb/BBB/DDD`).
    static let usbDeviceMajor: UInt64 = 189

    /// Opens interface `settings.interface` of the USB device at `path` and starts reading its IN
    /// endpoint. `writes`: the profile writes poll commands, so an OUT endpoint is required.
    public static func open(path: String, settings: USBInterfaceSettings, writes: Bool) throws(DeviceOpenError) -> USBInterfaceDevice {
        let node = Glibc.open(path, O_RDWR | O_CLOEXEC | O_NOCTTY)
        guard node >= 0 else { throw DeviceOpenError(path: path, reason: DeviceOpenError.reason(forOpenErrno: errno)) }
        var handle: OpaquePointer?
        do throws(DeviceOpenError) {
            var status = stat()
            guard fstat(node, &status) == 0, status.st_mode & S_IFMT == S_IFCHR, major(of: status.st_rdev) == usbDeviceMajor else {
                throw DeviceOpenError(path: path, reason: .notAUSBDevice)
            }
            let descriptors: USBDescriptors
            do {
                descriptors = try USBDescriptors(parsing: USBSysfs.readAll(node) ?? [])
            } catch {
                throw DeviceOpenError(path: path, reason: .usb(detail: "\(error)"))
            }
            lseek(node, 0, SEEK_SET)  // libusb reads them again from the start
            let context = try LibUSBContext.shared.get(path: path)
            try check(libusb_wrap_sys_device(context, Int(node), &handle), "libusb_wrap_sys_device", path: path)
            guard let handle else { throw DeviceOpenError(path: path, reason: .usb(detail: "libusb_wrap_sys_device gave no handle")) }
            var configuration: Int32 = 0
            try check(libusb_get_configuration(handle, &configuration), "libusb_get_configuration", path: path)
            let chosen = try interfaceAndEndpoints(descriptors, configuration: UInt8(truncatingIfNeeded: configuration), settings: settings, writes: writes, path: path)
            let number = Int32(settings.interface)
            if settings.detachKernelDriver {
                try check(libusb_set_auto_detach_kernel_driver(handle, 1), "libusb_set_auto_detach_kernel_driver", path: path)
            } else if libusb_kernel_driver_active(handle, number) == 1 {
                throw DeviceOpenError(path: path, reason: .usb(detail:
                    "interface \(number) is served by a kernel driver; read its tty or hidraw node instead, or set transport.detach_kernel_driver = true"))
            }
            try check(libusb_claim_interface(handle, number), "libusb_claim_interface(\(number))", path: path)
            let report = chosen.interface.interfaceClass == 0x03 ? hidReportDescriptor(handle, interface: settings.interface) : nil
            var ends: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
                let code = errno
                libusb_release_interface(handle, number)
                throw DeviceOpenError(path: path, reason: .configuration(call: "socketpair", errno: code))
            }
            let longestReport = report?.applications.flatMap(\.inputReportLengths.values).max() ?? 0
            let readSize = max(chosen.input.maxPacketSize, longestReport, 1)
            let (released, done) = AsyncStream.makeStream(of: Void.self)
            let pump = USBPacketPump(
                handle: handle, node: node, interface: number, input: chosen.input, output: chosen.output, socket: ends[1],
                readSize: readSize, done: done)
            Thread.detachNewThread { pump.run() }
            return USBInterfaceDevice(
                descriptor: ends[0], vendorID: descriptors.vendorID, productID: descriptors.productID,
                interface: chosen.interface, endpoint: chosen.input, hidReportDescriptor: report, readSize: readSize, released: released)
        } catch {
            if let handle { libusb_close(handle) }
            Glibc.close(node)
            throw error
        }
    }

    /// The interface, its IN endpoint and (when `writes`) its OUT endpoint, or why not.
    private static func interfaceAndEndpoints(
        _ descriptors: USBDescriptors, configuration: UInt8, settings: USBInterfaceSettings, writes: Bool, path: String
    ) throws(DeviceOpenError) -> (interface: USBInterface, input: USBEndpoint, output: USBEndpoint?) {
        guard let interface = descriptors.interface(settings.interface, configuration: configuration) else {
            let present = (descriptors.configurations.first { $0.value == configuration } ?? descriptors.configurations.first)?.interfaces ?? []
            let listed = present.filter { $0.alternateSetting == 0 }.map { "\($0.number) (\($0.className))" }.joined(separator: ", ")
            throw DeviceOpenError(path: path, reason: .usb(detail: "no interface \(settings.interface); the device has: \(listed.isEmpty ? "none" : listed)"))
        }
        guard let input = interface.inputEndpoint(settings.endpoint) else {
            let listed = interface.endpoints.map(\.description).joined(separator: "; ")
            let wanted = settings.endpoint.map { "IN endpoint \(hex($0))" } ?? "interrupt or bulk IN endpoint"
            throw DeviceOpenError(path: path, reason: .usb(detail: "interface \(interface.number) has no \(wanted); it has: \(listed.isEmpty ? "none" : listed)"))
        }
        let output = interface.outputEndpoint
        if writes, output == nil {
            throw DeviceOpenError(path: path, reason: .usb(detail: "the profile polls, but interface \(interface.number) has no OUT endpoint to write to"))
        }
        return (interface, input, output)
    }

    /// GET_DESCRIPTOR (report) on a HID interface: what frames its input reports. Nil when the
    /// device does not answer or the descriptor does not parse (the profile's layout is used).
    private static func hidReportDescriptor(_ handle: OpaquePointer, interface: UInt8) -> HIDReportDescriptor? {
        var bytes = [UInt8](repeating: 0, count: 4096)
        let length = libusb_control_transfer(handle, 0x81, 0x06, 0x2200, UInt16(interface), &bytes, UInt16(bytes.count), 1000)
        guard length > 0 else { return nil }
        return try? HIDReportDescriptor(parsing: Array(bytes[..<Int(length)]))
    }

    private static func check(_ result: Int32, _ call: String, path: String) throws(DeviceOpenError) {
        guard result < 0 else { return }
        switch libusb_error(rawValue: result) {
        case LIBUSB_ERROR_ACCESS: throw DeviceOpenError(path: path, reason: .permissionDenied)
        case LIBUSB_ERROR_BUSY: throw DeviceOpenError(path: path, reason: .busy)
        case LIBUSB_ERROR_NO_DEVICE: throw DeviceOpenError(path: path, reason: .missing)
        default: throw DeviceOpenError(path: path, reason: .usb(detail: "\(call) failed: \(LibUSBContext.message(result))"))
        }
    }

    /// `major(3)`, a macro Swift does not import.
    static func major(of device: dev_t) -> UInt64 {
        let device = UInt64(device)
        return (device >> 8) & 0xfff | (device >> 32) & ~UInt64(0xfff)
    }
}

/// The process's one libusb context, made on first use.
final class LibUSBContext: Sendable {
    static let shared = LibUSBContext()

    /// The context, or why libusb_init failed (kept: it would fail again).
    private let context: OpaquePointerBox?
    private let failure: String

    private init() {
        var context: OpaquePointer?
        let code = floorgate_libusb_init_for_wrapped_devices(&context)
        self.context = code == 0 ? context.map(OpaquePointerBox.init) : nil
        failure = "libusb_init failed: \(Self.message(code))"
    }

    func get(path: String) throws(DeviceOpenError) -> OpaquePointer {
        guard let context else { throw DeviceOpenError(path: path, reason: .usb(detail: failure)) }
        return context.pointer
    }

    static func message(_ code: Int32) -> String {
        libusb_strerror(code).map { String(cString: $0) } ?? "libusb error \(code)"
    }
}

/// A libusb context or handle, which libusb lets any thread use.
struct OpaquePointerBox: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// Moves one claimed interface's packets between its endpoints and a socket, on its own thread
/// (libusb's synchronous transfers block). Only that thread touches it once `run` starts.
private final class USBPacketPump: @unchecked Sendable {
    private let handle: OpaquePointer
    private let node: Int32
    private let interface: Int32
    private let input: USBEndpoint
    private let output: USBEndpoint?
    private let socket: Int32
    private let readSize: Int
    private let done: AsyncStream<Void>.Continuation
    /// How long a transfer waits for the device before the socket is looked at again.
    private let pollMilliseconds: UInt32 = 100

    init(
        handle: OpaquePointer, node: Int32, interface: Int32, input: USBEndpoint, output: USBEndpoint?, socket: Int32,
        readSize: Int, done: AsyncStream<Void>.Continuation
    ) {
        self.readSize = readSize
        self.done = done
        self.handle = handle
        self.node = node
        self.interface = interface
        self.input = input
        self.output = output
        self.socket = socket
    }

    func run() {
        var packet = [UInt8](repeating: 0, count: readSize)
        var outgoing = [UInt8](repeating: 0, count: 4096)
        var stalls = 0
        while true {
            var received: Int32 = 0
            let result = transfer(input, &packet, length: packet.count, transferred: &received, timeout: pollMilliseconds)
            if result == 0 || result == LIBUSB_ERROR_TIMEOUT.rawValue, received > 0 {
                stalls = 0
                // Blocks while the channel is behind: the device keeps what it has not sent.
                guard send(socket, packet, Int(received), Int32(MSG_NOSIGNAL)) >= 0 else { break }
            } else if result == LIBUSB_ERROR_PIPE.rawValue, stalls < 3, libusb_clear_halt(handle, input.address) == 0 {
                stalls += 1  // the endpoint stalled: cleared, read on (a device that keeps stalling is let go)
                continue
            } else if result != 0, result != LIBUSB_ERROR_TIMEOUT.rawValue, result != LIBUSB_ERROR_INTERRUPTED.rawValue {
                break  // unplugged (NO_DEVICE), or the endpoint failed: the channel sees a hang-up
            }
            let count = recv(socket, &outgoing, outgoing.count, Int32(MSG_DONTWAIT))
            if count == 0 { break }  // the channel closed
            if count < 0, errno != EAGAIN, errno != EWOULDBLOCK, errno != EINTR { break }
            if count > 0, let output {
                var sent: Int32 = 0
                guard transfer(output, &outgoing, length: count, transferred: &sent, timeout: 1000) == 0 else { break }
            }
        }
        libusb_release_interface(handle, interface)
        libusb_close(handle)  // gives the interface back to its kernel driver when one was set aside
        Glibc.close(node)
        Glibc.close(socket)
        done.finish()
    }

    private func transfer(_ endpoint: USBEndpoint, _ bytes: inout [UInt8], length: Int, transferred: inout Int32, timeout: UInt32) -> Int32 {
        switch endpoint.transfer {
        case .interrupt: libusb_interrupt_transfer(handle, endpoint.address, &bytes, Int32(length), &transferred, timeout)
        default: libusb_bulk_transfer(handle, endpoint.address, &bytes, Int32(length), &transferred, timeout)
        }
    }
}
