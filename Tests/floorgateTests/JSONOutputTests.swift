import ArgumentParser
import FloorgateCore
import Foundation
import RecordProtocol
import Testing
@testable import floorgate

/// INTERFACES.md: every command that prints JSON accepts `--json`.
@Suite("--json on every command that prints JSON", .timeLimit(.minutes(2)))
struct JSONOutputTests {
    /// The commands that print no JSON: services, the demo, rules and text reports.
    static let printingNone: Set<String> = ["simulate", "gateway", "demo", "udev-rule", "profiles check", "verify", "record serve", "record migrate", "record init", "record keys export", "audit export"]

    /// Each command that prints JSON with the least it needs to parse.
    static let leastArguments: [String: [String]] = [
        "decode": ["--protocol", "mitutoyo"],
        "barcode parse": ["x"],
        "collect": ["open-protocol", "--controller", "127.0.0.1:4545", "--database", "results.sqlite"],
        "record import": ["record.json"],
        "record approve": ["--part", "P", "--part-revision", "A", "--operation", "010", "--revision", "A", "--user", "ada"],
        "record redline": ["--part", "P", "--part-revision", "A", "--operation", "010", "--new-revision", "B", "--why", "ECO", "--steps", "steps.json", "--user", "eric"],
        "record diff": ["--part", "P", "--part-revision", "A", "--operation", "010", "--from", "A", "--to", "B"],
        "record nc raise": ["--build-id", "1", "--description", "scratch", "--raised-by", "olga"],
        "record nc disposition": ["--nc-id", "1", "--disposition", "rework", "--comment", "deburr", "--user", "quinn"],
        "record sign": ["--record-type", "build", "--record-id", "1", "--user", "quinn"],
        "record unlock": ["--login", "olga"],
        "record route": ["--station", "bench-3", "--operation", "010", "--user", "eric"],
        "record move-in": ["--from", "station.sqlite", "--to", "plant.sqlite"],
        "record calibration add": ["--asset", "CAL-1", "--status", "out-of-service", "--user", "quinn"],
        "record calibration show": ["CAL-1"],
        "record calibration list": [],
        "record keys register": ["--public-key", "00", "--name", "bench-3", "--user", "sam"],
        "record release": ["--serial", "SN-0001", "--user", "quinn"],
        "record nc concur": ["--nc-id", "1", "--user", "quinn"],
        "record deactivate": ["--login", "olga", "--why", "left", "--user", "sam"],
        "trace": ["--lot", "B-7731"],
        "build show": ["SN-0001"],
        "spc show": ["--part", "P", "--point", "bore"],
        "spc freeze": ["--part", "P", "--point", "bore", "--user", "quinn"],
        "dhr": ["SN-0001"],
        "devices": [],
        "status": [],
    ]

    private static let devices = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("devices").path

    /// Every command without subcommands, by its words (`record nc raise`).
    static func leaves(_ command: any ParsableCommand.Type, path: [String] = []) -> [(name: String, type: any ParsableCommand.Type)] {
        let configuration = command.configuration
        let words = path + [configuration.commandName ?? String(describing: command).lowercased()]
        guard !configuration.subcommands.isEmpty else { return [(words.dropFirst().joined(separator: " "), command)] }
        return configuration.subcommands.flatMap { leaves($0, path: words) }
    }

    @Test("each command either prints JSON and takes --json, or is one of those that print none")
    func everyCommandIsSorted() throws {
        let commands = Self.leaves(Floorgate.self)
        #expect(commands.count == Self.printingNone.count + Self.leastArguments.count, "\(commands.map(\.name))")
        for (name, type) in commands {
            let printsJSON = type is any PrintsJSON.Type
            #expect(printsJSON == (Self.leastArguments[name] != nil), "\(name): prints JSON \(printsJSON)")
            #expect(printsJSON != Self.printingNone.contains(name), "\(name)")
            guard let arguments = Self.leastArguments[name] else { continue }
            let command = try Floorgate.parseAsRoot(name.split(separator: " ").map(String.init) + arguments + ["--json"])
            #expect((command as? any PrintsJSON)?.output.json == true, "\(name) --json")
        }
    }

    @Test("with --json the commands print JSON and exit 0 (the ones a new user tried first among them)")
    func printJSON() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (server, socket) = try await FloorgateChild.approvedExampleRecord(in: scratch, extra: ["--json"])
        defer { server.kill(SIGKILL) }
        _ = try await RecordClient(socketPath: socket).call("build.open", keyed(["serial": "SN-0001", "station": "bench-3", "operator": "olga"]))
        for arguments in [
            ["barcode", "parse", "(01)09506000134352(10)ABC123"], ["build", "show", "SN-0001", "--socket", socket],
            ["dhr", "SN-0001", "--socket", socket], ["record", "unlock", "--login", "olga", "--socket", socket],
            ["devices", "--profiles", Self.devices],
        ] {
            let run = try await FloorgateProcess.run(arguments + ["--json"])
            #expect(run.status == 0, "\(arguments): \(run.standardError)")
            for line in run.standardOutput.split(separator: "\n") {
                #expect((try? JSONValue(parsing: Array(line.utf8))) != nil, "\(arguments) printed \(line)")
            }
        }
        let both = try await FloorgateProcess.run(["dhr", "SN-0001", "--socket", socket, "--format", "html", "--json"])
        #expect(both.status == 2 && both.standardError.contains("--json and --format html"), "\(both.standardError)")
    }
}

@Suite("floorgate status", .timeLimit(.minutes(1)))
struct StatusCommandTests {
    @Test("without a gateway it says where it asked and exits 1")
    func noGateway() async throws {
        let run = try await FloorgateProcess.run(["status", "--socket", "/nonexistent/gateway.sock"])
        #expect(run.status == 1 && run.standardError.contains("no gateway status on /nonexistent/gateway.sock"), "\(run.standardError)")
    }

    @Test("the screen shows each device, the outbox, the record, the clock and what needs attention")
    func screen() throws {
        let status = try JSONValue(parsing: Array(#"""
            {"station":"bench-3","devices":[{"name":"caliper","state":"connected","message":"/dev/ttyUSB0 9600 8N1","last_reading_seconds":"4.2"},
            {"name":"scanner","state":"lost","message":"unplugged","last_reading_seconds":null}],"outbox":{"pending":3,"oldest_pending_seconds":"75.0"},
            "record":{"reachable":false,"socket":"/run/floorgate/record.sock"},"clock":{"synchronized":true,"state":"synchronized"},
            "attention":["device scanner is not connected: unplugged","3 results waiting for the record, the oldest for 75 s"]}
            """#.utf8))
        let screen = StatusCommand.screen(status)
        #expect(screen.hasPrefix("bench-3: needs attention"))
        for line in ["caliper", "last reading 4.2 s ago", "scanner", "lost", "no reading yet", "3 results waiting, the oldest for 75.0 s",
                     "does not answer on /run/floorgate/record.sock", "clock         synchronized", "! device scanner is not connected"] {
            #expect(screen.contains(line), "\(line)\n\(screen)")
        }
    }
}
