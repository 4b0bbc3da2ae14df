import DeviceIO
import DeviceProtocols
import FloorgateCore
import Foundation
import Gateway
import Testing

@Suite("Device profiles", .timeLimit(.minutes(1)))
struct DeviceProfileTests {
    static let devices = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("devices").path

    static func parse(_ text: String) throws(ConfigurationError) -> DeviceProfile {
        try ProfileLoader.parse(text, file: "bench.toml", name: "bench")
    }

    static let good = """
        kind = "gauge"
        protocol = "sylvac"
        unit = "mm"
        resolution = "0.01"

        [transport]
        type = "serial"
        baud = 4800
        data_bits = 7
        parity = "even"
        stop_bits = 2

        [match]
        floorgate_profile = "bench"

        [poll]
        command = "?\\r"
        period_ms = 500
        """

    @Test("every shipped profile loads, one per device the protocols document")
    func shippedProfiles() {
        let (profiles, errors) = ProfileLoader.loadDirectory(Self.devices)
        #expect(errors.isEmpty, "\(errors)")
        #expect(Set(profiles.map(\.protocolID)) == ["mitutoyo", "uwave", "sylvac", "torque-ascii", "open-protocol", "scanner-serial", "hid-keyboard", "hid-pos"])
        #expect(profiles.count == 10)
    }

    @Test("a profile's settings are read exactly: line settings, decimals as strings, poll command")
    func settings() throws {
        let profile = try Self.parse(Self.good)
        #expect(profile.transport == .serial(SerialSettings(baud: 4800, dataBits: 7, parity: .even, stopBits: 2, flowControl: .none)))
        #expect(profile.unit == .millimetre && profile.resolution?.description == "0.01")
        #expect(profile.poll == PollSettings(command: [0x3F, 0x0D], periodMilliseconds: 500))
        #expect(profile.match.matches(["FLOORGATE_PROFILE": "bench"]))
        #expect(!profile.match.matches(["FLOORGATE_PROFILE": "other", "SUBSYSTEM": "tty"]))
    }

    @Test("match rules: every given rule must hold, alternatives within one")
    func matching() throws {
        let scanner = try ProfileLoader.load(file: Self.devices + "/serial-scanner-usb-adapter.toml")
        #expect(scanner.match.matches(["SUBSYSTEM": "tty", "ID_VENDOR_ID": "1A86", "ID_MODEL_ID": "7523"]))
        #expect(!scanner.match.matches(["SUBSYSTEM": "hidraw", "ID_VENDOR_ID": "1a86"]))
        #expect(!scanner.match.matches(["SUBSYSTEM": "tty", "ID_VENDOR_ID": "0fe7"]))
        #expect(scanner.decoderOptions.scanSuffix == .lineEnd)
        let wedge = try ProfileLoader.load(file: Self.devices + "/mitutoyo-usb-itn.toml")
        #expect(wedge.decoderOptions.keyboardLayout.name == "us")
        #expect(wedge.match.matches(["SUBSYSTEM": "hidraw", "ID_VENDOR_ID": "0fe7", "ID_MODEL_ID": "4001"]))
    }

    /// A bad profile is refused naming file, line, key and what is allowed.
    @Test("bad profiles are refused with file, line and key", arguments: [
        ("baud = 4800", "baud = 4801", "bench.toml:8: key 'transport.baud': 4801 is not supported; allowed: 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200"),
        ("parity = \"even\"", "parity = \"mark\"", "bench.toml:10: key 'transport.parity': 'mark' is not allowed; allowed: none, even, odd"),
        ("resolution = \"0.01\"", "resolution = 0.01", "bench.toml:4: key 'resolution': write decimals as strings (\"0.001\"), not TOML floating-point numbers, so no digit is lost"),
        ("protocol = \"sylvac\"", "protocol = \"sylvak\"", "bench.toml:2: key 'protocol': unknown protocol 'sylvak'; allowed: mitutoyo, uwave, sylvac, digimatic, torque-ascii, open-protocol, scanner-serial, hid-keyboard, hid-pos"),
        ("unit = \"mm\"", "unit = \"millimetre\"", nil),
        ("stop_bits = 2", "stopbits = 2", "bench.toml:11: key 'transport.stopbits': unknown key; allowed here: type, baud, data_bits, parity, stop_bits, flow_control, line_ending"),
        ("floorgate_profile = \"bench\"", "id_vendor_id = \"FTDI\"", "bench.toml:14: key 'match.id_vendor_id': 'ftdi' is not a USB id (4 hexadecimal digits, as udev's ID_VENDOR_ID)"),
        ("period_ms = 500", "period_ms = 5", "bench.toml:18: key 'poll.period_ms': 5 is out of range 50–3600000"),
        ("[transport]", "[transport", nil),
    ] as [(String, String, String?)])
    func refused(original: String, replacement: String, expected: String?) {
        do {
            _ = try Self.parse(Self.good.replacingOccurrences(of: original, with: replacement))
            Issue.record("accepted a profile with \(replacement)")
        } catch {
            if let expected {
                #expect(error.description == expected)
            } else {
                #expect(error.line > 0 && error.description.hasPrefix("bench.toml:"), "\(error)")
            }
        }
    }

    static let vendorClass = """
        kind = "gauge"
        protocol = "mitutoyo"
        unit = "mm"

        [transport]
        type = "usb"
        interface = 1
        endpoint = 0x83
        detach_kernel_driver = true

        [match]
        subsystem = "usb"
        id_vendor_id = "0fe7"

        [poll]
        command = "1\\r"
        """

    @Test("a usb profile: interface, IN endpoint in hex, kernel driver set aside on request; it may be polled")
    func usbTransport() throws {
        let profile = try Self.parse(Self.vendorClass)
        #expect(profile.transport == .usb(USBInterfaceSettings(interface: 1, endpoint: 0x83, detachKernelDriver: true)))
        #expect(profile.transport.subsystem == "usb")
        #expect(profile.poll?.command == Array("1\r".utf8))
        let defaults = try Self.parse("kind = \"gauge\"\nprotocol = \"mitutoyo\"\n[transport]\ntype = \"usb\"\n[match]\nfloorgate_profile = \"x\"\n")
        #expect(defaults.transport == .usb(USBInterfaceSettings(interface: 0, endpoint: nil, detachKernelDriver: false)))
        #expect(throws: ConfigurationError(file: "bench.toml", line: 8, key: "transport.endpoint", problem: "2 is not an IN endpoint address; allowed: 0x81–0x8f (write it in hex, endpoint = 0x81)")) {
            try Self.parse(Self.vendorClass.replacingOccurrences(of: "0x83", with: "0x02"))
        }
        #expect(throws: ConfigurationError(file: "bench.toml", line: 7, key: "transport.interface", problem: "256 is not a USB interface number (0–255)")) {
            try Self.parse(Self.vendorClass.replacingOccurrences(of: "interface = 1", with: "interface = 256"))
        }
    }

    @Test("a profile without transport or match says what is required")
    func missingTables() {
        #expect(throws: ConfigurationError(file: "bench.toml", line: 0, key: "transport", problem: "missing; a [transport] table with type = serial, hidraw, usb or tcp is required")) {
            try Self.parse("kind = \"gauge\"\nprotocol = \"mitutoyo\"\n")
        }
        #expect(throws: ConfigurationError.self) {
            try Self.parse("kind = \"torque\"\nprotocol = \"open-protocol\"\n[transport]\ntype = \"tcp\"\n[poll]\ncommand = \"?\"\n[match]\nfloorgate_profile = \"x\"\n")
        }
    }
}
