import FixtureSupport
import Foundation
import Testing

/// Runs the built `floorgate` executable, as a user or script would.
struct FloorgateProcess {
    static var executable: URL {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let beside = directory.appendingPathComponent("floorgate")
        return FileManager.default.fileExists(atPath: beside.path) ? beside : Bundle.main.bundleURL.appendingPathComponent("floorgate")
    }

    struct Outcome {
        let status: Int32
        let standardOutput: String
        let standardError: String
    }

    /// Runs `floorgate` with `arguments` to its end, off the cooperative pool.
    static func run(_ arguments: [String], input: [UInt8] = []) async throws -> Outcome {
        try await offThePool { try runBlocking(arguments, input: input) }
    }

    private static func runBlocking(_ arguments: [String], input: [UInt8]) throws -> Outcome {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus,
            standardOutput: String(decoding: output, as: UTF8.self),
            standardError: String(decoding: errors, as: UTF8.self)
        )
    }
}

@Suite("floorgate decode", .timeLimit(.minutes(3)))
struct DecodeCommandTests {
    @Test("prints every fixture's expected events", arguments: decoderFixtureProtocols)
    func fixturesThroughTheExecutable(protocolID: String) async throws {
        let file = try DecodeFixtureFile.load(protocolID)
        for fixture in file.cases {
            let options = fixture.options.sorted { $0.key < $1.key }.flatMap { ["--\($0.key)", $0.value] }
            let outcome = try await FloorgateProcess.run(["decode", "--protocol", protocolID] + options, input: fixture.input)
            #expect(outcome.status == 0, "\(fixture.name): \(outcome.standardError)")
            let printed = try outcome.standardOutput.split(separator: "\n").map {
                try JSONDecoder().decode([String: String?].self, from: Data($0.utf8))
            }
            #expect(printed == fixture.expected, "\(protocolID): '\(fixture.name)'")
        }
    }

    @Test("the issue's example: --unit supplies the unit the frame lacks")
    func unitOption() async throws {
        let outcome = try await FloorgateProcess.run(["decode", "--protocol", "mitutoyo", "--unit", "mm"], input: Array("01A+0012.345\r01A-0000.019\r".utf8))
        #expect(outcome.standardOutput == """
            {"event":"reading","value":"12.345","unit":"mm","channel":"1","raw_hex":"3031412b303031322e3334350d"}
            {"event":"reading","value":"-0.019","unit":"mm","channel":"1","raw_hex":"3031412d303030302e3031390d"}

            """)
    }

    @Test("--file reads a capture; a missing file fails with exit 1 and names it")
    func fileOption() async throws {
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("floorgate-\(UUID().uuidString).bin")
        try Data("368.4 N.m\r\n".utf8).write(to: capture)
        defer { try? FileManager.default.removeItem(at: capture) }
        let outcome = try await FloorgateProcess.run(["decode", "--protocol", "torque-ascii", "--file", capture.path])
        #expect(outcome.status == 0)
        #expect(outcome.standardOutput.contains(#""value":"368.4","unit":"N.m""#))
        let missing = try await FloorgateProcess.run(["decode", "--protocol", "torque-ascii", "--file", "/nonexistent/capture.bin"])
        #expect(missing.status == 1)
        #expect(missing.standardError.contains("/nonexistent/capture.bin"))
    }

    @Test("bad usage exits 2, names the flag and lists the valid values", arguments: [
        (["decode", "--protocol", "caliper"], "--protocol"),
        (["decode"], "--protocol"),
        (["decode", "--protocol", "mitutoyo", "--unit", "furlong"], "--unit"),
        (["decode", "--protocl", "mitutoyo"], "--protocl"),
    ])
    func badUsage(arguments: [String], flag: String) async throws {
        let outcome = try await FloorgateProcess.run(arguments)
        #expect(outcome.status == 2)
        #expect(outcome.standardError.contains(flag))
        if flag == "--protocol" {
            #expect(outcome.standardError.contains(decoderFixtureProtocols.joined(separator: ", ")))
        }
    }

    @Test("--list names every protocol; --help teaches and exits 0")
    func listAndHelp() async throws {
        let list = try await FloorgateProcess.run(["decode", "--list"])
        #expect(list.status == 0)
        let ids = try list.standardOutput.split(separator: "\n").map {
            try JSONDecoder().decode([String: String].self, from: Data($0.utf8))["id"]
        }
        #expect(ids == decoderFixtureProtocols)
        let help = try await FloorgateProcess.run(["--help"])
        #expect(help.status == 0)
        #expect(help.standardOutput.contains("floorgate decode --list"))
        let decodeHelp = try await FloorgateProcess.run(["decode", "--help"])
        #expect(decodeHelp.status == 0)
        #expect(decodeHelp.standardOutput.contains("Examples:"))
    }
}
