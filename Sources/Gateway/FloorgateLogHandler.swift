public import Logging
import FloorgateCore
import Foundation
import Glibc
import Synchronization

/// Floorgate's log handler: shows every control character in a message or a metadata value
/// escaped (`TerminalText`: log lines carry scanned text, device names and clients' method names,
/// and a terminal or a journal viewer would obey an escape sequence in them), then hands the line
/// to its `LogOutput` in the output's current form.
public struct FloorgateLogHandler: LogHandler {
    public var metadataProvider: Logger.MetadataProvider?
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let output: LogOutput

    public init(label: String, output: LogOutput = .standard) {
        self.label = label
        self.output = output
        self.metadataProvider = LoggingSystem.metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, provided in provided } }
        if let given = event.metadata { merged.merge(given) { _, given in given } }
        output.write(
            LogLine(
                time: Date(), level: event.level, label: label, message: TerminalText.escaped(event.message.description),
                metadata: merged.mapValues(Self.text), source: event.source, file: event.file, function: event.function, line: event.line))
    }

    /// A metadata value as one escaped string (a string as it is, anything else as swift-log
    /// prints it).
    static func text(_ value: Logger.Metadata.Value) -> String {
        TerminalText.escaped(value.description)
    }
}

/// Where the process's log lines go and in which form: standard error as text or JSON, or
/// journald's socket. One per process (`standard`); a command's `--log-format` sets it before
/// anything logs. Tests give another descriptor in place of standard error.
public final class LogOutput: Sendable {
    /// The process's output: `auto` until a command says otherwise.
    public static let standard = LogOutput(format: .auto, environment: ProcessInfo.processInfo.environment)

    /// journald's name for the lines (`SYSLOG_IDENTIFIER`).
    static let identifier = "floorgate"

    /// The form lines are written in, and journald's socket, made only for the journal form.
    private struct Destination {
        var format: LogFormat
        var journal: JournalSocket?
    }

    private let destination: Mutex<Destination>
    private let journalStream: String?
    private let lines: Int32
    private let writing = Mutex(())

    /// An output writing in `format` to `lines` (standard error unless a test says otherwise),
    /// `auto` resolved against `environment`'s JOURNAL_STREAM.
    public init(format: LogFormat, environment: [String: String], lines: Int32 = 2) {
        journalStream = environment["JOURNAL_STREAM"]
        self.lines = lines
        let resolved = format.resolved(journalStream: journalStream, lines: lines)
        destination = Mutex(Destination(format: resolved, journal: resolved == .journal ? JournalSocket() : nil))
    }

    /// Writes from now on in `format`.
    public func use(_ format: LogFormat) {
        let resolved = format.resolved(journalStream: journalStream, lines: lines)
        destination.withLock { destination in
            if resolved == .journal && destination.journal == nil { destination.journal = JournalSocket() }
            destination.format = resolved
        }
    }

    /// The form lines are written in now (never `auto`).
    public var current: LogFormat { destination.withLock { $0.format } }

    func write(_ line: LogLine) {
        let (format, journal) = destination.withLock { ($0.format, $0.journal) }
        switch format {
        case .auto, .text: writeLine(line.text)
        case .json: writeLine(line.json)
        case .journal:
            if journal?.send(line.journalDatagram(identifier: Self.identifier)) != true {
                writeLine(line.prefixedText)
            }
        }
    }

    /// One line, whole: lines from several threads never interleave.
    private func writeLine(_ text: String) {
        writing.withLock { _ in StandardError.write(text + "\n", to: lines) }
    }
}

/// Unbuffered writes to standard error.
public enum StandardError {
    /// Writes all of `text` to `descriptor` (standard error unless given), retrying interrupted writes.
    public static func write(_ text: String, to descriptor: Int32 = 2) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                Glibc.write(descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }
}
