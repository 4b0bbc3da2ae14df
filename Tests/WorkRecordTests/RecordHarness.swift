import FixtureSupport
import FloorgateCore
import Foundation
import GRDB
import LocalPostgres
import Logging
import NIOCore
import NIOPosix
import RecordProtocol
import Testing
import WorkRecord

/// Which store a record test runs on.
enum RecordBackendKind: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }
}

/// A record served on a real Unix socket in a temporary directory, from a real SQLite file or
/// from a database of its own in a throwaway PostgreSQL cluster.
final class RecordHarness {
    /// The stores the record's tests run on: both where PostgreSQL is installed (`make test`
    /// installs it).
    static let backends: [RecordBackendKind] = PostgresTestCluster.available ? [.sqlite, .postgres] : [.sqlite]

    let directory: URL
    let backend: RecordBackendKind
    /// The SQLite file, or the PostgreSQL database's name.
    let databasePath: String
    let location: RecordLocation
    let socketPath: String
    let server: RecordServer
    let store: RecordStore
    /// The server's key, made for this record.
    let serverKey = RecordServerKey.ephemeral()
    private let group: MultiThreadedEventLoopGroup

    /// The example import document (examples/record-import.json) every lifecycle test starts from.
    static var exampleImport: JSONValue {
        get throws {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("examples/record-import.json")
            return try JSONValue(parsing: try Data(contentsOf: url))
        }
    }

    /// The example users' passwords, by login.
    static let passwords = [
        "olga": "bench-olga-1", "eric": "bench-eric-1", "quinn": "bench-quinn-1", "ada": "bench-ada-1",
        "root-admin": "bench-admin-1",
    ]

    /// `configure` may change the server's options (limits) before it starts.
    init(_ backend: RecordBackendKind = .sqlite, configure: (inout RecordServer.Options) -> Void = { _ in }) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("floorgate-record-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.backend = backend
        switch backend {
        case .sqlite:
            databasePath = directory.appendingPathComponent("record.sqlite").path
            location = .sqlite(path: databasePath)
        case .postgres:
            let cluster = try await PostgresTestCluster.shared()
            databasePath = try cluster.createDatabase()
            location = try RecordLocation(cluster.socketURL(databasePath))
            _ = try await RecordMigration.migrate(location)
        }
        socketPath = directory.appendingPathComponent("record.sock").path
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var logger = Logger(label: "record-test")
        logger.logLevel = .warning
        // A low PBKDF2 work factor keeps the tests quick; production uses 600,000 rounds.
        var options = RecordServer.Options(socketPath: socketPath)
        // Tests count wrong passwords towards lockout one after another; the pacing tests set it.
        options.signaturePacing = .off
        options.serverKey = serverKey
        configure(&options)
        (server, store) = try await RecordServer.start(location, options: options, passwordRounds: 1_000, group: group, logger: logger)
    }

    /// A new client of this record (it connects on its first call).
    func client() -> RecordClient { RecordClient(socketPath: socketPath, answerTimeout: .seconds(30)) }

    /// Stops serving and closes the database, so the file alone holds the record.
    func stop() async throws {
        try await server.close()
        try await group.shutdownGracefully()
        try await store.close()
    }

    /// `floorgate verify`'s check of the record, from a store of its own (a SQLite file opened
    /// read-only).
    func verifyFile(_ evidence: AuditVerifier.Evidence = AuditVerifier.Evidence()) async throws -> AuditVerifier.Report {
        try await RecordStore.verify(location, evidence)
    }

    /// A keys file listing this record's server key, as `floorgate record keys export` writes one.
    var keysFile: String { "ed25519 \(serverKey.publicKey) test server\n" }

    /// Runs `statements` on the record behind the server's back, as an insider with the file or
    /// the database owner's role would.
    func tamper(_ statements: [String]) async throws {
        switch backend {
        case .sqlite:
            let queue = try DatabaseQueue(path: databasePath)
            try await queue.write { db in
                for statement in statements { try db.execute(sql: statement) }
            }
        case .postgres:
            for statement in statements { try await PostgresTestCluster.shared().psql(databasePath, statement) }
        }
    }

    /// The number `sql` counts, read behind the server's back.
    func count(_ sql: String) async throws -> Int {
        switch backend {
        case .sqlite:
            return try await DatabaseQueue(path: databasePath).read { try Int.fetchOne($0, sql: sql) ?? -1 }
        case .postgres:
            return Int(try await PostgresTestCluster.shared().psql(databasePath, sql).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// An imported record with revision A of operation 010 approved.
    static func approvedExample(
        _ backend: RecordBackendKind = .sqlite, configure: (inout RecordServer.Options) -> Void = { _ in }
    ) async throws -> (RecordHarness, RecordClient) {
        let harness = try await RecordHarness(backend, configure: configure)
        let client = harness.client()
        _ = try await client.call("record.import", withKey(try exampleImport))
        _ = try await client.call(
            "instruction.approve",
            withKey(["part": "HX-200", "part_revision": "C", "operation": "010", "revision": "A", "signature": signature("ada")]))
        return (harness, client)
    }
}

/// Both signature components of an example user.
func signature(_ login: String, password: String? = nil, reason: String? = nil) -> JSONValue {
    ["user": .string(login), "password": .string(password ?? RecordHarness.passwords[login] ?? ""), "reason": reason.map(JSONValue.string) ?? .null]
}

/// `params` with a fresh idempotency key.
func withKey(_ params: JSONValue, key: String = UUIDv7.make()) -> JSONValue {
    guard case .object(var members) = params else { return params }
    members["idempotency_key"] = .string(key)
    return .object(members)
}

/// A gauge reading's `result.record` params.
func reading(build: Int64, _ value: String, unit: String = "mm", kind: String = "measure", device: String = "gauge") -> JSONValue {
    withKey([
        "build_id": .integer(build), "kind": .string(kind), "value": .string(value), "unit": .string(unit),
        "device": ["kind": .string(device), "profile": "mitutoyo-usb-itn", "serial": "CAL-7"], "operator": "olga",
        "station": "bench-3", "raw_hex": "30314132",
    ])
}

/// The record error a call throws, or nil if it succeeds.
func recordError(_ body: () async throws -> Void) async -> RecordErrorCode? {
    do {
        try await body()
        return nil
    } catch {
        return (error as? RecordCallError)?.code ?? .internalError
    }
}

/// Walks build `id` of the example (operation 010) through its three steps with passing results
/// and Olga's signatures, so quality can close it.
func completeExampleBuild(_ client: RecordClient, build id: Int64) async throws {
    for value in ["12.004", "12.001"] { _ = try await client.call("result.record", reading(build: id, value)) }
    _ = try await client.call("step.complete", withKey(["build_id": .integer(id), "signature": signature("olga")]))
    _ = try await client.call("result.record", withKey([
        "build_id": .integer(id), "kind": "scan", "text": "LOT-1", "device": ["kind": "scanner"], "operator": "olga", "station": "bench-3",
    ]))
    _ = try await client.call("step.complete", withKey(["build_id": .integer(id), "signature": signature("olga")]))
    for _ in 0..<4 { _ = try await client.call("result.record", reading(build: id, "1.2", unit: "N.m", kind: "torque", device: "torque")) }
    _ = try await client.call("step.complete", withKey(["build_id": .integer(id), "signature": signature("olga")]))
}

/// Adds a user to the example record, as its admin signs an import of them.
func addUser(_ client: RecordClient, _ login: String, name: String, roles: [String], password: String) async throws {
    _ = try await client.call("record.import", withKey([
        "users": [["login": .string(login), "name": .string(name), "roles": .array(roles.map(JSONValue.string)), "password": .string(password)]],
        "signature": signature("root-admin"),
    ]))
}
