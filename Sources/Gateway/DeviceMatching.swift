public import DeviceIO

/// Which profile a discovered device is, and why, for `floorgate devices` and the gateway.
public enum ProfileMatch: Sendable {
    case matched(DeviceProfile, because: String)
    case unmatched(reason: String)

    /// The profile for a device with these udev properties among `profiles`:
    /// 1. the one its `FLOORGATE_PROFILE` names (set by a udev rule), else
    /// 2. the one whose match rules it meets, the most specific first (vendor and model, then
    ///    vendor, then subsystem alone).
    public static func find(for device: DiscoveredDevice, among profiles: [DeviceProfile]) -> ProfileMatch {
        let properties = device.properties
        if let named = properties["FLOORGATE_PROFILE"], !named.isEmpty {
            if let profile = profiles.first(where: { $0.name == named || $0.match.profileProperty == named }) {
                return .matched(profile, because: "FLOORGATE_PROFILE=\(named)")
            }
            return .unmatched(reason: "FLOORGATE_PROFILE=\(named) names no profile here")
        }
        let candidates = profiles.filter { $0.match.profileProperty == nil || !$0.match.vendorIDs.isEmpty }
            .filter { $0.match.matches(properties) }
            .sorted { specificity($0.match) > specificity($1.match) }
        if let best = candidates.first {
            let ids = ["ID_VENDOR_ID", "ID_MODEL_ID"].compactMap { key in properties[key].map { "\(key)=\($0)" } }
            return .matched(best, because: ids.isEmpty ? "subsystem \(device.subsystem)" : ids.joined(separator: " "))
        }
        let ids = ["ID_VENDOR_ID", "ID_MODEL_ID", "ID_SERIAL_SHORT"].compactMap { key in properties[key].map { "\(key)=\($0)" } }
        let what = ids.isEmpty ? "no USB identity" : ids.joined(separator: " ")
        let hint = device.properties["ID_VENDOR_ID"] == nil ? "not a USB device: give its path in station.toml" : "name one with `floorgate udev-rule --device \(device.node ?? "NODE") --profile NAME`"
        return .unmatched(reason: "no profile matches (\(what)); \(hint)")
    }

    private static func specificity(_ rules: MatchRules) -> Int {
        (rules.serials.isEmpty ? 0 : 8) + (rules.modelIDs.isEmpty ? 0 : 4) + (rules.vendorIDs.isEmpty ? 0 : 2) + (rules.subsystem == nil ? 0 : 1)
    }
}

/// Why a udev rule cannot be written for a device and a profile.
public struct SiteRuleError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
}

/// The site rule a technician installs to say which device is behind a port: `floorgate
/// udev-rule --device /dev/ttyUSB0 --profile mitutoyo-dp1va-rs232` prints it, from the
/// device's udev properties. It goes in /etc/udev/rules.d/69-floorgate-site.rules, before the
/// shipped 70-floorgate.rules, which then tags the device, sets its group and mode and makes
/// its /dev/floorgate link.
///
/// The rule matches the USB device by vendor, product and serial (sysfs attributes, which exist
/// for ttys and hidraw nodes alike before any rule runs) and, for a tty, the interface, so a
/// two-port adapter's ports stay apart. A device without a USB serial is matched by the USB port
/// it is plugged into (`KERNELS=="1-2:1.0"`): the rule then follows the port, not the device.
public enum SiteRule {
    public static func text(for device: DiscoveredDevice, profile: DeviceProfile) throws(SiteRuleError) -> String {
        let properties = device.properties
        let node = device.node ?? device.syspath
        guard let wanted = profile.transport.subsystem else {
            throw SiteRuleError(description: "profile '\(profile.name)' is a network controller: give its address in station.toml, no udev rule is needed")
        }
        guard device.subsystem == wanted else {
            throw SiteRuleError(description: "\(node) is a \(device.subsystem) device, but profile '\(profile.name)' reads a \(wanted) device")
        }
        guard let vendor = properties["ID_VENDOR_ID"], let model = properties["ID_MODEL_ID"] else {
            throw SiteRuleError(description: "\(node) is not a USB device: give its path in station.toml instead of a udev rule")
        }
        var matches = ["SUBSYSTEM==\"\(wanted)\""]
        let serial = properties["ID_SERIAL_SHORT"].flatMap { $0.isEmpty ? nil : $0 }
        if let serial {
            matches += ["ATTRS{idVendor}==\"\(vendor)\"", "ATTRS{idProduct}==\"\(model)\"", "ATTRS{serial}==\"\(serial)\""]
            if wanted == "tty", let interface = properties["ID_USB_INTERFACE_NUM"] {
                matches.append("ENV{ID_USB_INTERFACE_NUM}==\"\(interface)\"")
            }
        } else if let port = wanted == "usb" ? deviceName(device.syspath) : interfaceName(properties["DEVPATH"] ?? device.syspath) {
            // A usb_device by its own name (KERNEL), so its interfaces and whatever hangs behind it
            // are not matched too; a tty or hidraw node by its USB interface above it (KERNELS).
            matches.append(wanted == "usb" ? "KERNEL==\"\(port)\"" : "KERNELS==\"\(port)\"")
        } else {
            throw SiteRuleError(description: "\(node) has neither a USB serial nor a USB port path to match by")
        }
        let label = [properties["ID_VENDOR"], properties["ID_MODEL"]].compactMap { $0?.replacingUnderscores }.joined(separator: " ")
        let identity = [label.isEmpty ? "USB \(vendor):\(model)" : label, serial.map { "serial \($0)" } ?? "no serial: bound to USB port \((wanted == "usb" ? deviceName(device.syspath) : interfaceName(properties["DEVPATH"] ?? device.syspath)) ?? "?")"]
            .joined(separator: ", ")
        return """
            # \(node): \(identity) → profile \(profile.name) (\(profile.kind.rawValue)), link /dev/floorgate/\(profile.kind.rawValue)-\(serial ?? "<port path>")
            # Add to /etc/udev/rules.d/69-floorgate-site.rules, then: udevadm control --reload && udevadm trigger --subsystem-match=\(wanted)
            \((matches + ["ENV{FLOORGATE_PROFILE}=\"\(profile.name)\"", "ENV{FLOORGATE_KIND}=\"\(profile.kind.rawValue)\""]).joined(separator: ", "))

            """
    }

    /// A USB device's kernel name, its port path (`1-2`, `3-1.4.2`), from its syspath.
    static func deviceName(_ syspath: String) -> String? {
        guard let last = syspath.split(separator: "/").last, last.contains("-"), !last.contains(":") else { return nil }
        return String(last)
    }

    /// The USB interface's kernel name in a device path (`1-2:1.0`, `3-1.4.2:1.1`).
    static func interfaceName(_ devpath: String) -> String? {
        devpath.split(separator: "/").last { component in
            let parts = component.split(separator: ":")
            guard parts.count == 2, let bus = parts[0].split(separator: "-").first, bus.allSatisfy(\.isNumber) else { return false }
            return parts[0].contains("-") && parts[1].contains(".") && parts[1].allSatisfy { $0.isNumber || $0 == "." }
        }.map(String.init)
    }
}

extension String {
    fileprivate var replacingUnderscores: String { split(separator: "_").joined(separator: " ") }
}
