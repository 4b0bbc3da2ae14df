import FloorgateCore
public import Foundation
public import Logging

/// One log event as Floorgate writes it, whatever the form: the level, the logger's label, the
/// message and every metadata value already made safe for a terminal (`TerminalText`).
public struct LogLine: Sendable, Equatable {
    public var time: Date
    public var level: Logger.Level
    public var label: String
    public var message: String
    /// Metadata as text: the logger's, its provider's and the call's, the call's winning.
    public var metadata: [String: String]
    public var source: String
    public var file: String
    public var function: String
    public var line: UInt

    public init(
        time: Date, level: Logger.Level, label: String, message: String, metadata: [String: String],
        source: String, file: String, function: String, line: UInt
    ) {
        self.time = time
        self.level = level
        self.label = label
        self.message = message
        self.metadata = metadata
        self.source = source
        self.file = file
        self.function = function
        self.line = line
    }

    /// The syslog priority journald files the line under: 2 critical, 3 error, 4 warning,
    /// 5 notice, 6 info, 7 debug (swift-log's trace is debug too).
    public var priority: Int {
        switch level {
        case .critical: 2
        case .error: 3
        case .warning: 4
        case .notice: 5
        case .info: 6
        case .debug, .trace: 7
        }
    }

    /// The terminal's form: `2026-12-07T12:30:47.120Z info floorgate.gateway: device=caliper
    /// [Gateway] connected`, metadata sorted by key.
    public var text: String {
        let fields = metadata.keys.sorted().map { "\($0)=\(metadata[$0] ?? "")" }.joined(separator: " ")
        return "\(Self.timestamp.format(time)) \(level) \(label):\(fields.isEmpty ? "" : " " + fields) [\(source)] \(message)"
    }

    /// The text form behind journald's stream prefix (`<4>` for a warning): what systemd files
    /// with its priority when the journal's own socket cannot be used.
    public var prefixedText: String { "<\(priority)>" + text }

    /// One JSON object (`--log-format json`): `time` (UTC, milliseconds), `level`, `logger`,
    /// `message`, `source`, and the metadata as the object `metadata`.
    public var json: String {
        JSONValue.object([
            "time": .string(Self.timestamp.format(time)),
            "level": .string(level.rawValue),
            "logger": .string(label),
            "message": .string(message),
            "source": .string(source),
            "metadata": .object(metadata.mapValues(JSONValue.string)),
        ]).text
    }

    /// The fields of a native journal entry: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, LOGGER, the
    /// code location, and each metadata key as a field of its own (`device` → `DEVICE`; see
    /// `journalFieldName(_:)`).
    public func journalFields(identifier: String) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = [
            ("MESSAGE", message), ("PRIORITY", String(priority)), ("SYSLOG_IDENTIFIER", identifier), ("LOGGER", label),
            ("CODE_FILE", file), ("CODE_LINE", String(line)), ("CODE_FUNC", function),
        ]
        for key in metadata.keys.sorted() {
            fields.append((Self.journalFieldName(key), metadata[key] ?? ""))
        }
        return fields
    }

    /// The datagram journald's native socket takes for this line: `NAME=value` and a newline per
    /// field, or, for a value holding a newline, the name, a newline, the value's length as 64
    /// bits little-endian, the value and a newline (systemd's "Native Journal Protocol").
    public func journalDatagram(identifier: String) -> [UInt8] {
        var datagram: [UInt8] = []
        for (name, value) in journalFields(identifier: identifier) {
            datagram += name.utf8
            let bytes = Array(value.utf8)
            if bytes.contains(UInt8(ascii: "\n")) {
                datagram.append(UInt8(ascii: "\n"))
                withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { datagram += $0 }
            } else {
                datagram.append(UInt8(ascii: "="))
            }
            datagram += bytes
            datagram.append(UInt8(ascii: "\n"))
        }
        return datagram
    }

    /// A metadata key as a journal field name: upper case, every character but A–Z, 0–9 and `_`
    /// made `_`, at most 64 characters. A name journald would refuse (empty, or starting with a
    /// digit or `_`) or one Floorgate sets itself (MESSAGE, PRIORITY, …) gets `FLOORGATE_` in front.
    public static func journalFieldName(_ key: String) -> String {
        var name = String(
            key.uppercased().unicodeScalars.map { scalar -> Character in
                (("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)) ? Character(scalar) : "_"
            })
        if name.isEmpty || name.first == "_" || name.first?.isNumber == true || ownFields.contains(name) {
            name = "FLOORGATE_" + name
        }
        return String(name.prefix(64))
    }

    private static let ownFields: Set<String> = [
        "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "LOGGER", "CODE_FILE", "CODE_LINE", "CODE_FUNC", "MESSAGE_ID", "ERRNO",
    ]

    private static let timestamp = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
