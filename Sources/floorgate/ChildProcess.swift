import Foundation
import Synchronization

/// Another `floorgate` process the demo runs (the record, the gateway, a simulated device):
/// its standard input is a pipe the demo writes to, its standard output is read line by line,
/// its standard error goes to a log file.
final class ChildProcess: Sendable {
    let name: String
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let printed = PrintedLines()

    /// Starts `floorgate ARGUMENTS`; `onLine` sees each line it prints.
    init(name: String, arguments: [String], logFile: String, onLine: @escaping @Sendable (String) -> Void = { _ in }) throws {
        self.name = name
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        guard FileManager.default.createFile(atPath: logFile, contents: nil), let log = FileHandle(forWritingAtPath: logFile) else {
            throw CommandFailure("\(name): cannot write its log \(logFile)")
        }
        process.standardError = log
        let printed = printed
        output.fileHandleForReading.readabilityHandler = { handle in
            for line in printed.append(handle.availableData) { onLine(line) }
        }
        try process.run()
    }

    /// Waits for a printed line starting with `prefix` (and holding `containing`, when given)
    /// and returns the rest of it.
    func line(startingWith prefix: String, containing: String? = nil, timeout: Duration = .seconds(20)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = printed.lines.withLock({ $0.first { $0.hasPrefix(prefix) && (containing.map($0.contains) ?? true) } }) {
                return String(line.dropFirst(prefix.count))
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw CommandFailure("\(name) did not print '\(prefix)…' (exited: \(!process.isRunning)); see its log")
    }

    /// Whether it printed a line that `matches`.
    func hasPrinted(_ matches: (String) -> Bool) -> Bool {
        printed.lines.withLock { $0.contains(where: matches) }
    }

    /// How many lines it has printed so far: a mark for `lastPrinted(since:)`.
    var printedCount: Int { printed.lines.withLock { $0.count } }

    /// The last line it printed that `matches`, if it printed it after the first `mark` lines.
    func lastPrinted(since mark: Int = 0, _ matches: (String) -> Bool) -> String? {
        printed.lines.withLock { lines in
            guard let index = lines.lastIndex(where: matches), index >= mark else { return nil }
            return lines[index]
        }
    }

    /// Writes one line to its standard input.
    func send(_ line: String) {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// Stops it with SIGTERM, then SIGKILL after `grace`; returns its exit status.
    @discardableResult
    func stop(grace: Duration = .seconds(10)) async -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = ContinuousClock.now + grace
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        output.fileHandleForReading.readabilityHandler = nil
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        output.fileHandleForReading.readabilityHandler = nil
    }
}

/// The lines a child printed, split as the pipe delivers chunks.
private final class PrintedLines: Sendable {
    let lines = Mutex<[String]>([])
    private let partial = Mutex(Data())

    /// Adds a chunk; returns the lines it completed.
    func append(_ chunk: Data) -> [String] {
        let complete: [String] = partial.withLock { buffer in
            buffer.append(chunk)
            var found: [String] = []
            while let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                found.append(String(decoding: buffer[buffer.startIndex..<end], as: UTF8.self))
                buffer.removeSubrange(buffer.startIndex...end)
            }
            return found
        }
        lines.withLock { $0 += complete }
        return complete
    }
}
