import DeviceIO
import FloorgateCore
import Foundation
import GRDB
import RecordProtocol
import Synchronization
import Testing
import WorkRecord

/// A `floorgate` process started by a test. Its output is drained as it comes (a process that
/// prints more than a pipe holds would otherwise block) by a thread per stream, reading until
/// the end of the stream. (Not a `readabilityHandler`: its dispatch source outlives the handler's
/// removal, and a pipe closed under it can crash libdispatch's event loop, ending the whole test
/// process, as a loaded clean-clone CI run saw.)
final class FloorgateChild: Sendable {
    private let process = Process()
    private let output = OutputBuffer()
    private let errors = OutputBuffer()
    private let input: Pipe?

    /// With `input`, the test writes the process's standard input (`send`).
    init(_ arguments: [String], environment: [String: String] = [:], input: Bool = false) throws {
        self.input = input ? Pipe() : nil
        process.executableURL = FloorgateProcess.executable
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, given in given }
        }
        let outputPipe = Pipe(), errorPipe = Pipe()
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        process.standardInput = self.input ?? FileHandle.nullDevice
        try process.run()
        output.drain(outputPipe.fileHandleForReading)
        errors.drain(errorPipe.fileHandleForReading)
    }

    /// The first line the process prints, or nil if it prints none within `timeout`.
    func firstLine(timeout: Duration = .seconds(60)) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let line = output.data.withLock { data -> String? in
                guard let end = data.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
                return String(decoding: data[..<end], as: UTF8.self)
            }
            if let line { return line }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// Waits for the process to exit (killing it after `timeout`) and returns its status, once
    /// its streams are read to their end (or 2 s more have passed).
    @discardableResult
    func wait(timeout: Duration) async -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { kill(SIGKILL) }
        while process.isRunning { try? await Task.sleep(for: .milliseconds(5)) }
        let drained = ContinuousClock.now + .seconds(2)
        while !(output.isFinished && errors.isFinished) && ContinuousClock.now < drained {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return process.terminationStatus
    }

    /// Writes one line to its standard input (started with `input`).
    func send(_ line: String) {
        input?.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    func kill(_ signal: Int32) {
        if process.isRunning { _ = Foundation.kill(process.processIdentifier, signal) }
    }

    var standardError: String { errors.text }
    var standardOutput: String { output.text }
    var pid: pid_t { process.processIdentifier }

    deinit {
        kill(SIGKILL)
    }
}

/// Bytes a child process printed, appended by the stream's reader thread.
final class OutputBuffer: Sendable {
    let data = Mutex(Data())
    private let finished = Mutex(false)

    /// Reads `handle` to its end on a thread of its own; the thread keeps the handle (and so its
    /// descriptor) open until then.
    func drain(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            while case let chunk = handle.availableData, !chunk.isEmpty {
                data.withLock { $0.append(chunk) }
            }
            finished.withLock { $0 = true }
        }
    }

    /// Whether the stream has ended.
    var isFinished: Bool { finished.withLock { $0 } }

    var text: String { data.withLock { String(decoding: $0, as: UTF8.self) } }
}

/// A controller simulator process and the port it listens on.
struct SimulatorChild {
    let child: FloorgateChild
    let port: Int

    /// Starts `floorgate simulate open-protocol` on `port` (0: a free one) with more arguments.
    static func start(port: Int = 0, _ arguments: [String], input: Bool = false) async throws -> SimulatorChild {
        let child = try FloorgateChild(["simulate", "open-protocol", "--port", "\(port)"] + arguments, input: input)
        guard let line = await child.firstLine(), let bound = line.split(separator: ":").last.flatMap({ Int($0) }) else {
            throw HarnessError.simulatorDidNotStart
        }
        return SimulatorChild(child: child, port: bound)
    }
}

enum HarnessError: Error { case simulatorDidNotStart }

/// A scratch directory for one test's files.
struct ScratchDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("floorgate-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// What a collector's SQLite journal holds, read through its own connection.
struct JournalContents {
    /// The tightening id of every row, in id order (duplicates would show twice; a row whose key
    /// is not a tightening id shows as -1).
    let tighteningIDs: [Int]
    let rawFrames: [[UInt8]]

    init(path: String) throws {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)  // the collector may be writing right now
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        (tighteningIDs, rawFrames) = try queue.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT sourceKey, raw FROM outbox")
            let ids = rows.map { row -> Int in
                let key = row["sourceKey"] as String? ?? ""
                return Int(key.prefix { $0.isNumber }) ?? -1
            }
            return (ids.sorted(), rows.map { [UInt8]($0["raw"] as Data) })
        }
    }
}

/// A station configuration for a gateway under test: a scanner and a caliper (with its asset
/// number `caliperSerial`, if any) on pseudo-terminals, the repository's device profiles, the page
/// on any free port, and `more` devices as TOML.
func writeTestStation(
    to path: String, station: String, recordSocket: String, outbox: String, scanner: String, caliper: String, caliperSerial: String? = nil,
    more: String = ""
) throws {
    let devices = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("devices").path
    try """
        station = "\(station)"
        operator = "olga"
        record_socket = "\(recordSocket)"
        outbox = "\(outbox)"
        profiles = "\(devices)"
        serial_pattern = "regex:^SN-[0-9]{4}$"
        [page]
        port = 0
        [[device]]
        name = "scanner"
        profile = "serial-scanner-usb-adapter"
        path = "\(scanner)"
        [[device]]
        name = "caliper"
        profile = "mitutoyo-dp1va-rs232"
        path = "\(caliper)"
        \(caliperSerial.map { "serial = \"\($0)\"" } ?? "")
        \(more)
        """.write(toFile: path, atomically: true, encoding: .utf8)
}

/// A caliper streaming readings 1, 2, 3, … (as thousandths of a millimetre, in the Mitutoyo
/// format) every 10 ms until cancelled; its value is how many it sent.
func streamReadings(to caliper: PseudoTerminal) -> Task<Int, Never> {
    Task.detached {
        var sent = 0
        while !Task.isCancelled {
            sent += 1
            try? caliper.send(Array(String(format: "01A+%08.3f\r", Double(sent) / 1000).utf8))
            try? await Task.sleep(for: .milliseconds(10))
        }
        return sent
    }
}

/// `params` with a fresh idempotency key, as a gateway's or a command's request carries one.
func keyed(_ params: JSONValue) -> JSONValue {
    guard case .object(var members) = params else { return params }
    members["idempotency_key"] = .string(UUIDv7.make())
    return .object(members)
}

/// A request made at a desk, on the record directly (as `--db` gives a command), with a fresh key.
func deskCall(_ method: RecordMethod, _ params: JSONValue) -> RecordCall {
    RecordCall(method: method, params: keyed(params), peer: "desk")
}

extension FloorgateChild {
    /// `floorgate record serve` on `database` (a SQLite path or a PostgreSQL URL) at `socket`,
    /// with the tests' low PBKDF2 work factor.
    /// A PostgreSQL record's server gets a key of its own beside its socket.
    static func recordServer(_ database: String, socket: String, logLevel: String? = nil, environment: [String: String] = [:]) throws -> FloorgateChild {
        var key: [String] = []
        if database.hasPrefix("postgresql:") {
            _ = try RecordServerKey.create(path: socket + ".key")
            key = ["--key", socket + ".key"]
        }
        return try FloorgateChild(
            ["record", "serve", "--db", database, "--socket", socket, "--password-rounds", "1000"] + key + (logLevel.map { ["--log-level", $0] } ?? []),
            environment: environment)
    }
}

extension FloorgateChild {
    /// A record server on `scratch`'s record.sqlite with the example imported and revision A of
    /// operation 010 approved, through the commands a user runs (each given `extra` too, e.g.
    /// `--json`). The caller stops the server.
    static func approvedExampleRecord(in scratch: ScratchDirectory, extra: [String] = []) async throws -> (server: FloorgateChild, socket: String) {
        let socket = scratch.path("record.sock")
        let server = try FloorgateChild.recordServer(scratch.path("record.sqlite"), socket: socket, logLevel: "warning")
        do {
            #expect(await server.firstLine() == "listening on \(socket)")
            let imported = try await FloorgateProcess.run(["record", "import", RecordCommandTests.exampleImport, "--socket", socket] + extra)
            try #require(imported.status == 0, "\(imported.standardError)")
            let approve = ["record", "approve", "--part", "HX-200", "--part-revision", "C", "--operation", "010", "--revision", "A", "--user", "ada", "--socket", socket]
            let approved = try await FloorgateProcess.run(approve + extra, input: Array("bench-ada-1\n".utf8))
            try #require(approved.status == 0, "\(approved.standardError)")
            return (server, socket)
        } catch {
            server.kill(SIGKILL)
            throw error
        }
    }
}
