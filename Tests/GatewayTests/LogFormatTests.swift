import FloorgateCore
import Foundation
import Gateway
import Glibc
import Logging
import Testing

@Suite("Log lines for a terminal, for journald and as JSON", .timeLimit(.minutes(1)))
struct LogFormatTests {
    static let line = LogLine(
        time: Date(timeIntervalSince1970: 1_796_646_677.25), level: .warning, label: "floorgate.gateway", message: "device lost",
        metadata: ["device": "caliper", "reason": "read: EIO"], source: "Gateway", file: "Gateway/DeviceSupervisor.swift",
        function: "run()", line: 118)

    @Test("each level has its syslog priority: critical 2, error 3, warning 4, notice 5, info 6, debug and trace 7")
    func priorities() {
        let levels: [Logger.Level] = [.critical, .error, .warning, .notice, .info, .debug, .trace]
        #expect(levels.map { level in var line = Self.line; line.level = level; return line.priority } == [2, 3, 4, 5, 6, 7, 7])
    }

    @Test("the text form: time, level, logger, sorted metadata, source, message; journald's stream form adds <priority>")
    func text() {
        #expect(Self.line.text == "2026-12-07T12:31:17.250Z warning floorgate.gateway: device=caliper reason=read: EIO [Gateway] device lost")
        #expect(Self.line.prefixedText == "<4>" + Self.line.text)
        var bare = Self.line
        bare.metadata = [:]
        #expect(bare.text == "2026-12-07T12:31:17.250Z warning floorgate.gateway: [Gateway] device lost")
    }

    @Test("the JSON form is one object with the metadata as an object of its own")
    func json() throws {
        let object = try JSONValue(parsing: Array(Self.line.json.utf8))
        #expect(object == [
            "time": "2026-12-07T12:31:17.250Z", "level": "warning", "logger": "floorgate.gateway", "message": "device lost",
            "source": "Gateway", "metadata": ["device": "caliper", "reason": "read: EIO"],
        ])
        #expect(!Self.line.json.contains("\n"))
    }

    @Test("a journal datagram is NAME=value lines; a value with a newline goes with its 64-bit little-endian length")
    func journalDatagram() {
        var line = Self.line
        line.metadata = ["serial": "SN-1"]
        line.message = "two\nlines"
        var expected = Array("MESSAGE\n".utf8) + [9, 0, 0, 0, 0, 0, 0, 0] + Array("two\nlines\n".utf8)
        expected += Array("PRIORITY=4\nSYSLOG_IDENTIFIER=floorgate\nLOGGER=floorgate.gateway\n".utf8)
        expected += Array("CODE_FILE=Gateway/DeviceSupervisor.swift\nCODE_LINE=118\nCODE_FUNC=run()\nSERIAL=SN-1\n".utf8)
        #expect(line.journalDatagram(identifier: "floorgate") == expected)
    }

    @Test("metadata keys become journal field names journald accepts, never one Floorgate sets itself")
    func fieldNames() {
        #expect(LogLine.journalFieldName("device") == "DEVICE")
        #expect(LogLine.journalFieldName("left_in_outbox") == "LEFT_IN_OUTBOX")
        #expect(LogLine.journalFieldName("retry-in.s") == "RETRY_IN_S")
        #expect(LogLine.journalFieldName("message") == "FLOORGATE_MESSAGE")
        #expect(LogLine.journalFieldName("priority") == "FLOORGATE_PRIORITY")
        #expect(LogLine.journalFieldName("_pid") == "FLOORGATE__PID")
        #expect(LogLine.journalFieldName("2fa") == "FLOORGATE_2FA")
        #expect(LogLine.journalFieldName("") == "FLOORGATE_")
        #expect(LogLine.journalFieldName("µm") == "FLOORGATE__M")
        #expect(LogLine.journalFieldName(String(repeating: "a", count: 80)).count == 64)
    }

    @Test("auto is journal only when JOURNAL_STREAM names the very file the lines go to")
    func autoDetection() throws {
        let file = try LogFile()
        var status = stat()
        #expect(fstat(file.descriptor, &status) == 0)
        let named = "\(status.st_dev):\(status.st_ino)"
        #expect(LogFormat.auto.resolved(journalStream: named, lines: file.descriptor) == .journal)
        #expect(LogFormat.auto.resolved(journalStream: "\(status.st_dev):\(status.st_ino + 1)", lines: file.descriptor) == .text)
        #expect(LogFormat.auto.resolved(journalStream: nil, lines: file.descriptor) == .text)
        #expect(LogFormat.auto.resolved(journalStream: "garbage", lines: file.descriptor) == .text)
        #expect(LogFormat.json.resolved(journalStream: named, lines: file.descriptor) == .json)
        #expect(LogFormat.text.resolved(journalStream: named, lines: file.descriptor) == .text)
    }

    @Test("the handler writes the logger's, the provider's and the call's metadata, the call's winning, at the logger's level")
    func handlerMetadata() throws {
        let file = try LogFile()
        let output = LogOutput(format: .text, environment: [:], lines: file.descriptor)
        let provider = Logger.MetadataProvider { ["station": "bench-3", "device": "from-provider"] }
        var logger = Logger(label: "floorgate.test") { label in
            var handler = FloorgateLogHandler(label: label, output: output)
            handler.metadataProvider = provider
            return handler
        }
        logger[metadataKey: "device"] = "scanner"
        logger.logLevel = .notice
        logger.info("not written")
        logger.notice("written", metadata: ["build": "42"])
        output.use(.json)
        logger.error("as json", metadata: ["device": "caliper"])
        let lines = try file.lines()
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.hasSuffix(" notice floorgate.test: build=42 device=from-provider station=bench-3 [GatewayTests] written") == true, "\(lines)")
        let json = try JSONValue(parsing: Array(lines.last.map { $0.utf8 }.map(Array.init) ?? []))
        #expect(json["metadata"] == ["device": "caliper", "station": "bench-3"])
        #expect(json["level"] == "error")
    }
}

/// A temporary file log lines are written to, read back as lines.
final class LogFile {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("floorgate-log-\(UUID().uuidString)").path
    let descriptor: Int32

    init() throws {
        descriptor = open(path, O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    }

    func lines() throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    deinit {
        close(descriptor)
        unlink(path)
    }
}
