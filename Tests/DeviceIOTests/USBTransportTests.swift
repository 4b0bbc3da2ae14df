import DeviceIO
import Foundation
import Glibc
import Testing

/// USB descriptors recorded with usbvm (../shared/usbvm, QEMU's devices under a Debian 6.1 kernel):
/// the sysfs `descriptors` file of each device, which is also what its usbfs node reads.
enum RecordedUSBDescriptors {
    /// QEMU usb-serial: an FTDI FT232, one vendor-class interface with bulk IN 0x81 and OUT 0x02.
    static let ftdi = bytes("12 01 00 02 00 00 00 08 03 04 01 60 00 04 01 02 04 01 09 02 20 00 01 01 00 a0 32 09 04 00 00 02 ff ff ff 00 07 05 81 02 40 00 00 07 05 02 02 40 00 00")
    /// QEMU usb-kbd: a boot keyboard, one HID interface (with its HID class descriptor) and an
    /// interrupt IN endpoint of 8 bytes.
    static let keyboard = bytes("12 01 00 02 00 00 00 40 27 06 01 00 00 00 01 04 0b 01 09 02 22 00 01 01 08 a0 32 09 04 00 00 01 03 01 01 00 09 21 11 01 00 01 22 3f 00 07 05 81 03 08 00 07")
    /// The xHCI's USB 3 root hub: its endpoint is followed by a SuperSpeed companion descriptor.
    static let superSpeedHub = bytes("12 01 00 03 09 00 03 09 6b 1d 03 00 01 06 03 02 01 01 09 02 1f 00 01 01 00 e0 00 09 04 00 00 01 09 00 00 00 07 05 81 03 02 00 0c 06 30 00 00 02 00")

    static func bytes(_ hex: String) -> [UInt8] { hex.split(separator: " ").map { UInt8($0, radix: 16)! } }
}

@Suite("USB transport", .timeLimit(.minutes(2)))
struct USBTransportTests {
    @Test("an FTDI adapter's vendor-class interface: bulk IN 0x81 to read, bulk OUT 0x02 to write")
    func vendorClassInterface() throws {
        let descriptors = try USBDescriptors(parsing: RecordedUSBDescriptors.ftdi)
        #expect(descriptors.vendorID == 0x0403 && descriptors.productID == 0x6001)
        #expect(descriptors.configurations.map(\.value) == [1])
        let interface = try #require(descriptors.interface(0, configuration: 1))
        #expect(interface.interfaceClass == 0xff && interface.className == "vendor")
        #expect(interface.endpoints == [
            USBEndpoint(address: 0x81, transfer: .bulk, maxPacketSize: 64),
            USBEndpoint(address: 0x02, transfer: .bulk, maxPacketSize: 64),
        ])
        #expect(interface.inputEndpoint()?.address == 0x81)
        #expect(interface.outputEndpoint?.address == 0x02)
        #expect(interface.inputEndpoint(0x82) == nil)
        #expect(descriptors.interface(1) == nil)
        #expect(interface.endpoints[0].description == "0x81 bulk IN, 64 bytes")
    }

    @Test("a HID keyboard: the HID class descriptor is stepped over; interrupt IN of 8 bytes, nothing to write to")
    func hidInterface() throws {
        let descriptors = try USBDescriptors(parsing: RecordedUSBDescriptors.keyboard)
        let interface = try #require(descriptors.interface(0))
        #expect(interface.className == "HID" && interface.interfaceSubclass == 1 && interface.interfaceProtocol == 1)
        #expect(interface.endpoints == [USBEndpoint(address: 0x81, transfer: .interrupt, maxPacketSize: 8)])
        #expect(interface.outputEndpoint == nil)
    }

    @Test("a SuperSpeed companion descriptor after an endpoint is stepped over")
    func superSpeedCompanion() throws {
        let descriptors = try USBDescriptors(parsing: RecordedUSBDescriptors.superSpeedHub)
        let interface = try #require(descriptors.interface(0))
        #expect(interface.className == "hub" && interface.endpoints.map(\.address) == [0x81])
    }

    @Test("bad descriptors are refused with where and why")
    func badDescriptors() {
        let ftdi = RecordedUSBDescriptors.ftdi
        func problem(_ bytes: [UInt8]) -> USBDescriptorError? {
            do { _ = try USBDescriptors(parsing: bytes); return nil } catch { return error }
        }
        #expect(problem(Array(ftdi.prefix(40))) == USBDescriptorError(offset: 36, problem: .truncated))
        #expect(problem(Array(ftdi.prefix(27)) + [0, 4]) == USBDescriptorError(offset: 27, problem: .lengthTooShort(0)))
        #expect(problem(Array(ftdi.prefix(18)) + [7, 5, 0x81, 2, 64, 0, 0]) == USBDescriptorError(offset: 18, problem: .outsideConfiguration))
        #expect(problem(Array(ftdi.prefix(18)) + [4, 5, 0x81, 2]) == USBDescriptorError(offset: 18, problem: .lengthTooShort(4)))
        #expect(problem(Array(ftdi.dropFirst())) == USBDescriptorError(offset: 0, problem: .notADeviceDescriptor))
        #expect(problem([]) == USBDescriptorError(offset: 0, problem: .notADeviceDescriptor))
    }

    @Test("any bytes give descriptors or an error, never a trap (random and mutated recordings)")
    func neverTraps() {
        var generator = SystemRandomNumberGenerator()
        let seeds = [RecordedUSBDescriptors.ftdi, RecordedUSBDescriptors.keyboard, RecordedUSBDescriptors.superSpeedHub]
        var parsed = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round.isMultiple(of: 2) {
                bytes = (0..<Int.random(in: 0...80, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            } else {
                bytes = seeds[round % seeds.count]
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
                if Bool.random(using: &generator) { bytes.removeLast(Int.random(in: 0...bytes.count, using: &generator)) }
            }
            if let descriptors = try? USBDescriptors(parsing: bytes) {
                parsed += 1
                for configuration in descriptors.configurations {
                    for interface in configuration.interfaces { _ = interface.inputEndpoint(); _ = interface.outputEndpoint }
                }
            }
        }
        #expect(parsed > 0, "no mutation parsed: the test exercised only the refusals")
    }

    @Test("sysfs: each interface of the active configuration with the driver bound to it")
    func sysfsInterfaces() throws {
        let device = FileManager.default.temporaryDirectory.appendingPathComponent("floorgate-usb-\(UUID().uuidString.prefix(8))/1-1")
        defer { try? FileManager.default.removeItem(at: device.deletingLastPathComponent()) }
        try FileManager.default.createDirectory(at: device.appendingPathComponent("1-1:1.0"), withIntermediateDirectories: true)
        try Data(RecordedUSBDescriptors.ftdi).write(to: device.appendingPathComponent("descriptors"))
        try "1\n".write(to: device.appendingPathComponent("bConfigurationValue"), atomically: true, encoding: .utf8)
        let free = try #require(USBSysfs.interfaces(syspath: device.path))
        #expect(free.map(\.interface.number) == [0] && free[0].driver == nil && free[0].isFree)
        try FileManager.default.createSymbolicLink(
            atPath: device.appendingPathComponent("1-1:1.0/driver").path, withDestinationPath: "../../../../bus/usb/drivers/ftdi_sio")
        let bound = try #require(USBSysfs.interfaces(syspath: device.path))
        #expect(bound[0].driver == "ftdi_sio" && !bound[0].isFree)
        #expect(USBSysfs.interfaces(syspath: device.deletingLastPathComponent().path) == nil)
    }

    @Test("opening something that is not a USB device node is refused, naming it")
    func notAUSBNode() throws {
        let settings = USBInterfaceSettings(interface: 0, endpoint: nil, detachKernelDriver: false)
        #expect(throws: DeviceOpenError(path: "/dev/null", reason: .notAUSBDevice)) {
            try USBInterfacePort.open(path: "/dev/null", settings: settings, writes: false)
        }
        #expect(throws: DeviceOpenError(path: "/dev/bus/usb/009/099", reason: .missing)) {
            try USBInterfacePort.open(path: "/dev/bus/usb/009/099", settings: settings, writes: false)
        }
        let terminal = try PseudoTerminal()
        #expect(throws: DeviceOpenError(path: terminal.path, reason: .notAUSBDevice)) {
            try USBInterfacePort.open(path: terminal.path, settings: settings, writes: false)
        }
        #expect(DeviceOpenError(path: "/dev/null", reason: .notAUSBDevice).description.contains("/dev/bus/usb"))
    }
}
