import ArgumentParser
import DeviceIO
import DeviceProtocols
import FloorgateCore
import Foundation
import Glibc
import Logging

/// `floorgate simulate`: a device on a pseudo-terminal (any serial profile or line protocol),
/// or an Open Protocol tightening controller on a TCP port.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate a device, for trying a station or a test without the real one.",
        discussion: """
            A serial device (a profile name, a profile file, or a line protocol id such as \
            mitutoyo, sylvac, torque-ascii, scanner-serial): creates a pseudo-terminal, prints \
            "pty PATH" (the port to give the gateway) and sends one frame per line of --script \
            (at --rate lines per second) or of standard input (as typed). Lines are the \
            device's frames as text, with escapes for what a terminal cannot type (\\r \\n \\t \\xHH \\\\); \
            the profile's line ending (CR when it says none) is added to a line that does not \
            end in CR or LF. '#' starts a comment line. What the gateway writes (a poll \
            command) is printed as "received HEX". The port stays open when the lines end, \
            until the simulator is stopped, unless --hang-up-at-end.

            open-protocol: a TCP server that behaves like an Open Protocol tightening controller \
            (Atlas Copco and compatibles). It accepts one integrator at a time, negotiates \
            revisions, sends a tightening result (MID 0061) every 1/rate seconds once the \
            previous one was acknowledged (MID 0062), sends an unacknowledged result again after \
            a reconnect, mirrors keep-alives and closes a link silent for --link-timeout seconds. \
            It prints "listening on HOST:PORT" when ready.

            Examples:
              floorgate simulate devices/mitutoyo-dp1va-rs232.toml          (type 01A+0012.345)
              floorgate simulate mitutoyo --script readings.txt --rate 10
              floorgate simulate scanner-serial                             (type ]C1SN-0001)
              floorgate simulate open-protocol --port 4545 --rate 2
              floorgate simulate open-protocol --port 0 --count 100 --state /tmp/controller.state
              floorgate simulate open-protocol --script results.txt   (lines: TORQUE ANGLE ok|nok)
              floorgate simulate open-protocol --max-revision 2 --drop-link-after 5 --garble-every 7
              floorgate simulate open-protocol --programs programs.txt --triggered
            """
    )

    @Argument(help: ArgumentHelp("What to simulate: a profile name or file, a line protocol id, or open-protocol.", valueName: "device"))
    var device: String

    @Option(help: ArgumentHelp("Where profile names are looked up.", valueName: "directory"))
    var profiles = "devices"

    @Flag(help: "Hang up the pseudo-terminal when the lines end (the device unplugged).")
    var hangUpAtEnd = false

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "TCP port (0 picks a free one).")
    var port = 4545

    @Option(help: "Results (open-protocol: after each acknowledgement; 0 as fast as acknowledged) or script lines per second.")
    var rate: Double = 1

    @Option(help: "Stop sending after this many results (default: no end).")
    var count: Int?

    @Option(help: ArgumentHelp("Send these frames (serial) or results (open-protocol: TORQUE ANGLE ok|nok) in order.", valueName: "file"))
    var script: String?

    @Flag(help: """
        open-protocol: read the operator's panel from standard input, a line each: `trigger` (or an empty line) \
        tightens once; `panel N` selects program N at the controller; `commands-disabled on|off` sets that input; \
        `wrong-program N` makes the next tightening run program N.
        """)
    var triggered = false

    @Option(help: ArgumentHelp("""
        open-protocol: play a strict controller holding these programs, one per line: \
        ID TORQUE_MIN TORQUE_MAX TORQUE_TARGET ANGLE_MIN ANGLE_MAX ANGLE_TARGET [NAME] (torque in N·m, angles in degrees). \
        The tool then starts disabled and runs only as commanded.
        """, valueName: "file"))
    var programs: String?

    @Option(help: "Highest MID 0061 revision to offer (1, 2, 3 or 999).")
    var maxRevision = 3

    @Option(help: ArgumentHelp("Remember the last acknowledged tightening id here across restarts.", valueName: "file"))
    var state: String?

    @Option(help: "Close a link that is silent this many seconds.")
    var linkTimeout: Double = 15

    @Option(help: "Fault: drop the link once, after this many acknowledged results.")
    var dropLinkAfter: Int?

    @Option(help: "Fault: send every n-th result torn before sending it whole.")
    var garbleEvery: Int?

    @Option(help: "Fault: after this many acknowledged results, ignore the link for --stall-seconds.")
    var stallAfter: Int?

    @Option(help: "How long a stall lasts.")
    var stallSeconds: Double = 20

    @OptionGroup var log: LogOptions

    func run() async throws {
        log.apply()
        switch try SimulatedDevice.resolve(device, profilesDirectory: profiles) {
        case .openProtocol:
            try await runController()
        case .serial(let protocolID, let lineEnding):
            guard (0.001...1000).contains(rate) else {
                throw ValidationError("--rate: \(rate) lines per second is outside 0.001–1000")
            }
            let lines = try script.map { try SimulatedDevice.scriptLines($0) }
            try await SimulatedDevice.run(protocolID: protocolID, lineEnding: lineEnding, lines: lines, rate: rate, hangUpAtEnd: hangUpAtEnd)
        }
    }

    private func runController() async throws {
        guard [1, 2, 3, 999].contains(maxRevision) else {
            throw ValidationError("--max-revision: \(maxRevision) is not one the simulator can send; valid: 1, 2, 3, 999")
        }
        guard rate == 0 || (0.001...1000).contains(rate) else {
            throw ValidationError("--rate: \(rate) results per second is outside 0.001–1000 (0: as fast as acknowledged)")
        }
        guard (0.1...3600).contains(linkTimeout), (0...3600).contains(stallSeconds) else {
            throw ValidationError("--link-timeout must be 0.1–3600 s and --stall-seconds 0–3600 s")
        }
        if let count, count < 0 { throw ValidationError("--count must not be negative") }
        var configuration = OpenProtocolControllerSimulator.Configuration()
        configuration.host = host
        configuration.port = port
        configuration.resultCount = count
        configuration.interval = rate == 0 ? .zero : .milliseconds(Int64(1000 / rate))
        configuration.maximumResultRevision = maxRevision
        configuration.stateFile = state
        configuration.linkTimeout = .milliseconds(Int64(linkTimeout * 1000))
        configuration.dropLinkAfter = dropLinkAfter
        configuration.garbleEvery = garbleEvery
        configuration.stallAfter = stallAfter
        configuration.stallDuration = .milliseconds(Int64(stallSeconds * 1000))
        if let script {
            configuration.script = try Self.loadScript(script)
        }
        if let programs {
            configuration.programs = try Self.loadPrograms(programs)
        }
        if triggered {
            let panel = OpenProtocolControllerSimulator.Panel()
            configuration.panel = panel
            // Read descriptor 0 directly: a thread blocked in readLine holds stdin's FILE lock,
            // and the fflush(nil) after "listening on" would wait for it forever.
            Thread.detachNewThread {
                var buffer = [UInt8](repeating: 0, count: 256)
                var line: [UInt8] = []
                while true {
                    let count = buffer.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
                    guard count > 0 else { return }
                    for byte in buffer[..<count] {
                        guard byte == UInt8(ascii: "\n") else { line.append(byte); continue }
                        let text = String(decoding: line, as: UTF8.self)
                        line = []
                        if let action = OpenProtocolControllerSimulator.Panel.Action(line: text) {
                            panel.perform(action)
                        } else {
                            FileHandle.standardError.write(Data("panel: '\(text)' is not trigger, panel N, commands-disabled on|off or wrong-program N\n".utf8))
                        }
                    }
                }
            }
        }
        let simulator = OpenProtocolControllerSimulator(configuration: configuration, logger: Logger(label: "floorgate.simulate"))
        let host = host
        try await simulator.run { port in
            print("listening on \(host):\(port)")
            fflush(nil)
        }
    }

    /// Reads a programs file, refusing a bad line (or a program listed twice) with file and line number.
    static func loadPrograms(_ path: String) throws -> [OpenProtocolControllerSimulator.Program] {
        var programs: [OpenProtocolControllerSimulator.Program] = []
        for (number, line) in try contentLines(path, what: "programs") {
            guard let program = OpenProtocolControllerSimulator.Program(line: line) else {
                throw CommandFailure(
                    "\(path):\(number): '\(line)' is not ID TORQUE_MIN TORQUE_MAX TORQUE_TARGET ANGLE_MIN ANGLE_MAX ANGLE_TARGET [NAME]",
                    exitCode: FloorgateExit.badUsage)
            }
            guard !programs.contains(where: { $0.selection.id == program.selection.id }) else {
                throw CommandFailure("\(path):\(number): program \(program.selection.id) is listed twice", exitCode: FloorgateExit.badUsage)
            }
            programs.append(program)
        }
        return programs
    }

    /// Reads a script, refusing a bad line with file and line number.
    static func loadScript(_ path: String) throws -> [OpenProtocolControllerSimulator.ScriptedResult] {
        try contentLines(path, what: "results").map { number, line in
            guard let result = OpenProtocolControllerSimulator.ScriptedResult(line: line) else {
                throw CommandFailure("\(path):\(number): expected 'TORQUE ANGLE ok|nok', found '\(line)'", exitCode: FloorgateExit.badUsage)
            }
            return result
        }
    }

    /// The lines of `path` that say something (not blank, not only a `#` comment), with their
    /// line numbers; refused when the file cannot be read or holds none.
    private static func contentLines(_ path: String, what: String) throws -> [(number: Int, line: Substring)] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CommandFailure("cannot read \(what) '\(path)'", exitCode: FloorgateExit.badUsage)
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { index, line -> (Int, Substring)? in
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            return content.allSatisfy(\.isWhitespace) ? nil : (index + 1, line)
        }
        guard !lines.isEmpty else { throw CommandFailure("\(path): no \(what) in the file", exitCode: FloorgateExit.badUsage) }
        return lines
    }
}
