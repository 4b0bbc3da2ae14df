import DeviceIO
import FixtureSupport
import FloorgateCore
import Foundation
import GRDB
import LocalPostgres
import RecordProtocol
import Testing
import WorkRecord

/// The plant's database fails over while two stations stream: a primary with a synchronous
/// standby, two record servers reaching them through one multi-host URL, two gateways with a
/// caliper each. The primary is killed with SIGKILL and the standby promoted; nothing a gateway
/// saw acknowledged may be missing from, or doubled in, the new primary.
@Suite("The plant's database fails over under load", .timeLimit(.minutes(10)), .serialized, .enabled(if: PostgresTestCluster.available))
struct PlantFailoverTests {
    static let serverRole = "floorgate_server"
    static let stations = [(name: "bench-1", serial: "SN-0009"), (name: "bench-2", serial: "SN-0010")]

    @Test("kill -9 the primary, promote the synchronous standby: the servers reconnect, the gateways deliver again, every acknowledged result is on the new primary once and the chain verifies")
    func failover() async throws {
        let primary = try await PostgresTestCluster.startOwn()
        let standby = try await primary.startSynchronousStandby(named: "standby1")
        try primary.createRole(Self.serverRole)
        let database = try primary.createDatabase()
        _ = try await RecordMigration.migrate(RecordLocation(primary.socketURL(database)), grantingTo: [Self.serverRole])
        let desk = try await RecordStore.open(RecordLocation(primary.socketURL(database)), passwordRounds: 1_000)
        _ = try await desk.perform(deskCall(.recordImport, GatewayKillTests.enduranceImport(serials: Self.stations.map(\.serial))))
        _ = try await desk.perform(deskCall(.instructionApprove, [
            "part": "P-1", "part_revision": "A", "operation": "010", "revision": "A", "signature": ["user": "ada", "password": "bench-ada-1"],
        ]))
        try await desk.close()

        // Both servers name both databases; only the one that takes writes serves.
        let url = "postgresql:///\(database)?host=\(primary.directory),\(standby.directory)&port=\(primary.port),\(standby.port)"
            + "&user=\(Self.serverRole)&target_session_attrs=read-write&connect_timeout=2"
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var servers: [FloorgateChild] = []
        var gateways: [FloorgateChild] = []
        var calipers: [PseudoTerminal] = []
        // Every pseudo-terminal stays open until the end: a closed one's number is given to the
        // next one made, which the gateway that had it would then open again as its own.
        var scanners: [PseudoTerminal] = []
        defer { withExtendedLifetime(scanners) {} }
        defer {
            gateways.forEach { $0.kill(SIGKILL) }
            servers.forEach { $0.kill(SIGKILL) }
        }
        for station in Self.stations {
            let server = try FloorgateChild.recordServer(url, socket: scratch.path("\(station.name).sock"), logLevel: "warning")
            #expect(await server.firstLine()?.hasPrefix("listening on") == true, "\(server.standardError)")
            servers.append(server)
            let scanner = try PseudoTerminal()
            let caliper = try PseudoTerminal()
            try writeTestStation(
                to: scratch.path("\(station.name).toml"), station: station.name, recordSocket: "\(station.name).sock",
                outbox: "\(station.name)-outbox.sqlite", scanner: scanner.path, caliper: caliper.path)
            gateways.append(try FloorgateChild(["gateway", "--config", scratch.path("\(station.name).toml"), "--quiet"]))
            try await Task.sleep(for: .milliseconds(300))  // the gateway opens its ports
            try scanner.send(Array("\(station.serial)\r".utf8))
            let client = RecordClient(socketPath: scratch.path("\(station.name).sock"))
            let deadline = ContinuousClock.now + .seconds(20)
            while (try? await client.call(.buildGet, ["serial": .string(station.serial)]))?["status"] != "open" {
                try #require(ContinuousClock.now < deadline, "\(station.name): the build did not open")
                try await Task.sleep(for: .milliseconds(20))
            }
            calipers.append(caliper)
            scanners.append(scanner)
        }

        // Each caliper streams readings every 10 ms; the primary dies a second in, the standby is
        // promoted, and the stations stream on for two seconds more.
        let streams = calipers.map(streamReadings(to:))
        try await Task.sleep(for: .seconds(1))
        let beforeCrash = Int(try await primary.psql(database, "SELECT COUNT(*) FROM result").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        try primary.crash()
        try standby.promote()
        try await Task.sleep(for: .seconds(2))
        var sent = 0
        for stream in streams {
            stream.cancel()
            sent += await stream.value
        }

        // Every outbox drains into the new primary; then the gateways stop the polite way.
        let outboxes = try Self.stations.map { station in
            try DatabaseQueue(path: scratch.path("\(station.name)-outbox.sqlite"), configuration: { var c = Configuration(); c.readonly = true; c.busyMode = .timeout(10); return c }())
        }
        // A failure bound, not a timing: a loaded run once took more than 90 s here.
        let drained = ContinuousClock.now + .seconds(180)
        for (index, (station, outbox)) in zip(Self.stations, outboxes).enumerated() {
            while case let pending = try await outbox.read({ try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM outbox WHERE state = 'pending'") ?? 1 }),
                  pending > 0 {
                try #require(
                    ContinuousClock.now < drained,
                    "\(station.name): \(pending) results still pending after the failover; its gateway's log: \(gateways[index].standardError.suffix(3000))")
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        for gateway in gateways { gateway.kill(SIGTERM) }
        for gateway in gateways {
            let status = await gateway.wait(timeout: .seconds(15))
            #expect(status == 0, "the gateway exited \(status): \(gateway.standardError.prefix(4000))")
        }

        // No reading was turned away: a failover is a transient fault, never a refusal.
        for (station, outbox) in zip(Self.stations, outboxes) {
            let refused = try await outbox.read { db in
                try String.fetchAll(db, sql: "SELECT state || ': ' || COALESCE(outcome, '') FROM outbox WHERE source = 'caliper' AND state <> 'delivered' LIMIT 5")
            }
            let history = refused.isEmpty ? [] : try await outbox.read { db in
                try String.fetchAll(db, sql: "SELECT source || ' ' || state || ': ' || substr(COALESCE(outcome, ''), 1, 120) FROM outbox ORDER BY seq LIMIT 8")
            }
            #expect(refused.isEmpty, "\(station.name): \(refused); the outbox began \(history)")
        }

        // What the gateways saw acknowledged is on the new primary exactly once, and nothing else is.
        var acknowledged: [String] = []
        for outbox in outboxes {
            acknowledged += try await outbox.read { db in
                try String.fetchAll(db, sql: "SELECT id FROM outbox WHERE state = 'delivered' AND source = 'caliper'")
            }
        }
        let stored = try await standby.psql(database, "SELECT key || ' ' || COUNT(*) FROM result GROUP BY key")
            .split(separator: "\n").map { $0.split(separator: " ") }
        let counts = Dictionary(stored.map { (String($0[0]), Int($0[1]) ?? 0) }, uniquingKeysWith: +)
        #expect(counts.values.allSatisfy { $0 == 1 }, "a result recorded twice")
        #expect(Set(counts.keys) == Set(acknowledged), "\(acknowledged.count) acknowledged, \(counts.count) on the new primary")
        #expect(counts.count > beforeCrash, "nothing was delivered after the failover (\(beforeCrash) before it)")
        print("failover: \(sent) readings sent by two calipers, \(beforeCrash) results on the primary when it died, \(counts.count) on the new primary")

        for server in servers { server.kill(SIGTERM) }
        for server in servers { _ = await server.wait(timeout: .seconds(10)) }
        let verified = try await FloorgateProcess.run(["verify", "--db", standby.socketURL(database)])
        #expect(verified.status == 0, "\(verified.standardError)")
    }

}
