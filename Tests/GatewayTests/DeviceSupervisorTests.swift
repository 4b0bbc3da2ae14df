import DeviceIO
import DeviceProtocols
import FloorgateCore
import Foundation
import Gateway
import Logging
import Synchronization
import FixtureSupport
import Testing

@Suite("Device supervisor on pseudo-terminals", .timeLimit(.minutes(2)))
struct DeviceSupervisorTests {
    /// The link states a supervisor reported.
    final class Statuses: Sendable {
        private let states = Mutex<[DeviceState]>([])
        func follow(_ supervisor: DeviceSupervisor) async {
            for await status in supervisor.statuses { states.withLock { $0.append(status.state) } }
        }
        func count(_ state: DeviceState) -> Int { states.withLock { $0.filter { $0 == state }.count } }
    }

    /// Runs `supervisor` with a recorder at the end of each connection's pipeline.
    private func start(_ supervisor: DeviceSupervisor, into reports: ReadEventRecorder, statuses: Statuses) -> Task<Void, Never> {
        Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await statuses.follow(supervisor) }
                await supervisor.run { reports.handler() }
            }
        }
    }

    private func profile() throws -> DeviceProfile {
        try ProfileLoader.load(file: StationHarness.repository.appendingPathComponent("devices/mitutoyo-dp1va-rs232.toml").path)
    }

    /// Waits for `condition`, for up to 60 s: the whole suite runs at once on two cores, and a
    /// test's tasks may wait seconds for a thread while others compute (PBKDF2, processes).
    private func eventually(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting for \(what)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    @Test("100 unplug/replug cycles behind a stable link: every reading the device completed arrives, in order")
    func replugCycles() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("floorgate-replug-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let link = directory + "/gauge-1"  // what /dev/floorgate/gauge-1 is to a udev rule
        let profile = try profile()
        var logger = Logger(label: "supervisor")
        logger.logLevel = .critical
        let supervisor = DeviceSupervisor(
            device: NodeStationDevice(name: "caliper", profile: profile, node: .path(link)),
            backoff: Backoff(initial: .milliseconds(5), maximum: .milliseconds(20)), logger: logger
        )
        let reports = ReadEventRecorder()
        let statuses = Statuses()
        let running = start(supervisor, into: reports, statuses: statuses)
        defer { running.cancel() }
        var expected: [String] = []
        // Each unplugged device stays allocated until the end: the supervisor may retry the link
        // before it points at the next one, and must find a hung-up device there, not another
        // test's that was given the freed number.
        var unplugged: [PseudoTerminal] = []
        defer { withExtendedLifetime(unplugged) {} }
        for cycle in 0..<100 {
            let terminal = try PseudoTerminal()
            unplugged.append(terminal)
            try? FileManager.default.removeItem(atPath: link)
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: terminal.path)
            try await eventually("connection \(cycle + 1)") { statuses.count(.connected) == cycle + 1 }
            for reading in 0..<3 {
                let value = String(format: "%04d.%03d", cycle, reading)
                expected.append(String(format: "%d.%03d", cycle, reading))
                try terminal.send(Array("01A+\(value)\r".utf8))
            }
            try await eventually("the readings of cycle \(cycle)") { reports.readings.count == expected.count }
            terminal.hangUp()
            try await eventually("unplug \(cycle + 1)") { statuses.count(.lost) >= cycle + 1 }
        }
        #expect(reports.readings == expected)
        #expect(statuses.count(.connected) == 100)
    }

    @Test("a frame cut by the unplug is reported as incomplete, not glued to the next device's frame")
    func cutFrame() async throws {
        let terminal = try PseudoTerminal()
        let profile = try profile()
        var logger = Logger(label: "supervisor")
        logger.logLevel = .critical
        let supervisor = DeviceSupervisor(
            device: NodeStationDevice(name: "caliper", profile: profile, node: .path(terminal.path)),
            backoff: Backoff(initial: .milliseconds(5), maximum: .milliseconds(20)), logger: logger
        )
        let reports = ReadEventRecorder()
        let statuses = Statuses()
        let running = start(supervisor, into: reports, statuses: statuses)
        defer { running.cancel() }
        try await eventually("connected") { statuses.count(.connected) == 1 }
        try terminal.send(Array("01A+0012.345\r01A+00".utf8))
        try await eventually("the whole reading") { reports.readings == ["12.345"] }
        try await Task.sleep(for: .milliseconds(100))  // the cut frame's bytes are read, held for their end
        terminal.hangUp()
        try await eventually("the cut frame reported") {
            reports.all.contains { $0.event == .error(.incompleteFrame, raw: RawBytes(Array("01A+00".utf8))) }
        }
        try await eventually("the loss reported") { statuses.count(.lost) >= 1 }
        #expect(reports.readings == ["12.345"])
    }
}
