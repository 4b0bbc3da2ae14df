public import FloorgateCore
import DeviceIO
import Foundation
import TOMLKit

/// A station's configuration (`station.toml`, documented line by line in
/// docs/station.md): who works here, where the record and the outbox are, and the devices.
public struct StationConfiguration: Sendable {
    /// How the gateway reaches one device.
    public enum Connection: Sendable, Hashable {
        /// A serial port or hidraw node by its path (a fixed node or a stable
        /// `/dev/floorgate/…` link), or by its USB serial number, looked up with udev.
        case node(NodeLocator)
        /// A controller on the network (Open Protocol).
        case network(host: String, port: Int)
    }

    /// One `[[device]]` table.
    public struct Device: Sendable {
        /// The station's name for the device, unique here (`caliper-1`): shown to the operator
        /// and used as the source of its results.
        public var name: String
        public var profile: DeviceProfile
        public var connection: Connection
        /// The device's serial or asset number, recorded with each result.
        public var serial: String?
        /// Whether Floorgate commands the tool (a network controller: `command`, default true):
        /// it runs only the active step's program, for its batch, on the open unit.
        public var commands = false
        /// The tool's number at a controller with several tools (`tool_number`, 1–9999).
        public var toolNumber: Int?
    }

    /// Where the operator's station page is served (`[page]`); nil when it is off.
    public struct Page: Sendable, Hashable {
        /// 127.0.0.1 by default: the page is for the station's own screen.
        public var address: String
        /// 8480 by default; 0 takes any free port (the gateway prints the page's address).
        public var port: Int
        /// The certificate and key the page is served with over TLS (`tls_certificate`,
        /// `tls_key`): required beyond loopback, and with them operators log in to the page.
        public var tls: TLSFiles?

        /// PEM files, as `station.toml` names them (relative paths taken from its directory).
        public struct TLSFiles: Sendable, Hashable {
            public var certificate: String
            public var key: String

            public init(certificate: String, key: String) {
                self.certificate = certificate
                self.key = key
            }
        }

        /// Whether operators log in before the page shows them anything: whenever it is served
        /// over TLS, which it must be beyond loopback.
        public var requiresLogin: Bool { tls != nil }

        /// Whether `host` names this machine's loopback interface.
        public static func isLoopback(_ host: String) -> Bool {
            let host = host.lowercased()
            let octets = host.split(separator: ".", omittingEmptySubsequences: false)
            return host == "localhost" || host == "::1" || (octets.count == 4 && octets.first == "127" && octets.allSatisfy { UInt8($0) != nil })
        }
    }

    /// Where the gateway serves its metrics (`[metrics]`); nil when it serves none.
    public struct Metrics: Sendable, Hashable {
        /// 127.0.0.1 by default.
        public var address: String
        /// 9464 by default; 0 takes any free port (the gateway prints the address).
        public var port: Int
    }

    /// The station's name, recorded with every result and build (`bench-3`).
    public var station: String
    /// The operator logged in at the station.
    public var operatorLogin: String
    public var recordSocket: String
    /// Where the gateway serves its status (`floorgate status`): the `status_socket` key, by
    /// default `gateway.sock` beside the record's socket.
    public var statusSocket: String
    public var outboxPath: String
    public var serialPattern: SerialPattern
    public var devices: [Device]
    /// Where the device profiles are (the `profiles` key).
    public var profilesDirectory: String
    public var page: Page?
    public var metrics: Metrics?
    /// How many days before a measuring device falls due the station warns of it
    /// (`calibration_warning_days`, 14 by default).
    public var calibrationWarningDays = 14

    /// Reads `path`; profiles named by devices are looked up in `profilesDirectory` (default:
    /// the configuration's `profiles` key, relative to the file).
    public static func load(file path: String) throws(ConfigurationError) -> StationConfiguration {
        let directory = (path as NSString).deletingLastPathComponent
        return try parse(try TOMLReader.text(ofFile: path), file: path, relativeTo: directory.isEmpty ? "." : directory)
    }

    /// A configuration from its text; relative paths in it are taken from `directory`.
    public static func parse(_ text: String, file: String, relativeTo directory: String) throws(ConfigurationError) -> StationConfiguration {
        let (table, reader) = try TOMLReader.parse(text, file: file)
        return try reader.station(from: table, relativeTo: directory)
    }
}

extension TOMLReader {
    func station(from table: TOMLTable, relativeTo directory: String) throws(ConfigurationError) -> StationConfiguration {
        try checkKeys(
            table, path: "",
            allowed: ["station", "operator", "record_socket", "status_socket", "outbox", "profiles", "serial_pattern", "page", "metrics", "device",
                      "calibration_warning_days"])
        func resolved(_ path: String) -> String {
            path.hasPrefix("/") ? path : (directory as NSString).appendingPathComponent(path)
        }
        let station = try requiredString(table, "station", path: "")
        let operatorLogin = try requiredString(table, "operator", path: "")
        let recordSocket = resolved(try string(table, "record_socket", path: "") ?? "/run/floorgate/record.sock")
        let statusSocket = resolved(
            try string(table, "status_socket", path: "") ?? ((recordSocket as NSString).deletingLastPathComponent as NSString).appendingPathComponent("gateway.sock"))
        let outbox = resolved(try string(table, "outbox", path: "") ?? "/var/lib/floorgate/outbox.sqlite")
        let profilesDirectory = resolved(try string(table, "profiles", path: "") ?? "/usr/share/floorgate/devices")
        let patternText = try requiredString(table, "serial_pattern", path: "")
        let serialPattern: SerialPattern
        do {
            serialPattern = try SerialPattern(parsing: patternText)
        } catch {
            throw self.error("serial_pattern", error.problem + " (e.g. \"gs1:21\", \"hibc:serial\", \"regex:^SN-[0-9]+$\")")
        }
        guard let deviceTables = table["device"]?.array else {
            throw error("device", "no devices: add a [[device]] table for each device at the bench")
        }
        var devices: [StationConfiguration.Device] = []
        for (index, value) in deviceTables.enumerated() {
            let path = "device[\(index)]"
            guard let deviceTable = value.table else { throw error(path, "expected a [[device]] table") }
            let device = try self.device(deviceTable, path: path, profilesDirectory: profilesDirectory)
            if devices.contains(where: { $0.name == device.name }) {
                throw error(path + ".name", "'\(device.name)' names two devices; each device needs its own name")
            }
            devices.append(device)
        }
        var configuration = StationConfiguration(
            station: station, operatorLogin: operatorLogin, recordSocket: recordSocket, statusSocket: statusSocket, outboxPath: outbox,
            serialPattern: serialPattern, devices: devices, profilesDirectory: profilesDirectory, page: try page(table, resolved: resolved),
            metrics: try metrics(table)
        )
        if let days = try integer(table, "calibration_warning_days", path: "") {
            guard (0...365).contains(days) else { throw error("calibration_warning_days", "\(days) is not 0…365 days") }
            configuration.calibrationWarningDays = days
        }
        return configuration
    }

    /// `[page]`: `enabled` (default true), `address` (127.0.0.1), `port` (8480; 0: any free),
    /// `tls_certificate` and `tls_key` (both or neither; required beyond loopback).
    private func page(_ table: TOMLTable, resolved: (String) -> String) throws(ConfigurationError) -> StationConfiguration.Page? {
        guard let page = try subtable(table, "page") else { return StationConfiguration.Page(address: "127.0.0.1", port: 8480) }
        try checkKeys(page, path: "page", allowed: ["enabled", "address", "port", "tls_certificate", "tls_key"])
        guard try bool(page, "enabled", path: "page.") ?? true else { return nil }
        let port = try integer(page, "port", path: "page.") ?? 8480
        guard (0...65535).contains(port) else { throw error("page.port", "\(port) is not a TCP port (1–65535, or 0 for any free port)") }
        let address = try string(page, "address", path: "page.") ?? "127.0.0.1"
        let certificate = try string(page, "tls_certificate", path: "page."), key = try string(page, "tls_key", path: "page.")
        let tls: StationConfiguration.Page.TLSFiles?
        switch (certificate, key) {
        case (let certificate?, let key?):
            tls = .init(certificate: resolved(certificate), key: resolved(key))
        case (nil, nil):
            tls = nil
        case (nil, _?):
            throw error("page.tls_key", "a key without its certificate: set tls_certificate too (a PEM file)")
        case (_?, nil):
            throw error("page.tls_certificate", "a certificate without its key: set tls_key too (a PEM file)")
        }
        // Signing goes over the page: plain HTTP must not leave the machine.
        guard StationConfiguration.Page.isLoopback(address) || tls != nil else {
            throw error(
                "page.address",
                "'\(address)' would serve the page, and the passwords typed into it, over plain HTTP beyond this machine: "
                    + "set tls_certificate and tls_key (PEM files; operators then log in to the page), or serve it on loopback (127.0.0.1)")
        }
        return StationConfiguration.Page(address: address, port: port, tls: tls)
    }

    /// `[metrics]`: `address` (127.0.0.1), `port` (9464; 0: any free); no table, no metrics.
    private func metrics(_ table: TOMLTable) throws(ConfigurationError) -> StationConfiguration.Metrics? {
        guard let metrics = try subtable(table, "metrics") else { return nil }
        try checkKeys(metrics, path: "metrics", allowed: ["address", "port"])
        let port = try integer(metrics, "port", path: "metrics.") ?? 9464
        guard (0...65535).contains(port) else { throw error("metrics.port", "\(port) is not a TCP port (1–65535, or 0 for any free port)") }
        return StationConfiguration.Metrics(address: try string(metrics, "address", path: "metrics.") ?? "127.0.0.1", port: port)
    }

    private func device(_ table: TOMLTable, path: String, profilesDirectory: String) throws(ConfigurationError) -> StationConfiguration.Device {
        try checkKeys(table, path: path, allowed: ["name", "profile", "path", "usb_serial", "host", "port", "serial", "command", "tool_number"])
        let name = try requiredString(table, "name", path: path + ".")
        let profileName = try requiredString(table, "profile", path: path + ".")
        let profileFile = (profilesDirectory as NSString).appendingPathComponent(profileName + ".toml")
        let profile: DeviceProfile
        do {
            profile = try ProfileLoader.load(file: profileFile)
        } catch {
            throw self.error(path + ".profile", "profile '\(profileName)' cannot be used: \(error)")
        }
        let connection: StationConfiguration.Connection
        var commands = false
        var toolNumber: Int?
        switch profile.transport {
        case .serial, .hidraw, .usb:
            let subsystem = profile.transport.subsystem ?? "tty"
            switch (try string(table, "path", path: path + "."), try string(table, "usb_serial", path: path + ".")) {
            case (let node?, nil):
                connection = .node(.path(node))
            case (nil, let serial?):
                connection = .node(.usbSerial(serial, subsystem: subsystem))
            case (_?, _?):
                throw error(path + ".usb_serial", "give path or usb_serial, not both")
            case (nil, nil):
                throw error(path + ".path", "missing; a \(profile.transport.name) device needs its node (a /dev/floorgate/… link, /dev/ttyUSB0, /dev/hidraw0, /dev/bus/usb/001/004) or its usb_serial")
            }
        case .tcp(let defaultPort):
            guard let host = try string(table, "host", path: path + ".") else {
                throw error(path + ".host", "missing; a network controller needs its address")
            }
            let port = try integer(table, "port", path: path + ".") ?? defaultPort
            guard (1...65535).contains(port) else { throw error(path + ".port", "\(port) is not a TCP port (1–65535)") }
            connection = .network(host: host, port: port)
            commands = try bool(table, "command", path: path + ".") ?? true
            toolNumber = try integer(table, "tool_number", path: path + ".")
            if let toolNumber, !(1...9999).contains(toolNumber) {
                throw error(path + ".tool_number", "\(toolNumber) is not a tool number (1–9999)")
            }
        }
        if case .node = connection {
            for key in ["command", "tool_number"] where table.contains(key: key) {
                throw error(path + "." + key, "only a network controller (Open Protocol) can be commanded")
            }
        }
        return StationConfiguration.Device(
            name: name, profile: profile, connection: connection, serial: try string(table, "serial", path: path + "."), commands: commands,
            toolNumber: toolNumber)
    }
}
