import FixtureSupport
import FloorgateCore
import Dispatch
import Foundation
import LocalPostgres
import Synchronization
import RecordProtocol
import Testing
import WorkRecord

/// The plant-wide record: several `floorgate record serve` processes, one per station, on one
/// PostgreSQL database in a throwaway cluster, with clients at every station and at the desks.
@Suite("A plant's record: many record servers on one PostgreSQL database", .timeLimit(.minutes(5)), .enabled(if: PostgresTestCluster.available))
struct PlantRecordTests {
    /// A record server key of its own, made in `scratch` (`floorgate record init --key`).
    static func serverKey(in scratch: ScratchDirectory) throws -> String {
        let path = scratch.path("server-\(UUID().uuidString.prefix(8)).key")
        _ = try RecordServerKey.create(path: path)
        return path
    }

    static let stations = ["bench-1", "bench-2", "bench-3"]
    static let serverRole = "floorgate_server"

    /// A migrated plant record with the example import, revision A approved and a second work
    /// order of fourteen serials; returns the owner's URL and the servers' URL.
    private static func plantRecord(_ cluster: PostgresTestCluster) async throws -> (owner: String, server: String, database: String) {
        let database = try cluster.createDatabase()
        try cluster.createRole(serverRole)
        let owner = cluster.socketURL(database), server = cluster.socketURL(database, role: serverRole)
        let migrated = try await FloorgateProcess.run(["record", "migrate", "--db", owner, "--grant", serverRole])
        #expect(migrated.status == 0, "\(migrated.standardError)")
        var example = try JSONValue(parsing: try Data(contentsOf: URL(fileURLWithPath: RecordCommandTests.exampleImport)))
        if case .object(var members) = example {
            members["work_orders"] = .array((members["work_orders"]?.arrayValue ?? []) + [[
                "number": "WO-2001", "part": "HX-200", "part_revision": "C", "quantity": 14, "operations": ["010"],
                "serials": .array((1...14).map { .string(String(format: "P-%04d", $0)) }),
            ]])
            example = .object(members)
        }
        try await atDesk(server) { desk in
            _ = try await desk.perform(deskCall(.recordImport, example))
            _ = try await desk.perform(deskCall(.instructionApprove, [
                "part": "HX-200", "part_revision": "C", "operation": "010", "revision": "A",
                "signature": ["user": "ada", "password": "bench-ada-1"],
            ]))
        }
        return (owner, server, database)
    }

    /// Works on the record through a connection of the desk's own, as `--db URL` gives a
    /// command: the record's rules, no server. The connection is closed whatever happens.
    private static func atDesk(_ url: String, _ body: (RecordStore) async throws -> Void) async throws {
        let desk = try await RecordStore.open(RecordLocation(url), passwordRounds: 1_000)
        do {
            try await body(desk)
        } catch {
            try? await desk.close()
            throw error
        }
        try await desk.close()
    }

    @Test("three stations build at once, a redline from the engineering desk reaches every station within 1 s, quality dispositions from its desk, a serial scanned at two stations opens once; every result once, the chain verifies")
    func stationsShareOneRecord() async throws {
        let cluster = try await PostgresTestCluster.shared()
        let (owner, serverURL, database) = try await Self.plantRecord(cluster)
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var servers: [FloorgateChild] = []
        for station in Self.stations {
            let server = try FloorgateChild.recordServer(serverURL, socket: scratch.path("\(station).sock"), logLevel: "warning")
            #expect(await server.firstLine()?.hasPrefix("listening on") == true)
            servers.append(server)
        }
        defer { servers.forEach { $0.kill(SIGKILL) } }

        // Every station subscribes, as the gateway does, and notes when the redline reaches it.
        let heard = Shared<[String: ContinuousClock.Instant]>([:])
        var listeners: [Task<Void, Never>] = []
        for station in Self.stations {
            let client = RecordClient(socketPath: scratch.path("\(station).sock"))
            _ = try await client.call(.subscribe)
            listeners.append(Task {
                if await client.nextNotification(named: RecordNotification.redlinePublished, timeout: .seconds(60)) != nil {
                    heard.state.withLock { $0[station] = .now }
                }
            })
        }
        defer { listeners.forEach { $0.cancel() } }
        let published = Shared<ContinuousClock.Instant?>(nil)

        // Four units per station, built at once: open, two readings each (one fails, raising an NC).
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for (index, station) in Self.stations.enumerated() {
                group.addTask {
                        let client = RecordClient(socketPath: scratch.path("\(station).sock"))
                        var recorded = 0
                        for unit in 0..<4 {
                            let serial = String(format: "P-%04d", index * 4 + unit + 1)
                            let build = try await client.call("build.open", keyed(["serial": .string(serial), "station": .string(station), "operator": "olga"]))
                            let buildID = try #require(build["build_id"]?.integerValue)
                            for value in ["12.004", unit == 0 ? "12.031" : "11.996"] {
                                _ = try await client.call("result.record", keyed([
                                    "build_id": .integer(buildID), "kind": "measure", "value": .string(value), "unit": "mm",
                                    "device": ["kind": "gauge", "profile": "mitutoyo-usb-itn", "serial": .string("CAL-\(station)")],
                                    "operator": "olga", "station": .string(station),
                                ]))
                                recorded += 1
                            }
                        }
                        return recorded
                }
            }
            // Meanwhile, the engineering desk publishes a redline through the database itself.
            group.addTask {
                try await Task.sleep(for: .milliseconds(300))
                try await Self.atDesk(serverURL) { desk in
                _ = try await desk.perform(deskCall("redline.publish", [
                    "part": "HX-200", "part_revision": "C", "operation": "010", "new_revision": "B", "reason": "wider bore tolerance",
                    "signature": ["user": "eric", "password": "bench-eric-1"],
                    "steps": [[
                        "key": "10", "title": "Check housing bore", "text": "Measure the bore twice.",
                        "points": [["name": "bore diameter", "kind": "measure", "unit": "mm", "nominal": "12.000", "minus": "0.030", "plus": "0.030", "count": 2]],
                    ], [
                        "key": "20", "title": "Torque cover screws", "text": "Four screws.",
                        "points": [["name": "cover screw", "kind": "torque", "unit": "N.m", "nominal": "4.0", "minus": "0.2", "plus": "0.2", "count": 4]],
                    ]],
                ]))
                _ = try await desk.perform(deskCall("instruction.approve", [
                    "part": "HX-200", "part_revision": "C", "operation": "010", "revision": "B", "signature": ["user": "ada", "password": "bench-ada-1"],
                ]))
                published.state.withLock { $0 = .now }
                }
                return 0
            }
            return try await group.reduce(0, +)
        }
        #expect(results == 24)

        // Every station hears of the redline within a second of its commit.
        let committed = try #require(published.state.withLock { $0 })
        let deadline = committed + .seconds(5)
        while heard.state.withLock({ $0.count }) < Self.stations.count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        for station in Self.stations {
            let at = heard.state.withLock { $0[station] }
            #expect(at != nil, "\(station) heard no redline")
            if let at { #expect(at - committed < .seconds(1), "\(station) heard the redline \(at - committed) after its commit") }
        }

        // A serial scanned at two stations at the same moment: one opens it, the other is told where.
        let outcomes = await withTaskGroup(of: Result<JSONValue, RecordCallError>.self) { group in
            for station in ["bench-1", "bench-2"] {
                group.addTask {
                    let client = RecordClient(socketPath: scratch.path("\(station).sock"))
                    return await client.pipeline([(.buildOpen, keyed(["serial": "P-0013", "station": .string(station), "operator": "olga"]))])[0]
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let opened = outcomes.compactMap { try? $0.get() }
        let refused = outcomes.compactMap { if case .failure(let error) = $0 { error } else { nil } }
        #expect(opened.count == 1 && refused.count == 1, "\(outcomes)")
        if let winner = opened.first?["station"]?.stringValue, let refusal = refused.first {
            #expect(refusal.code == .openElsewhere && refusal.description.contains(winner), "\(refusal)")
        }

        // Results for one build from two stations' servers at once: both recorded, once each.
        let shared = RecordClient(socketPath: scratch.path("bench-1.sock"))
        let sharedBuild = try #require(try await shared.call("build.open", keyed(["serial": "P-0014", "station": "bench-1", "operator": "olga"]))["build_id"]?.integerValue)
        let sharedResults = try await withThrowingTaskGroup(of: Int64?.self) { group in
            for station in ["bench-1", "bench-2"] {
                group.addTask {
                    let client = RecordClient(socketPath: scratch.path("\(station).sock"))
                    return try await client.call("result.record", keyed([
                        "build_id": .integer(sharedBuild), "kind": "measure", "value": "12.002", "unit": "mm",
                        "device": ["kind": "gauge", "serial": .string("CAL-\(station)")], "operator": "olga", "station": .string(station),
                    ]))["result_id"]?.integerValue
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(sharedResults.compactMap { $0 }).count == 2, "\(sharedResults)")

        // Quality dispositions the NC of bench-2's first unit from its desk, through bench-3's server.
        let quality = RecordClient(socketPath: scratch.path("bench-3.sock"))
        let build = try await quality.call("build.get", ["serial": "P-0005"])
        let nc = try #require(build["open_ncs"]?.arrayValue?.first?["nc_id"]?.integerValue)
        let disposition = try await quality.call("nc.disposition", keyed([
            "nc_id": .integer(nc), "disposition": "scrap", "comment": "bore out of the new tolerance too",
            "signature": ["user": "quinn", "password": "bench-quinn-1"],
        ]))
        #expect(disposition["disposition"] == "scrap")

        // Every result once; the chain covers every row of every server's writes.
        #expect(try await cluster.psql(database, "SELECT COUNT(*) FROM result").trimmingCharacters(in: .whitespacesAndNewlines) == "26")
        #expect(try await cluster.psql(database, "SELECT COUNT(DISTINCT seq) = COUNT(*) FROM audit").contains("t"))
        for server in servers { server.kill(SIGTERM) }
        for server in servers { #expect(await server.wait(timeout: .seconds(10)) == 0) }
        let verified = try await FloorgateProcess.run(["verify", "--db", owner])
        #expect(verified.status == 0, "\(verified.standardError)")
        #expect(verified.standardOutput.contains("verify"))
    }

    @Test("migrators started together run one at a time: the schema is created once, the others find it current")
    func concurrentMigrators() async throws {
        let cluster = try await PostgresTestCluster.shared()
        let database = try cluster.createDatabase()
        try cluster.createRole(Self.serverRole)
        let migrators = try (0..<4).map { _ in
            try FloorgateChild(["record", "migrate", "--db", cluster.socketURL(database), "--grant", Self.serverRole])
        }
        var said: [String] = []
        for migrator in migrators {
            said.append(await migrator.firstLine(timeout: .seconds(60)) ?? "")
            #expect(await migrator.wait(timeout: .seconds(60)) == 0, "\(said)")
        }
        #expect(said.filter { $0.contains("schema version 0 → \(RecordMigration.schemaVersion)") }.count == 1, "\(said)")
        #expect(said.filter { $0.contains("schema version \(RecordMigration.schemaVersion) is current") }.count == 3, "\(said)")
        #expect(try await cluster.psql(database, "SELECT COUNT(*) FROM floorgate_schema").trimmingCharacters(in: .whitespacesAndNewlines) == "1")
    }

    @Test("a record of the previous schema version: serve refuses it naming both versions; record migrate brings it forward and serve takes it")
    func olderSchemaMigratesForward() async throws {
        let cluster = try await PostgresTestCluster.shared()
        let (owner, serverURL, database) = try await Self.plantRecord(cluster)
        // Version 1 is this version without the stations' routes (2), the idempotency digests (3),
        // the frozen control limits and step pictures (4), the calibration register (5) and genealogy (6).
        try await cluster.psql(
            database,
            "DROP TABLE user_deactivation; DROP TABLE nc_concession; DROP TABLE unit_release; DROP TABLE redline_draft; DROP TABLE server_key; ALTER TABLE audit DROP COLUMN key_id; ALTER TABLE audit DROP COLUMN signature; DROP TABLE result_time; DROP TABLE tightening; DROP TABLE component_use; DROP TABLE part_identifier; DROP TABLE calibration; DROP INDEX result_by_device; DROP TABLE spc_limits; DROP TABLE media; DROP TABLE media_content; DROP TABLE station_route; ALTER TABLE idempotency DROP COLUMN digest; UPDATE floorgate_schema SET version = 1")
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let refused = try await FloorgateProcess.run(["record", "serve", "--key", Self.serverKey(in: scratch), "--db", serverURL, "--socket", scratch.path("r.sock")])
        #expect(refused.status == 1 && refused.standardError.contains("schema version 1") && refused.standardError.contains("version \(RecordMigration.schemaVersion)"), "\(refused.standardError)")
        let migrated = try await FloorgateProcess.run(["record", "migrate", "--db", owner, "--grant", Self.serverRole])
        #expect(migrated.status == 0 && migrated.standardOutput.contains("schema version 1 → \(RecordMigration.schemaVersion)"), "\(migrated.standardOutput) \(migrated.standardError)")
        let server = try FloorgateChild.recordServer(serverURL, socket: scratch.path("r.sock"))
        defer { server.kill(SIGKILL) }
        #expect(await server.firstLine()?.hasPrefix("listening on") == true)
        let client = RecordClient(socketPath: scratch.path("r.sock"))
        let routed = try await client.call(.routeSet, keyed(["station": "bench-1", "operations": ["010"], "signature": ["user": "eric", "password": "bench-eric-1"]]))
        #expect(routed["route_id"] == 1)
        server.kill(SIGTERM)
        _ = await server.wait(timeout: .seconds(10))
        let verified = try await FloorgateProcess.run(["verify", "--db", owner])
        #expect(verified.status == 0, "\(verified.standardError)")
    }

    @Test("a URL naming several servers: the first that is up and takes writes serves (target_session_attrs=read-write); none that does is an error naming each and why")
    func severalServers() async throws {
        let primary = try await PostgresTestCluster.shared()
        let (_, _, database) = try await Self.plantRecord(primary)
        // A second server with the same database and role that takes no writes, as a standby would.
        let standby = try await PostgresTestCluster.startOwn()
        try standby.createRole(Self.serverRole)
        try await standby.psql("postgres", "CREATE DATABASE \(database)")
        try await standby.psql("postgres", "ALTER SYSTEM SET default_transaction_read_only = on")
        try await standby.psql("postgres", "SELECT pg_reload_conf()")
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let down = scratch.path("no-server")
        let url = "postgresql://\(Self.serverRole)@/\(database)?host=\(down),\(standby.directory),\(primary.directory)"
            + "&port=5432,\(standby.port),\(primary.port)&target_session_attrs=read-write&connect_timeout=5"
        let server = try FloorgateChild.recordServer(url, socket: scratch.path("r.sock"))
        defer { server.kill(SIGKILL) }
        #expect(await server.firstLine()?.hasPrefix("listening on") == true)
        let client = RecordClient(socketPath: scratch.path("r.sock"))
        let build = try await client.call(.buildOpen, keyed(["serial": "P-0001", "station": "bench-1", "operator": "olga"]))
        let buildID = try #require(build["build_id"]?.integerValue)
        #expect(try await primary.psql(database, "SELECT s.serial FROM build b JOIN unit_serial s ON s.id = b.serial_id WHERE b.id = \(buildID)").trimmingCharacters(in: .whitespacesAndNewlines) == "P-0001")

        let standbyOnly = "postgresql://\(Self.serverRole)@/\(database)?host=\(down),\(standby.directory)&port=5432,\(standby.port)"
            + "&target_session_attrs=read-write&connect_timeout=5"
        let refused = try await FloorgateProcess.run(["record", "serve", "--key", Self.serverKey(in: scratch), "--db", standbyOnly, "--socket", scratch.path("s.sock")])
        #expect(refused.status == 1)
        #expect(refused.standardError.contains(down) && refused.standardError.contains("accepts no writes"), "\(refused.standardError)")
    }

    @Test("the servers' role may add rows but never change or remove results, signatures or the audit chain")
    func serversCannotRewriteHistory() async throws {
        let cluster = try await PostgresTestCluster.shared()
        let (_, _, database) = try await Self.plantRecord(cluster)
        for statement in ["UPDATE result SET value = '0'", "DELETE FROM audit", "UPDATE signature SET meaning = 'approved'", "TRUNCATE audit"] {
            #expect(throws: (any Error).self, "\(statement)") { try cluster.psql(database, statement, role: Self.serverRole) }
        }
        #expect(try await cluster.psql(database, "SELECT COUNT(*) > 0 FROM audit", role: Self.serverRole).contains("t"))
    }

    @Test("a record server refuses a database without this version's schema, and one it cannot reach, naming why")
    func serveRefusesBadDatabases() async throws {
        let cluster = try await PostgresTestCluster.shared()
        let empty = try cluster.createDatabase()
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let unmigrated = try await FloorgateProcess.run(["record", "serve", "--key", Self.serverKey(in: scratch), "--db", cluster.socketURL(empty), "--socket", scratch.path("r.sock")])
        #expect(unmigrated.status == 1)
        #expect(unmigrated.standardError.contains("schema version 0") && unmigrated.standardError.contains("record migrate"), "\(unmigrated.standardError)")
        // A record migrated by a newer Floorgate, and a role without the servers' privileges.
        let (_, serverURL, newer) = try await Self.plantRecord(cluster)
        try await cluster.psql(newer, "UPDATE floorgate_schema SET version = 99")
        let ahead = try await FloorgateProcess.run(["record", "serve", "--key", Self.serverKey(in: scratch), "--db", serverURL, "--socket", scratch.path("r.sock")])
        #expect(ahead.status == 1 && ahead.standardError.contains("schema version 99") && ahead.standardError.contains("upgrade"), "\(ahead.standardError)")
        try cluster.createRole("floorgate_visitor")
        let visitor = try await FloorgateProcess.run(["record", "serve", "--key", Self.serverKey(in: scratch), "--db", cluster.socketURL(empty, role: "floorgate_visitor"), "--socket", scratch.path("r.sock")])
        #expect(visitor.status == 1, "\(visitor.standardError)")
        let (_, _, granted) = try await Self.plantRecord(cluster)
        let unprivileged = try await FloorgateProcess.run(["record", "serve", "--key", Self.serverKey(in: scratch), "--db", cluster.socketURL(granted, role: "floorgate_visitor"), "--socket", scratch.path("r.sock")])
        #expect(unprivileged.status == 1 && unprivileged.standardError.contains("privilege"), "\(unprivileged.standardError)")

        let nowhere = try await FloorgateProcess.run([
            "record", "serve", "--key", Self.serverKey(in: scratch), "--db", "postgresql:///record?host=\(scratch.path("no-server"))&connect_timeout=2", "--socket", scratch.path("r.sock"),
        ])
        #expect(nowhere.status == 1)
        #expect(nowhere.standardError.contains(scratch.path("no-server")), "\(nowhere.standardError)")
        let password = try await FloorgateProcess.run([
            "record", "serve", "--key", Self.serverKey(in: scratch), "--db", "postgresql://\(Self.serverRole):wrong@127.0.0.1:\(cluster.port)/\(empty)?sslmode=disable",
            "--socket", scratch.path("r.sock"),
        ])
        #expect(password.status == 1)
        #expect(password.standardError.contains("password authentication failed"), "\(password.standardError)")
        #expect(!password.standardError.contains("wrong"), "the password was printed: \(password.standardError)")
    }

    @Test("a database that stops answering mid-transaction (its backends frozen): after 30 s of silence the request is refused as unreachable, and once it answers again the server serves")
    func silentDatabase() async throws {
        let cluster = try await PostgresTestCluster.shared()
        let (_, serverURL, database) = try await Self.plantRecord(cluster)
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let server = try FloorgateChild.recordServer(serverURL, socket: scratch.path("s.sock"), logLevel: "error")
        defer { server.kill(SIGKILL) }
        #expect(await server.firstLine()?.hasPrefix("listening on") == true)
        let client = RecordClient(socketPath: scratch.path("s.sock"), answerTimeout: .seconds(120))
        _ = try await client.call(.buildOpen, keyed(["serial": "P-0002", "station": "bench-1", "operator": "olga"]))

        // The server's sessions freeze, as behind a half-open connection: nothing answers, nothing closes.
        let backends = try await cluster.psql(database, "SELECT pid FROM pg_stat_activity WHERE usename = '\(Self.serverRole)' AND datname = current_database()")
            .split(separator: "\n").compactMap { pid_t($0.trimmingCharacters(in: .whitespaces)) }
        try #require(!backends.isEmpty)
        backends.forEach { kill($0, SIGSTOP) }
        let started = ContinuousClock.now
        let answer = await client.pipeline([(.buildGet, ["serial": "P-0002"])])[0]
        let waited = ContinuousClock.now - started
        backends.forEach { kill($0, SIGCONT) }
        guard case .failure(let error) = answer else {
            Issue.record("a frozen database answered: \(answer)")
            return
        }
        #expect(error.code == .internalError && error.description.contains("unreachable"), "\(error)")
        #expect(waited >= .seconds(29) && waited < .seconds(90), "refused after \(waited)")

        // The server reconnects and serves again.
        let deadline = ContinuousClock.now + .seconds(20)
        while (try? await client.call(.buildGet, ["serial": "P-0002"]))?["status"] != "open" {
            try #require(ContinuousClock.now < deadline, "the server did not serve again after the database answered")
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    @Test("a database lost under a running server: requests are refused as unreachable at once, then served again after it reconnects; a server killed mid-write loses nothing it acknowledged")
    func faults() async throws {
        let cluster = try await PostgresTestCluster.shared()
        let (owner, serverURL, database) = try await Self.plantRecord(cluster)
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let serve = ["record", "serve", "--key", try Self.serverKey(in: scratch), "--db", serverURL, "--password-rounds", "1000", "--log-level", "error"]
        let server = try FloorgateChild(serve + ["--socket", scratch.path("a.sock")])
        #expect(await server.firstLine()?.hasPrefix("listening on") == true)
        let client = RecordClient(socketPath: scratch.path("a.sock"))
        let build = try await client.call("build.open", keyed(["serial": "P-0001", "station": "bench-1", "operator": "olga"]))
        let buildID = try #require(build["build_id"]?.integerValue)
        let reading: @Sendable (Int64, String) -> JSONValue = { buildID, value in
            keyed([
                "build_id": .integer(buildID), "kind": "measure", "value": .string(value), "unit": "mm",
                "device": ["kind": "gauge", "serial": "CAL-1"], "operator": "olga", "station": "bench-1",
            ])
        }

        // The database ends the server's sessions (a restart, a failover): the next request is
        // refused as unreachable, not left waiting, and the server is back within its backoff.
        try await cluster.psql(database, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '\(Self.serverRole)' AND datname = current_database()")
        try await Task.sleep(for: .milliseconds(100))
        var refusals: [RecordCallError] = []
        var recorded = false
        let deadline = ContinuousClock.now + .seconds(10)
        while !recorded, ContinuousClock.now < deadline {
            do {
                _ = try await client.call("result.record", reading(buildID, "12.001"))
                recorded = true
            } catch {
                refusals.append(error)
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(recorded, "the server did not come back: \(refusals)")
        #expect(refusals.allSatisfy { $0.code == .internalError && $0.description.contains("record database unreachable") }, "\(refusals)")

        // Killed with SIGKILL while a client streams results (the units' builds one after the
        // other, two readings each): each result it acknowledged is in the record exactly once.
        let acknowledged = Shared<[String]>([])
        let streaming = Task { [path = scratch.path("a.sock")] in
            let writer = RecordClient(socketPath: path)
            for unit in 2...14 {
                let serial = String(format: "P-%04d", unit)
                guard let build = try? await writer.call("build.open", keyed(["serial": .string(serial), "station": "bench-1", "operator": "olga"])),
                      let id = build["build_id"]?.integerValue
                else { return }
                for value in ["12.004", "11.998"] {
                    let params = reading(id, value)
                    guard (try? await writer.call("result.record", params)) != nil else { return }
                    if let key = params["idempotency_key"]?.stringValue { acknowledged.state.withLock { $0.append(key) } }
                }
            }
        }
        let streamed = ContinuousClock.now + .seconds(20)
        while acknowledged.state.withLock({ $0.count }) < 6, ContinuousClock.now < streamed { try await Task.sleep(for: .milliseconds(5)) }
        #expect(acknowledged.state.withLock({ $0.count }) >= 6, "the client's results were not acknowledged")
        server.kill(SIGKILL)
        _ = await server.wait(timeout: .seconds(10))
        await streaming.value
        try await Task.sleep(for: .milliseconds(200))
        let keys = acknowledged.state.withLock { $0 }
        let quoted = keys.map { "'\($0)'" }.joined(separator: ",")
        let stored = try await cluster.psql(database, "SELECT COUNT(*) FROM result WHERE key IN (\(quoted))").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(stored == String(keys.count), "\(keys.count) acknowledged, \(stored) in the record")
        let verified = try await FloorgateProcess.run(["verify", "--db", owner])
        #expect(verified.status == 0, "\(verified.standardError)")
    }
}

/// A value several threads and tasks share.
private final class Shared<Value: Sendable>: Sendable {
    let state: Mutex<Value>
    init(_ value: Value) { state = Mutex(value) }
}
