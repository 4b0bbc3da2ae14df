import DeviceProtocols
import FloorgateCore
import Foundation
import GRDB
import NIOCore
import Testing

/// The Open Protocol client (`floorgate collect`) against the controller simulator
/// (`floorgate simulate`), each in its own process, over real loopback TCP.
@Suite("Open Protocol sessions", .timeLimit(.minutes(5)), .serialized)
struct OpenProtocolSessionTests {
    private func collect(port: Int, journal: String, _ arguments: [String] = []) throws -> FloorgateChild {
        try FloorgateChild(["collect", "open-protocol", "--controller", "127.0.0.1:\(port)", "--database", journal] + arguments)
    }

    @Test("happy path: every result stored once and acknowledged")
    func happyPath() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let simulator = try await SimulatorChild.start(["--rate", "0", "--count", "20", "--state", scratch.path("controller.state")])
        defer { simulator.child.kill(SIGKILL) }
        let collector = try collect(port: simulator.port, journal: scratch.path("results.sqlite"), ["--stop-after", "20"])
        #expect(await collector.wait(timeout: .seconds(30)) == 0)
        #expect(collector.standardOutput.split(separator: "\n").count == 20)
        #expect(try JournalContents(path: scratch.path("results.sqlite")).tighteningIDs == Array(1...20))
        try await Task.sleep(for: .milliseconds(200))
        let acknowledged = try String(contentsOfFile: scratch.path("controller.state"), encoding: .utf8)
        #expect(acknowledged.trimmingCharacters(in: .whitespacesAndNewlines) == "20")
    }

    @Test("revision fallback: a controller that offers revision 2 gets subscribed at 2")
    func revisionFallback() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let simulator = try await SimulatorChild.start(["--rate", "0", "--count", "3", "--max-revision", "2"])
        defer { simulator.child.kill(SIGKILL) }
        let collector = try collect(port: simulator.port, journal: scratch.path("results.sqlite"), ["--stop-after", "3"])
        #expect(await collector.wait(timeout: .seconds(30)) == 0)
        let journal = try JournalContents(path: scratch.path("results.sqlite"))
        #expect(journal.tighteningIDs == [1, 2, 3])
        #expect(journal.rawFrames.allSatisfy { String(decoding: $0[4..<11], as: UTF8.self) == "0061002" })
        #expect(collector.standardError.contains("trying 2"))
    }

    @Test("keep-alive holds a quiet link open past the controller's link timeout")
    func keepAlive() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        // One result every 3 s; the simulator drops a link silent for 1 s.
        let simulator = try await SimulatorChild.start(["--rate", "0.33", "--count", "2", "--link-timeout", "1"])
        defer { simulator.child.kill(SIGKILL) }
        let collector = try collect(port: simulator.port, journal: scratch.path("results.sqlite"),
                                    ["--stop-after", "2", "--keep-alive", "0.25", "--link-timeout", "2"])
        #expect(await collector.wait(timeout: .seconds(30)) == 0)
        let log = collector.standardError
        #expect(!log.contains("link lost"), "\(log)")
        #expect(log.components(separatedBy: "connected").count - 1 == 1)
        #expect(try JournalContents(path: scratch.path("results.sqlite")).tighteningIDs == [1, 2])
    }

    @Test("a silent controller is a lost link: the client reconnects and carries on")
    func stalledController() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let simulator = try await SimulatorChild.start(["--rate", "0", "--count", "6", "--stall-after", "3", "--stall-seconds", "3"])
        defer { simulator.child.kill(SIGKILL) }
        let collector = try collect(port: simulator.port, journal: scratch.path("results.sqlite"),
                                    ["--stop-after", "6", "--keep-alive", "0.2", "--link-timeout", "0.8"])
        #expect(await collector.wait(timeout: .seconds(30)) == 0)
        #expect(collector.standardError.contains("nothing heard from the controller"))
        #expect(try JournalContents(path: scratch.path("results.sqlite")).tighteningIDs == Array(1...6))
    }

    @Test("the simulator killed with SIGKILL mid-stream: after its restart nothing is lost or doubled")
    func simulatorKilled() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let state = scratch.path("controller.state")
        let first = try await SimulatorChild.start(["--rate", "40", "--count", "60", "--state", state, "--garble-every", "9"])
        let collector = try collect(port: first.port, journal: scratch.path("results.sqlite"), ["--stop-after", "60"])
        try await Task.sleep(for: .milliseconds(600))
        first.child.kill(SIGKILL)
        await first.child.wait(timeout: .seconds(5))
        try await Task.sleep(for: .milliseconds(300))
        let second = try await SimulatorChild.start(port: first.port, ["--rate", "40", "--count", "60", "--state", state])
        defer { second.child.kill(SIGKILL) }
        #expect(await collector.wait(timeout: .seconds(60)) == 0)
        #expect(try JournalContents(path: scratch.path("results.sqlite")).tighteningIDs == Array(1...60))
    }

    @Test("the client killed with SIGKILL again and again: every result stored exactly once")
    func clientKilled() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let journal = scratch.path("results.sqlite")
        let simulator = try await SimulatorChild.start(["--rate", "0", "--count", "300", "--state", scratch.path("controller.state")])
        defer { simulator.child.kill(SIGKILL) }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<6 {
            let victim = try collect(port: simulator.port, journal: journal)
            try await Task.sleep(for: .milliseconds(Int.random(in: 150...500, using: &generator)))
            victim.kill(SIGKILL)
            await victim.wait(timeout: .seconds(5))
        }
        let last = try collect(port: simulator.port, journal: journal, ["--stop-after", "300"])
        #expect(await last.wait(timeout: .seconds(120)) == 0)
        #expect(try JournalContents(path: journal).tighteningIDs == Array(1...300))
    }

    @Test("results taken by another integrator while the collector was down are backfilled with MID 0064")
    func backfillAcrossRestart() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let journal = scratch.path("results.sqlite")
        let simulator = try await SimulatorChild.start(["--rate", "0", "--count", "15"])
        defer { simulator.child.kill(SIGKILL) }
        let first = try collect(port: simulator.port, journal: journal, ["--stop-after", "5"])
        #expect(await first.wait(timeout: .seconds(30)) == 0)
        // Another integrator takes results 6…10 (a collector with its own journal).
        let other = try collect(port: simulator.port, journal: scratch.path("other.sqlite"), ["--stop-after", "5"])
        #expect(await other.wait(timeout: .seconds(30)) == 0)
        #expect(try JournalContents(path: scratch.path("other.sqlite")).tighteningIDs == Array(6...10))
        let again = try collect(port: simulator.port, journal: journal, ["--stop-after", "15"])
        #expect(await again.wait(timeout: .seconds(30)) == 0)
        #expect(again.standardError.contains("requesting old results"))
        #expect(try JournalContents(path: journal).tighteningIDs == Array(1...15))
    }

    @Test("10,000 results with acknowledgements: no loss, no duplicate")
    func tenThousand() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let simulator = try await SimulatorChild.start(["--rate", "0", "--count", "10000"])
        defer { simulator.child.kill(SIGKILL) }
        let collector = try collect(port: simulator.port, journal: scratch.path("results.sqlite"), ["--stop-after", "10000"])
        #expect(await collector.wait(timeout: .seconds(600)) == 0)
        #expect(try JournalContents(path: scratch.path("results.sqlite")).tighteningIDs == Array(1...10_000))
    }
}
