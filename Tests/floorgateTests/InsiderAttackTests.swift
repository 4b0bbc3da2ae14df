import Crypto
import FloorgateCore
import Foundation
import GRDB
import Glibc
import RecordProtocol
import Testing
import WorkRecord

/// The record against an insider who can write its file: each attack is written as such a person
/// would, recomputing SHA-256 correctly (the hashing is documented) and signing with a key of
/// their own. Plain `verify` cannot tell some of them from the truth (the test says which);
/// `verify --keys --anchors`, with the keys and anchors kept outside the record, exits 3 for each.
@Suite("An insider with the record's file: rewrite, forged signature, cut tail, weakened trigger, backdated entry", .timeLimit(.minutes(3)))
struct InsiderAttackTests {
    static let exampleImport = RecordCommandTests.exampleImport

    /// A station's record as a record server left it: the example imported and approved through
    /// the commands, the server's key registered by the admin and exported, a build with a
    /// passing and then a failing caliper reading served on the socket, and the server's anchor
    /// written as it stopped.
    struct Evidence {
        let scratch: ScratchDirectory
        let database: String
        let keys: String
        let anchors: String

        /// `floorgate verify` of `database` with `extra` options.
        func verify(_ extra: [String] = []) async throws -> FloorgateProcess.Outcome {
            try await FloorgateProcess.run(["verify", "--db", database] + extra)
        }

        var withEvidence: [String] { ["--keys", keys, "--anchors", anchors] }
    }

    static func servedRecord() async throws -> Evidence {
        let scratch = try ScratchDirectory()
        let database = scratch.path("record.sqlite"), socket = scratch.path("record.sock")
        let anchors = scratch.path("anchors"), keys = scratch.path("keys")
        let direct = ["--db", database, "--password-rounds", "1000"]
        let imported = try await FloorgateProcess.run(["record", "import", exampleImport] + direct)
        #expect(imported.status == 0 && imported.standardError.contains("made the record server key"), "\(imported.standardError)")
        let approved = try await FloorgateProcess.run(
            ["record", "approve", "--part", "HX-200", "--part-revision", "C", "--operation", "010", "--revision", "A", "--user", "ada"] + direct,
            input: Array("bench-ada-1\n".utf8))
        #expect(approved.status == 0, "\(approved.standardError)")
        let registered = try await FloorgateProcess.run(
            ["record", "keys", "register", "--key-file", RecordServerKey.defaultPath(sqlite: database), "--name", "bench-3", "--user", "root-admin"] + direct,
            input: Array("bench-admin-1\n".utf8))
        #expect(registered.status == 0, "\(registered.standardError)")

        let server = try FloorgateChild(["record", "serve", "--db", database, "--socket", socket, "--password-rounds", "1000", "--anchor-file", anchors])
        #expect(await server.firstLine() == "listening on \(socket)")
        let client = RecordClient(socketPath: socket)
        let build = try await client.call(.buildOpen, keyed(["serial": "SN-0001", "station": "bench-3", "operator": "olga"]))
        for value in ["12.004", "12.031"] {
            _ = try await client.call(.resultRecord, keyed([
                "build_id": build["build_id"] ?? .null, "kind": "measure", "value": .string(value), "unit": "mm",
                "device": ["kind": "gauge", "profile": "mitutoyo-usb-itn", "serial": "CAL-7"], "operator": "olga", "station": "bench-3",
                "measured_at": .string(Date().formatted(.iso8601)),
            ]))
        }
        server.kill(SIGTERM)
        #expect(await server.wait(timeout: .seconds(30)) == 0)

        let exported = try await FloorgateProcess.run(["record", "keys", "export", "--db", database])
        #expect(exported.status == 0, "\(exported.standardError)")
        try exported.standardOutput.write(toFile: keys, atomically: true, encoding: .utf8)
        let evidence = Evidence(scratch: scratch, database: database, keys: keys, anchors: anchors)
        let untouched = try await evidence.verify(evidence.withEvidence)
        #expect(untouched.status == 0 && untouched.standardOutput.contains("anchors held"), "\(untouched.standardOutput) \(untouched.standardError)")
        return evidence
    }

    @Test("a failed result rewritten as a pass, with every hash after it recomputed: plain verify is fooled; the keys and the anchor are not")
    func rewrittenResult() async throws {
        let record = try await Self.servedRecord()
        defer { record.scratch.remove() }
        try Insider(path: record.database).tamper { db, insider in
            try db.execute(sql: "UPDATE result SET value = '11.998', verdict = 'pass' WHERE value = '12.031'")
            let entry = try #require(try Row.fetchOne(db, sql: "SELECT seq, new FROM audit WHERE entity = 'result' AND new LIKE '%12.031%'"))
            let forged = (entry["new"] as String).replacingOccurrences(of: #""value":"12.031""#, with: #""value":"11.998""#)
                .replacingOccurrences(of: #""verdict":"fail_high""#, with: #""verdict":"pass""#)
            try db.execute(sql: "UPDATE audit SET new = ? WHERE seq = ?", arguments: [forged, entry["seq"] as Int64])
            try insider.rechain(db, from: entry["seq"])
        }
        let plain = try await record.verify()
        #expect(plain.status == 0, "the chain alone holds together: this is what the keys are for; \(plain.standardError)")
        let keys = try await record.verify(["--keys", record.keys])
        #expect(keys.status == 3 && keys.standardError.contains("which is not a registered record server's"), "\(keys.standardError)")
        let anchors = try await record.verify(["--anchors", record.anchors])
        #expect(anchors.status == 3 && anchors.standardError.contains("is not the entry anchored"), "\(anchors.standardError)")
    }

    @Test("a signature appended with a correct hash passes plain verify and a kept head; not the registered keys")
    func appendedSignature() async throws {
        let record = try await Self.servedRecord()
        defer { record.scratch.remove() }
        let head = try #require(try await record.verify().standardOutput.components(separatedBy: "head ").last?.trimmingCharacters(in: .whitespacesAndNewlines))
        try Insider(path: record.database).tamper { db, insider in
            try db.execute(sql: """
                INSERT INTO signature (id, user_id, printed_name, meaning, record_type, record_id, subject, reason, signed_at)
                SELECT (SELECT MAX(id) + 1 FROM signature), id, name, 'approved', 'build', 1, 'build 1 accepted', 'all in limits',
                       '2026-12-08T00:00:00.000Z'
                FROM user WHERE login = 'quinn'
                """)
            let id = try #require(try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM signature"))
            try insider.append(db, action: "sign", table: "signature", id: id)
        }
        #expect(try await record.verify().status == 0)
        #expect(try await record.verify(["--expect-head", head]).status == 0, "the chain still passes through the kept head")
        let keys = try await record.verify(["--keys", record.keys])
        #expect(keys.status == 3 && keys.standardError.contains("sign signature"), "\(keys.standardError)")
        #expect(try await record.verify(record.withEvidence).status == 3)
    }

    @Test("the failed result and all it wrote cut off the tail: plain verify is fooled; the anchor is not")
    func truncatedTail() async throws {
        let record = try await Self.servedRecord()
        defer { record.scratch.remove() }
        try Insider(path: record.database).tamper { db, _ in
            let first = try #require(try Int64.fetchOne(db, sql: "SELECT seq FROM audit WHERE entity = 'result' AND new LIKE '%12.031%'"))
            for entry in try Row.fetchAll(db, sql: "SELECT entity, entity_id, old FROM audit WHERE seq >= ? ORDER BY seq DESC", arguments: [first]) {
                #expect((entry["old"] as String?) == nil, "the tail only added rows")
                try db.execute(sql: "DELETE FROM \"\(entry["entity"] as String)\" WHERE id = ?", arguments: [entry["entity_id"] as Int64])
            }
            try db.execute(sql: "DELETE FROM audit WHERE seq >= ?", arguments: [first])
        }
        #expect(try await record.verify().status == 0, "what is left is a consistent, shorter record")
        #expect(try await record.verify(["--keys", record.keys]).status == 0, "every entry left is the server's own")
        let anchors = try await record.verify(["--anchors", record.anchors])
        #expect(anchors.status == 3 && anchors.standardError.contains("cut short"), "\(anchors.standardError)")
    }

    @Test("a trigger rewritten with WHEN 0 keeps its name and its words but guards nothing: verify compares whole definitions")
    func weakenedTrigger() async throws {
        let record = try await Self.servedRecord()
        defer { record.scratch.remove() }
        let queue = try DatabaseQueue(path: record.database)
        try await queue.write { db in
            try db.execute(sql: "DROP TRIGGER result_no_update")
            try db.execute(sql: """
                CREATE TRIGGER result_no_update BEFORE UPDATE ON result WHEN 0
                BEGIN SELECT RAISE(ABORT, 'result rows are never changed: record a correction instead'); END
                """)
        }
        try await queue.close()
        let plain = try await record.verify()
        #expect(plain.status == 3 && plain.standardError.contains("trigger result_no_update is missing or changed"), "\(plain.standardError)")
    }

    @Test("the newest entry backdated before its predecessor, its hash recomputed: entries never go back in time")
    func backdatedEntry() async throws {
        let record = try await Self.servedRecord()
        defer { record.scratch.remove() }
        try Insider(path: record.database).tamper { db, insider in
            let newest = try #require(try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM audit"))
            try db.execute(sql: "UPDATE audit SET at = '2026-01-02T03:04:05.000Z' WHERE seq = ?", arguments: [newest])
            try insider.rechain(db, from: newest)
        }
        let plain = try await record.verify()
        #expect(plain.status == 3 && plain.standardError.contains("entries never go back in time"), "\(plain.standardError)")
        #expect(try await record.verify(record.withEvidence).status == 3)
    }
}

/// Someone with write access to the record's file and the documentation of its audit chain, and
/// a signing key of their own.
private struct Insider {
    let path: String
    let key = Curve25519.Signing.PrivateKey()

    /// Runs `body` with every trigger out of the way, then puts each back exactly as it was.
    func tamper(_ body: (Database, Insider) throws -> Void) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            let triggers = try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            for trigger in triggers { try db.execute(sql: "DROP TRIGGER \(trigger["name"] as String)") }
            try body(db, self)
            for trigger in triggers { try db.execute(sql: trigger["sql"] as String) }
        }
        try queue.close()
    }

    /// The entry's hash as the record computes it: SHA-256 over the fields, each as its UTF-8
    /// length, a colon, the field and a line feed.
    static func hash(_ fields: [String]) -> String {
        let text = fields.map { "\($0.utf8.count):\($0)\n" }.joined()
        return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    private var keyID: String {
        String(SHA256.hash(data: key.publicKey.rawRepresentation).map { String(format: "%02x", $0) }.joined().prefix(16))
    }

    /// Gives every entry from `seq` on its previous hash, its recomputed hash and a signature by this insider's key.
    func rechain(_ db: Database, from seq: Int64) throws {
        var previous = try String.fetchOne(db, sql: "SELECT hash FROM audit WHERE seq = ?", arguments: [seq - 1]) ?? String(repeating: "0", count: 64)
        for entry in try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE seq >= ? ORDER BY seq", arguments: [seq]) {
            let fields: [String] = [
                String(entry["seq"] as Int64), previous, entry["at"], entry["actor"], entry["peer"], entry["action"], entry["entity"],
                String(entry["entity_id"] as Int64), entry["old"] ?? "∅", entry["new"] ?? "∅",
            ]
            let hash = Self.hash(fields)
            try db.execute(
                sql: "UPDATE audit SET prev_hash = ?, hash = ?, key_id = ?, signature = ? WHERE seq = ?",
                arguments: [previous, hash, keyID, try key.signature(for: Data(hash.utf8)).map { String(format: "%02x", $0) }.joined(), entry["seq"] as Int64])
            previous = hash
        }
    }

    /// Appends an entry recording row `id` of `table` as it now stands, after the head.
    func append(_ db: Database, action: String, table: String, id: Int64) throws {
        let head = try #require(try Row.fetchOne(db, sql: "SELECT seq, at FROM audit ORDER BY seq DESC LIMIT 1"))
        let row = try #require(try Row.fetchOne(db, sql: "SELECT * FROM \"\(table)\" WHERE id = ?", arguments: [id]))
        let members = row.columnNames.sorted().map { column -> String in
            let value: String
            switch (row[column] as DatabaseValue).storage {
            case .null: value = "null"
            case .int64(let number): value = String(number)
            case .double(let number): value = "\(number)"
            case .string(let text): value = Self.quoted(text)
            case .blob(let bytes): value = Self.quoted("x'" + bytes.map { String(format: "%02x", $0) }.joined() + "'")
            }
            return "\(Self.quoted(column)):\(value)"
        }
        let snapshot = "{" + members.joined(separator: ",") + "}"
        try db.execute(
            sql: "INSERT INTO audit (seq, at, actor, peer, action, entity, entity_id, old, new, prev_hash, hash) VALUES (?, ?, 'quinn', 'uid=0 gid=0 pid=1', ?, ?, ?, NULL, ?, '', '')",
            arguments: [(head["seq"] as Int64) + 1, head["at"] as String, action, table, id, snapshot])
        try rechain(db, from: (head["seq"] as Int64) + 1)
    }

    private static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
