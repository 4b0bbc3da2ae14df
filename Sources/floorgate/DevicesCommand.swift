import ArgumentParser
import DeviceIO
import FloorgateCore
import Foundation
import Gateway

/// `floorgate devices`: what is plugged in, which profile it is, and whether Floorgate may open it.
struct DevicesCommand: AsyncParsableCommand, PrintsJSON {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List the serial, HID and vendor-class USB devices plugged in, their profiles and whether Floorgate can open them.",
        discussion: """
            For each USB serial port (tty) and HID node (hidraw): its node, vendor, model and \
            serial, the profile it matches (by FLOORGATE_PROFILE from a udev rule, else by its \
            USB ids) or why none does, and whether this user may open it (and what to change \
            if not). USB devices with an interface no kernel driver serves (vendor class, \
            read through libusb by a profile with transport type = "usb") are listed with \
            their interfaces and endpoints. Virtual terminals, on-board serial ports and every \
            other USB device are listed with --all.

            --watch follows devices being plugged in and out, one line per change (udevd's \
            events where it runs, else the kernel's).

            Examples:
              floorgate devices
              floorgate devices --json
              floorgate devices --watch --profiles /usr/share/floorgate/devices
            """
    )

    @Option(help: ArgumentHelp("The device profiles.", valueName: "directory"))
    var profiles = "devices"

    @OptionGroup var output: JSONOutput

    @Flag(help: "Follow devices plugged in and out until interrupted.")
    var watch = false

    @Flag(help: "Also list virtual and on-board terminals.")
    var all = false

    func run() async throws {
        let json = output.isWanted
        let loaded = ProfileLoader.loadDirectory(profiles)
        for error in loaded.errors { StandardError.write("floorgate devices: \(error)\n") }
        let subsystems = ["tty", "hidraw", "usb"]
        let devices: [DiscoveredDevice]
        do {
            devices = try Udev.devices(subsystems: subsystems)
        } catch {
            throw CommandFailure("cannot list devices: \(error)")
        }
        let listed = devices.filter { PluggedDevice.isUSBDevice($0) && (all || PluggedDevice.isBenchCandidate($0)) }
        if json {
            for device in listed { print(Self.json(device, profiles: loaded.profiles).text) }
        } else if listed.isEmpty {
            print("No USB serial or HID devices found\(all ? "" : " (--all lists every terminal)").")
        } else {
            for device in listed { print(Self.line(device, profiles: loaded.profiles)) }
        }
        guard watch else { return }
        let monitor: UdevMonitor
        do {
            monitor = try UdevMonitor(subsystems: subsystems)
        } catch {
            throw CommandFailure("cannot follow devices: \(error)")
        }
        if !json { print("Watching (\(monitor.source.rawValue) events); Ctrl-C to stop.") }
        fflush(nil)
        // A removed device is always shown: its sysfs entry is gone, so it cannot be judged.
        for await change in monitor.changes where PluggedDevice.isUSBDevice(change.device) && (all || change.action == "remove" || PluggedDevice.isBenchCandidate(change.device)) {
            if json {
                var object = Self.json(change.device, profiles: loaded.profiles)
                if case .object(var members) = object {
                    members["action"] = .string(change.action)
                    object = .object(members)
                }
                print(object.text)
            } else {
                print("\(change.action.padding(toLength: 7, withPad: " ", startingAt: 0)) " + Self.line(change.device, profiles: loaded.profiles))
            }
            fflush(nil)
        }
    }

    static func line(_ device: DiscoveredDevice, profiles: [DeviceProfile]) -> String {
        let plugged = PluggedDevice(device: device, profiles: profiles)
        // The USB strings are the device's own words: shown with any control character escaped.
        return "\(device.node ?? device.syspath)  [\(device.subsystem)]  \(TerminalText.escaped(plugged.usbText))\n    \(plugged.profileText)\n    open: \(plugged.accessText)"
            + plugged.interfaceLines.map { "\n    interface " + TerminalText.escaped($0) }.joined()
    }

    static func json(_ device: DiscoveredDevice, profiles: [DeviceProfile]) -> JSONValue {
        let plugged = PluggedDevice(device: device, profiles: profiles)
        var object: [String: JSONValue] = [
            "node": device.node.map(JSONValue.string) ?? .null,
            "subsystem": .string(device.subsystem),
            "syspath": .string(device.syspath),
            "vendor_id": device.usb.map { .string($0.vendorID) } ?? .null,
            "model_id": device.usb.map { .string($0.productID) } ?? .null,
            "serial": device.usb?.serial.map(JSONValue.string) ?? .null,
            "product": device.usb?.product.map(JSONValue.string) ?? .null,
            "identity": .string(device.identity),
        ]
        switch plugged.match {
        case .matched(let profile, let because):
            object["profile"] = .string(profile.name)
            object["matched_by"] = .string(because)
        case .unmatched(let reason):
            object["profile"] = .null
            object["unmatched_reason"] = .string(reason)
        }
        if let interfaces = plugged.interfaces {
            object["interfaces"] = .array(interfaces.map { binding in
                .object([
                    "number": .number(Double(binding.interface.number)),
                    "class": .string(binding.interface.className),
                    "driver": binding.driver.map(JSONValue.string) ?? .null,
                    "endpoints": .array(binding.interface.endpoints.map { .string($0.description) }),
                ])
            })
        }
        if let access = plugged.access {
            object["can_open"] = .bool(access.canOpen)
            object["access"] = .string(access.detail)
        }
        return .object(object)
    }
}

/// `floorgate udev-rule`: the site rule that names the device behind a port.
struct UdevRuleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "udev-rule",
        abstract: "Print the udev rule that tells Floorgate which device is plugged in at a node.",
        discussion: """
            Reads the device's udev properties (vendor, model, serial, interface, port) and \
            prints a rule that sets FLOORGATE_PROFILE and FLOORGATE_KIND for it. Install it in \
            /etc/udev/rules.d/69-floorgate-site.rules; the shipped 70-floorgate.rules then gives \
            the node group floorgate, mode 0660 and the link /dev/floorgate/KIND-SERIAL that a \
            station configuration names (udev/README.md).

            Examples:
              floorgate udev-rule --device /dev/ttyUSB0 --profile mitutoyo-dp1va-rs232
              floorgate udev-rule --device /dev/ttyUSB1 --profile norbar-tst >> /etc/udev/rules.d/69-floorgate-site.rules
            """
    )

    @Option(help: ArgumentHelp("The device's node (or a link to it).", valueName: "path"))
    var device: String

    @Option(help: ArgumentHelp("The profile's name (a file in --profiles without .toml) or file.", valueName: "name"))
    var profile: String

    @Option(help: ArgumentHelp("The device profiles.", valueName: "directory"))
    var profiles = "devices"

    func run() throws {
        let file = profile.hasSuffix(".toml") ? profile : (profiles as NSString).appendingPathComponent(profile + ".toml")
        let loaded: DeviceProfile
        do {
            loaded = try ProfileLoader.load(file: file)
        } catch {
            throw CommandFailure("\(error)", exitCode: FloorgateExit.badUsage)
        }
        let discovered: DiscoveredDevice?
        do {
            discovered = try Udev.device(node: device)
        } catch {
            throw CommandFailure("cannot read \(device)'s udev properties: \(error)")
        }
        guard let discovered else {
            throw CommandFailure("\(device) is not a device node (unplugged, or a wrong path)", exitCode: FloorgateExit.badUsage)
        }
        do {
            print(try SiteRule.text(for: discovered, profile: loaded), terminator: "")
        } catch {
            throw CommandFailure(error.description, exitCode: FloorgateExit.badUsage)
        }
    }
}
