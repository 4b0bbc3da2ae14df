import FloorgateCore
import Foundation
import GRDB
import Logging
import NIOCore
import NIOPosix
import Testing
import WorkRecord

/// A record served from a real SQLite file on a real Unix socket in a temporary directory.
final class RecordHarness {
    let directory: URL
    let databasePath: String
    let socketPath: String
    let server: RecordServer
    let store: RecordStore
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

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("floorgate-record-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        databasePath = directory.appendingPathComponent("record.sqlite").path
        socketPath = directory.appendingPathComponent("record.sock").path
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var logger = Logger(label: "record-test")
        logger.logLevel = .warning
        // A low PBKDF2 work factor keeps the tests quick; production uses 600,000 rounds.
        (server, store) = try await RecordServer.start(
            databasePath: databasePath, options: .init(socketPath: socketPath), passwordRounds: 1_000, group: group, logger: logger)
    }

    func client() throws -> RecordSocketClient { try RecordSocketClient(path: socketPath) }

    /// Stops serving and closes the database, so the file alone holds the record.
    func stop() async throws {
        try await server.close()
        try await group.shutdownGracefully()
        try store.close()
    }

    /// `floorgate verify`'s check of the closed file.
    func verifyFile() async throws -> AuditVerifier.Report {
        let queue = try DatabaseQueue(path: databasePath)
        return try await queue.read { try AuditVerifier.verify($0) }
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// An imported record with revision A of operation 010 approved.
    static func approvedExample() async throws -> (RecordHarness, RecordSocketClient) {
        let harness = try await RecordHarness()
        let client = try harness.client()
        _ = try client.call("record.import", withKey(try exampleImport))
        _ = try client.call(
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
func withKey(_ params: JSONValue, key: String = UUIDv7.make().uuidString.lowercased()) -> JSONValue {
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
func recordError(_ body: () throws -> Void) -> WorkRecordError.Code? {
    do {
        try body()
        return nil
    } catch {
        return (error as? WorkRecordError)?.code ?? .internalError
    }
}

extension RecordSocketClient {
    /// The next notification named `method`, skipping others.
    func nextNotification(named method: String) throws -> RecordNotification? {
        while let notification = try nextNotification() {
            if notification.method == method { return notification }
        }
        return nil
    }
}
