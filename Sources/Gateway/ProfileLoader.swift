import DeviceIO
import DeviceProtocols
import FloorgateCore
import Foundation
import TOMLKit

/// A profile or station configuration that cannot be used, with where and why: file, line, key,
/// and what is allowed.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public let file: String
    /// 1-based; 0 when the problem concerns the whole file.
    public let line: Int
    /// The dotted key (`transport.baud`), or nil for the file or a syntax error.
    public let key: String?
    public let problem: String

    public init(file: String, line: Int, key: String?, problem: String) {
        self.file = file
        self.line = line
        self.key = key
        self.problem = problem
    }

    public var description: String {
        (line > 0 ? "\(file):\(line)" : file) + (key.map { ": key '\($0)'" } ?? "") + ": " + problem
    }
}

/// Reads `devices/*.toml`. Every key is checked: an unknown key, a wrong type or a value outside
/// the allowed set is refused with its file and line, never ignored or guessed.
public enum ProfileLoader {
    /// The profiles of every `.toml` file in `directory`, sorted by name; all errors, if any.
    public static func loadDirectory(_ directory: String) -> (profiles: [DeviceProfile], errors: [ConfigurationError]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var profiles: [DeviceProfile] = []
        var errors: [ConfigurationError] = []
        if names.isEmpty && !FileManager.default.fileExists(atPath: directory) {
            return ([], [ConfigurationError(file: directory, line: 0, key: nil, problem: "no such directory")])
        }
        for name in names.sorted() where name.hasSuffix(".toml") {
            do {
                profiles.append(try load(file: (directory as NSString).appendingPathComponent(name)))
            } catch {
                errors.append(error)
            }
        }
        return (profiles, errors)
    }

    /// One profile file.
    public static func load(file path: String) throws(ConfigurationError) -> DeviceProfile {
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return try parse(try TOMLReader.text(ofFile: path), file: path, name: name)
    }

    /// A profile from its text; `file` names it in errors, `name` is the profile's name.
    public static func parse(_ text: String, file: String, name: String) throws(ConfigurationError) -> DeviceProfile {
        var (table, reader) = try TOMLReader.parse(text, file: file)
        return try reader.profile(from: table, name: name)
    }
}

/// Where each key stands in the text, for errors (the TOML library gives positions only for
/// syntax errors): `[table]` headers and `key =` lines, as dotted paths.
struct KeyLines {
    private var lines: [String: Int] = [:]

    init(_ text: String) {
        var table = ""
        var arrayCounts: [String: Int] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[["), let close = line.range(of: "]]") {
                // An array of tables: the n-th `[[device]]` is `device[n]` (from 0).
                let name = line[line.index(line.startIndex, offsetBy: 2)..<close.lowerBound].trimmingCharacters(in: .whitespaces)
                table = "\(name)[\(arrayCounts[name, default: 0])]"
                arrayCounts[name, default: 0] += 1
                lines[table] = number + 1
            } else if line.hasPrefix("["), let close = line.firstIndex(of: "]") {
                table = line[line.index(after: line.startIndex)..<close].trimmingCharacters(in: .whitespaces)
                lines[table] = lines[table] ?? number + 1
            } else if let equals = line.firstIndex(of: "="), !line.hasPrefix("#") {
                let key = line[..<equals].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
                let path = table.isEmpty ? key : table + "." + key
                lines[path] = lines[path] ?? number + 1
            }
        }
    }

    /// The line of `path`, else of its table, else 0.
    func line(of path: String) -> Int {
        if let line = lines[path] { return line }
        if let dot = path.lastIndex(of: ".") { return line(of: String(path[..<dot])) }
        return 0
    }
}

/// Reads typed values out of a parsed TOML file (a profile, a station configuration), turning
/// every problem into a ``ConfigurationError`` with its line.
struct TOMLReader {
    let file: String
    let lines: KeyLines

    /// A file's text, or why it cannot be read.
    static func text(ofFile path: String) throws(ConfigurationError) -> String {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(file: path, line: 0, key: nil, problem: "cannot read the file (missing, unreadable or not UTF-8)")
        }
        return text
    }

    /// The parsed table and a reader that knows each key's line; a syntax error names its line.
    static func parse(_ text: String, file: String) throws(ConfigurationError) -> (TOMLTable, TOMLReader) {
        do {
            return (try TOMLTable(string: text), TOMLReader(file: file, lines: KeyLines(text)))
        } catch let error as TOMLParseError {
            throw ConfigurationError(file: file, line: error.source.begin.line, key: nil, problem: "not valid TOML: \(error.description)")
        } catch {
            throw ConfigurationError(file: file, line: 0, key: nil, problem: "not valid TOML: \(error)")
        }
    }

    func error(_ key: String, _ problem: String) -> ConfigurationError {
        ConfigurationError(file: file, line: lines.line(of: key), key: key, problem: problem)
    }

    func checkKeys(_ table: TOMLTable, path: String, allowed: [String]) throws(ConfigurationError) {
        for key in table.keys where !allowed.contains(key) {
            let full = path.isEmpty ? key : path + "." + key
            throw error(full, "unknown key; allowed here: \(allowed.joined(separator: ", "))")
        }
    }

    func string(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> String? {
        guard let value = table[key] else { return nil }
        guard let text = value.string else { throw error(path + key, "expected a string, found \(value.type)") }
        return text
    }

    func requiredString(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> String {
        guard let text = try string(table, key, path: path) else { throw error(path + key, "missing; it is required") }
        return text
    }

    func integer(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> Int? {
        guard let value = table[key] else { return nil }
        guard let number = value.int else { throw error(path + key, "expected an integer, found \(value.type)") }
        return number
    }

    func bool(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> Bool? {
        guard let value = table[key] else { return nil }
        guard let flag = value.bool else { throw error(path + key, "expected true or false, found \(value.type)") }
        return flag
    }

    /// A string or an array of strings.
    func strings(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> [String] {
        guard let value = table[key] else { return [] }
        if let text = value.string { return [text] }
        guard let array = value.array else { throw error(path + key, "expected a string or an array of strings") }
        var texts: [String] = []
        for item in array {
            guard let text = item.string else { throw error(path + key, "expected an array of strings, found a \(item.type) in it") }
            texts.append(text)
        }
        return texts
    }

    func choice<Choice: RawRepresentable & CaseIterable>(_ table: TOMLTable, _ key: String, path: String, default fallback: Choice) throws(ConfigurationError) -> Choice where Choice.RawValue == String {
        guard let text = try string(table, key, path: path) else { return fallback }
        guard let value = Choice(rawValue: text) else {
            throw error(path + key, "'\(text)' is not allowed; allowed: \(Choice.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    func requiredChoice<Choice: RawRepresentable & CaseIterable>(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> Choice where Choice.RawValue == String {
        guard table[key] != nil else {
            throw error(path + key, "missing; allowed: \(Choice.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return try choice(table, key, path: path, default: Choice.allCases[Choice.allCases.startIndex])
    }

    func subtable(_ table: TOMLTable, _ key: String) throws(ConfigurationError) -> TOMLTable? {
        guard let value = table[key] else { return nil }
        guard let subtable = value.table else { throw error(key, "expected a table [\(key)], found \(value.type)") }
        return subtable
    }

    // MARK: - The profile

    mutating func profile(from table: TOMLTable, name: String) throws(ConfigurationError) -> DeviceProfile {
        try checkKeys(table, path: "", allowed: ["description", "kind", "protocol", "unit", "resolution", "transport", "match", "poll", "scanner"])
        let kind: DeviceKind = try requiredChoice(table, "kind", path: "")
        let protocolID = try requiredString(table, "protocol", path: "")
        guard let protocolEntry = ProtocolCatalog.entry(id: protocolID) else {
            throw error("protocol", "unknown protocol '\(protocolID)'; allowed: \(ProtocolCatalog.ids.joined(separator: ", "))")
        }
        var options = DecoderOptions()
        let unit = try self.unit(table)
        let resolution = try self.resolution(table)
        let transport = try self.transport(table, options: &options)
        let match = try self.match(table)
        let poll = try self.poll(table, transport: transport)
        try scanner(table, kind: kind, protocolID: protocolID, options: &options)
        return DeviceProfile(
            name: name, description: try string(table, "description", path: "") ?? name, kind: kind, protocolEntry: protocolEntry,
            transport: transport, match: match, unit: unit, resolution: resolution, poll: poll, decoderOptions: options
        )
    }

    private func unit(_ table: TOMLTable) throws(ConfigurationError) -> MeasurementUnit? {
        guard let code = try string(table, "unit", path: "") else { return nil }
        guard let unit = MeasurementUnit(code: code) else {
            throw error("unit", "unknown unit '\(code)'; allowed: \(MeasurementUnit.allCodes.joined(separator: " "))")
        }
        return unit
    }

    /// Decimals are strings (`"0.001"`), never TOML floats, so the resolution is exact.
    private func resolution(_ table: TOMLTable) throws(ConfigurationError) -> ExactDecimal? {
        guard let value = table["resolution"] else { return nil }
        guard let text = value.string else {
            throw error("resolution", "write decimals as strings (\"0.001\"), not TOML \(value.type)s, so no digit is lost")
        }
        guard let decimal = try? ExactDecimal(parsing: text), !decimal.isNegative, !decimal.isZero else {
            throw error("resolution", "'\(text)' is not a positive decimal such as \"0.001\"")
        }
        return decimal
    }

    private func transport(_ table: TOMLTable, options: inout DecoderOptions) throws(ConfigurationError) -> TransportSettings {
        guard let transport = try subtable(table, "transport") else { throw error("transport", "missing; a [transport] table with type = serial, hidraw, usb or tcp is required") }
        let type = try requiredString(transport, "type", path: "transport.")
        switch type {
        case "serial":
            try checkKeys(transport, path: "transport", allowed: ["type", "baud", "data_bits", "parity", "stop_bits", "flow_control", "line_ending"])
            let baud = try integer(transport, "baud", path: "transport.") ?? 9600
            guard SerialSettings.baudRates.contains(baud) else {
                throw error("transport.baud", "\(baud) is not supported; allowed: \(SerialSettings.baudRates.map(String.init).joined(separator: ", "))")
            }
            let dataBits = try integer(transport, "data_bits", path: "transport.") ?? 8
            guard dataBits == 7 || dataBits == 8 else { throw error("transport.data_bits", "\(dataBits) is not allowed; allowed: 7, 8") }
            let stopBits = try integer(transport, "stop_bits", path: "transport.") ?? 1
            guard stopBits == 1 || stopBits == 2 else { throw error("transport.stop_bits", "\(stopBits) is not allowed; allowed: 1, 2") }
            options.lineEnding = try choice(transport, "line_ending", path: "transport.", default: .auto)
            return .serial(SerialSettings(
                baud: baud, dataBits: dataBits,
                parity: try choice(transport, "parity", path: "transport.", default: .none),
                stopBits: stopBits,
                flowControl: try choice(transport, "flow_control", path: "transport.", default: .none)
            ))
        case "hidraw":
            try checkKeys(transport, path: "transport", allowed: ["type", "capture"])
            return .hidraw(capture: try bool(transport, "capture", path: "transport.") ?? true)
        case "usb":
            try checkKeys(transport, path: "transport", allowed: ["type", "interface", "endpoint", "detach_kernel_driver"])
            let interface = try integer(transport, "interface", path: "transport.") ?? 0
            guard (0...255).contains(interface) else { throw error("transport.interface", "\(interface) is not a USB interface number (0–255)") }
            let endpoint = try integer(transport, "endpoint", path: "transport.")
            if let endpoint, !(0x81...0x8f).contains(endpoint) {
                throw error("transport.endpoint", "\(endpoint) is not an IN endpoint address; allowed: 0x81–0x8f (write it in hex, endpoint = 0x81)")
            }
            return .usb(USBInterfaceSettings(
                interface: UInt8(interface), endpoint: endpoint.map { UInt8($0) },
                detachKernelDriver: try bool(transport, "detach_kernel_driver", path: "transport.") ?? false))
        case "tcp":
            try checkKeys(transport, path: "transport", allowed: ["type", "port"])
            let port = try integer(transport, "port", path: "transport.") ?? 4545
            guard (1...65535).contains(port) else { throw error("transport.port", "\(port) is not a TCP port (1–65535)") }
            return .tcp(port: port)
        default:
            throw error("transport.type", "'\(type)' is not allowed; allowed: serial, hidraw, usb, tcp")
        }
    }

    private func match(_ table: TOMLTable) throws(ConfigurationError) -> MatchRules {
        guard let match = try subtable(table, "match") else {
            throw error("match", "missing; a [match] table is required (id_vendor_id, id_model_id, id_serial, subsystem or floorgate_profile)")
        }
        try checkKeys(match, path: "match", allowed: ["subsystem", "id_vendor_id", "id_model_id", "id_serial", "floorgate_profile"])
        let vendorIDs = try strings(match, "id_vendor_id", path: "match.").map { $0.lowercased() }
        let modelIDs = try strings(match, "id_model_id", path: "match.").map { $0.lowercased() }
        for (key, ids) in [("match.id_vendor_id", vendorIDs), ("match.id_model_id", modelIDs)] {
            for id in ids where id.count != 4 || !id.allSatisfy(\.isHexDigit) {
                throw error(key, "'\(id)' is not a USB id (4 hexadecimal digits, as udev's ID_VENDOR_ID)")
            }
        }
        let subsystem = try string(match, "subsystem", path: "match.")
        if let subsystem, !["tty", "hidraw", "usb"].contains(subsystem) {
            throw error("match.subsystem", "'\(subsystem)' is not allowed; allowed: tty, hidraw, usb")
        }
        let rules = MatchRules(
            subsystem: subsystem, vendorIDs: vendorIDs, modelIDs: modelIDs,
            serials: try strings(match, "id_serial", path: "match."),
            profileProperty: try string(match, "floorgate_profile", path: "match.")
        )
        guard rules.subsystem != nil || !rules.vendorIDs.isEmpty || rules.profileProperty != nil else {
            throw error("match", "matches nothing: give id_vendor_id (with id_model_id), subsystem or floorgate_profile")
        }
        return rules
    }

    private func poll(_ table: TOMLTable, transport: TransportSettings) throws(ConfigurationError) -> PollSettings? {
        guard let poll = try subtable(table, "poll") else { return nil }
        try checkKeys(poll, path: "poll", allowed: ["command", "period_ms"])
        switch transport {
        case .serial, .usb: break
        case .hidraw, .tcp: throw error("poll", "only serial and usb devices are polled")
        }
        let command = try requiredString(poll, "command", path: "poll.")
        guard !command.isEmpty else { throw error("poll.command", "empty; write the request, e.g. \"?\\r\"") }
        let period = try integer(poll, "period_ms", path: "poll.") ?? 1000
        guard (50...3_600_000).contains(period) else { throw error("poll.period_ms", "\(period) is out of range 50–3600000") }
        return PollSettings(command: Array(command.utf8), periodMilliseconds: period)
    }

    private func scanner(_ table: TOMLTable, kind: DeviceKind, protocolID: String, options: inout DecoderOptions) throws(ConfigurationError) {
        guard let scanner = try subtable(table, "scanner") else { return }
        guard kind == .scanner || protocolID == "hid-keyboard" else {
            throw error("scanner", "scanner settings on a device of kind '\(kind.rawValue)'")
        }
        try checkKeys(scanner, path: "scanner", allowed: ["layout", "suffix", "prefix"])
        if let name = try string(scanner, "layout", path: "scanner.") {
            guard let layout = KeyboardLayout.named(name) else {
                throw error("scanner.layout", "unknown keyboard layout '\(name)'; allowed: \(KeyboardLayout.all.map(\.name).joined(separator: ", "))")
            }
            options.keyboardLayout = layout
        }
        options.scanSuffix = try choice(scanner, "suffix", path: "scanner.", default: .lineEnd)
        options.scanPrefix = Array((try string(scanner, "prefix", path: "scanner.") ?? "").utf8)
    }
}
