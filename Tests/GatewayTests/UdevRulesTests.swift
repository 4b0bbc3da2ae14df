import DeviceIO
import Foundation
import Gateway
import Testing

/// The shipped udev rules read by the real udevadm, and the site rules `floorgate udev-rule`
/// writes, on property sets recorded from real devices.
@Suite("udev rules", .timeLimit(.minutes(1)))
struct UdevRulesTests {
    private static let rules = StationHarness.repository.appendingPathComponent("udev/70-floorgate.rules").path

    /// `udevadm test` with `rulesText` as the only rules file of /etc/udev/rules.d, in a private
    /// mount namespace; its output. nil where udevadm or unshare cannot run (not root).
    private func udevadmTest(_ rulesText: String) throws -> String? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/udevadm") || FileManager.default.isExecutableFile(atPath: "/bin/udevadm"),
              getuid() == 0 else { return nil }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("floorgate-udev-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        try rulesText.write(to: scratch.appendingPathComponent("70-floorgate.rules"), atomically: true, encoding: .utf8)
        // The namespace also sees a group file with the floorgate group, as `make install-udev`
        // leaves it.
        let groups = (try? String(contentsOfFile: "/etc/group", encoding: .utf8)) ?? ""
        try (groups + (groups.contains("\nfloorgate:") || groups.hasPrefix("floorgate:") ? "" : "floorgate:x:990:\n"))
            .write(to: scratch.appendingPathComponent("group"), atomically: true, encoding: .utf8)
        return try Program.run("/usr/bin/unshare", ["-m", "sh", "-c", """
            mount --bind '\(scratch.path)/group' /etc/group && \
            mkdir -p /etc/udev/rules.d && mount -t tmpfs none /etc/udev/rules.d && \
            cp '\(scratch.path)/70-floorgate.rules' /etc/udev/rules.d/ && \
            udevadm test --action=add /sys/devices/virtual/tty/ptmx 2>&1
            """]).output
    }

    /// What udevadm said about the file while reading it (`FILE:LINE message`); the lines it
    /// logs while applying the rules to the device start with the device's name instead.
    private func problems(_ output: String) -> [String] {
        output.split(separator: "\n").map(String.init).filter { $0.hasPrefix("/etc/udev/rules.d/70-floorgate.rules:") }
    }

    @Test("udevadm reads the shipped rules without a complaint (and does complain about a broken copy)")
    func syntax() throws {
        let text = try String(contentsOfFile: Self.rules, encoding: .utf8)
        guard let output = try udevadmTest(text) else {
            print("udev rules syntax: skipped (needs root and udevadm; `make deps` installs udev)")
            return
        }
        #expect(output.contains("70-floorgate.rules"), "udevadm did not read the rules: \(output.prefix(2000))")
        #expect(problems(output).isEmpty, "\(problems(output))")
        let broken = try #require(try udevadmTest(text.replacingOccurrences(of: ", MODE=\"0660\"", with: ", MOD=\"0660\"")))
        #expect(problems(broken).contains { $0.contains("Invalid key 'MOD'") }, "a misspelt key went unnoticed: \(broken.prefix(2000))")
    }

    @Test("the shipped rules never make a node world-accessible and always name the floorgate group")
    func permissions() throws {
        let text = try String(contentsOfFile: Self.rules, encoding: .utf8)
        let assignments = text.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains("MODE=") }
        #expect(!assignments.isEmpty)
        for line in assignments {
            #expect(line.contains("MODE=\"0660\"") && line.contains("GROUP=\"floorgate\""), "\(line)")
        }
    }

    /// A device from `udevadm info --query=property` output kept in Tests/Fixtures/udev/.
    private func recorded(_ name: String) throws -> DiscoveredDevice {
        let url = StationHarness.repository.appendingPathComponent("Tests/Fixtures/udev/\(name).properties")
        var properties: [String: String] = [:]
        var attributes: [String: String] = [:]
        for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
            if line.hasPrefix("ATTRS{"), let close = line.firstIndex(of: "}") {  // ATTRS{idVendor}=="0627"
                let name = String(line[line.index(line.startIndex, offsetBy: 6)..<close])
                attributes[name] = String(line[line.index(close, offsetBy: 1)...]).trimmingCharacters(in: CharacterSet(charactersIn: "=\""))
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            properties[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        let usb = attributes["idVendor"].map { vendor in
            USBIdentity(vendorID: vendor, productID: attributes["idProduct"] ?? "", serial: attributes["serial"],
                        manufacturer: attributes["manufacturer"], product: attributes["product"], interfaceNumber: attributes["bInterfaceNumber"])
        }
        return DiscoveredDevice(
            node: properties["DEVNAME"], subsystem: properties["SUBSYSTEM"] ?? "", syspath: "/sys" + (properties["DEVPATH"] ?? ""),
            properties: properties, usb: usb)
    }

    private func profile(_ name: String) throws -> DeviceProfile {
        try ProfileLoader.load(file: StationHarness.repository.appendingPathComponent("devices/\(name).toml").path)
    }

    @Test("a USB-serial adapter with a serial: matched by vendor, product, serial and interface")
    func adapterWithSerial() throws {
        let rule = try SiteRule.text(for: try recorded("ftdi-ft232r-tty"), profile: try profile("mitutoyo-dp1va-rs232"))
        let lines = rule.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[2] == #"SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6001", ATTRS{serial}=="A10K3XQ9", ENV{ID_USB_INTERFACE_NUM}=="00", ENV{FLOORGATE_PROFILE}="mitutoyo-dp1va-rs232", ENV{FLOORGATE_KIND}="gauge""#)
        #expect(lines[0].contains("/dev/floorgate/gauge-A10K3XQ9"))
    }

    @Test("an adapter without a serial is bound to its USB port")
    func adapterWithoutSerial() throws {
        let rule = try SiteRule.text(for: try recorded("ch340-tty"), profile: try profile("norbar-tst"))
        #expect(rule.split(separator: "\n")[2] == #"SUBSYSTEM=="tty", KERNELS=="1-1.3:1.0", ENV{FLOORGATE_PROFILE}="norbar-tst", ENV{FLOORGATE_KIND}="torque""#)
        #expect(rule.contains("no serial: bound to USB port 1-1.3:1.0"))
    }

    @Test("a HID scanner: hidraw, matched by the USB device's attributes (udev has no ID_* for hidraw before our rules)")
    func hidScanner() throws {
        let rule = try SiteRule.text(for: try recorded("hid-keyboard-hidraw"), profile: try profile("hid-keyboard-scanner"))
        #expect(rule.split(separator: "\n")[2] == #"SUBSYSTEM=="hidraw", ATTRS{idVendor}=="0627", ATTRS{idProduct}=="0001", ATTRS{serial}=="68284-0000:00:05.0-2", ENV{FLOORGATE_PROFILE}="hid-keyboard-scanner", ENV{FLOORGATE_KIND}="scanner""#)
    }

    @Test("a vendor-class device read through libusb: its usb_device node, by serial, else by USB port")
    func usbDevice() throws {
        let profile = try ProfileLoader.parse(
            "kind = \"gauge\"\nprotocol = \"mitutoyo\"\n[transport]\ntype = \"usb\"\n[match]\nsubsystem = \"usb\"\n", file: "bench.toml", name: "bench-usb")
        var device = try recorded("ftdi-ft232r-usb")
        #expect(device.node == "/dev/bus/usb/001/002" && device.subsystem == "usb")
        let rule = try SiteRule.text(for: device, profile: profile)
        #expect(rule.split(separator: "\n")[2] == #"SUBSYSTEM=="usb", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6001", ATTRS{serial}=="A10K3XQ9", ENV{FLOORGATE_PROFILE}="bench-usb", ENV{FLOORGATE_KIND}="gauge""#)
        #expect(rule.contains("udevadm trigger --subsystem-match=usb"))
        device.properties["ID_SERIAL_SHORT"] = nil
        #expect(try SiteRule.text(for: device, profile: profile).split(separator: "\n")[2] == #"SUBSYSTEM=="usb", KERNEL=="1-1", ENV{FLOORGATE_PROFILE}="bench-usb", ENV{FLOORGATE_KIND}="gauge""#)
        #expect(throws: SiteRuleError.self) { try SiteRule.text(for: try recorded("ftdi-ft232r-tty"), profile: profile) }
    }

    @Test("a profile that does not fit the device is refused with both named")
    func mismatch() throws {
        #expect(throws: SiteRuleError.self) { try SiteRule.text(for: try recorded("ftdi-ft232r-tty"), profile: try profile("hid-pos-scanner")) }
        #expect(throws: SiteRuleError.self) { try SiteRule.text(for: try recorded("ftdi-ft232r-tty"), profile: try profile("atlas-copco-pf6000")) }
    }

    @Test("matching: FLOORGATE_PROFILE first, then the most specific USB ids, else the reason")
    func matching() throws {
        let profiles = ProfileLoader.loadDirectory(StationHarness.repository.appendingPathComponent("devices").path).profiles
        var adapter = try recorded("ftdi-ft232r-tty")
        guard case .matched(let generic, _) = ProfileMatch.find(for: adapter, among: profiles) else { Issue.record("no match"); return }
        #expect(generic.name == "serial-scanner-usb-adapter")
        adapter.properties["FLOORGATE_PROFILE"] = "mitutoyo-dp1va-rs232"
        guard case .matched(let named, let because) = ProfileMatch.find(for: adapter, among: profiles) else { Issue.record("no match"); return }
        #expect(named.name == "mitutoyo-dp1va-rs232" && because == "FLOORGATE_PROFILE=mitutoyo-dp1va-rs232")
        let unknown = DiscoveredDevice(node: "/dev/ttyACM0", subsystem: "tty", syspath: "/sys/devices/x", properties: ["ID_VENDOR_ID": "2341", "ID_MODEL_ID": "0043"], usb: nil)
        guard case .unmatched(let reason) = ProfileMatch.find(for: unknown, among: profiles) else { Issue.record("matched"); return }
        #expect(reason.contains("ID_VENDOR_ID=2341") && reason.contains("floorgate udev-rule --device /dev/ttyACM0"))
    }
}
