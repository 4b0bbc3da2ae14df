import FloorgateCore
import Foundation
import RecordProtocol
import Testing
import WorkRecord

@Suite("Audit entries signed by their server, and anchored heads, on both stores", .timeLimit(.minutes(3)))
struct SignedAuditTests {
    @Test("every entry carries the server's signature; another server's keys, a registration, an anchor and a cut tail are judged as they should be", arguments: RecordHarness.backends)
    func signedAndAnchored(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let ownKeys = try AuditPublicKeys(parsing: harness.keysFile, file: "keys")
        let other = RecordServerKey.ephemeral()
        let otherKeys = try AuditPublicKeys(parsing: "ed25519 \(other.publicKey) another station\n", file: "other-keys")

        // The admin registers the server's key; registering it again, or a key that is not one, is refused.
        let registered = try await client.call("server_key.register", withKey([
            "public_key": .string(harness.serverKey.publicKey), "name": "bench-3", "signature": signature("root-admin"),
        ]))
        #expect(registered["key_id"] == .string(harness.serverKey.keyID))
        let again = await recordError {
            _ = try await client.call("server_key.register", withKey(["public_key": .string(harness.serverKey.publicKey), "name": "x", "signature": signature("root-admin")]))
        }
        #expect(again == .conflict)
        let notAKey = await recordError {
            _ = try await client.call("server_key.register", withKey(["public_key": "00ff", "name": "x", "signature": signature("root-admin")]))
        }
        #expect(notAKey == .invalidParams)
        let wrongRole = await recordError {
            _ = try await client.call("server_key.register", withKey(["public_key": .string(other.publicKey), "name": "x", "signature": signature("quinn")]))
        }
        #expect(wrongRole == .roleNotPermitted)
        let listed = try await client.call("server_key.list")["keys"]?.arrayValue ?? []
        #expect(listed.map { $0["key_id"] } == [.string(harness.serverKey.keyID)] && listed.first?["registered_by"] == "Sam Admin")

        let anchor = try #require(try await harness.store.anchor())
        let build = try await client.call("build.open", withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"]))
        _ = try await client.call("result.record", reading(build: build["build_id"]?.integerValue ?? 0, "12.004"))
        let later = try #require(try await harness.store.anchor())
        #expect(later.seq > anchor.seq)
        try await harness.stop()

        #expect(try await harness.verifyFile(.init(keys: ownKeys, anchors: [anchor, later])).problem == nil)
        let foreign = try await harness.verifyFile(.init(keys: otherKeys)).problem
        #expect(foreign?.hasPrefix("audit entry 1 ") == true && foreign?.contains("which is not a registered record server's") == true, "\(foreign ?? "")")
        // An anchor whose hash the chain does not hold at its place.
        let rewritten = try #require(try AuditAnchor.parse("\(anchor.seq) \(String(repeating: "ab", count: 32)) \(anchor.at)", file: "anchors").first)
        #expect(try await harness.verifyFile(.init(anchors: [rewritten])).problem?.contains("is not the entry anchored") == true)
        let conflicting = try await harness.verifyFile(.init(anchors: [anchor, rewritten])).problem
        #expect(conflicting?.contains("name two different entries \(anchor.seq)") == true, "\(conflicting ?? "")")

        // The tail after the first anchor cut off: plain verify finds rows the chain no longer
        // holds; with the anchor it says the chain was cut short.
        switch backend {
        case .sqlite: try await harness.tamper(["DROP TRIGGER audit_no_delete", "DELETE FROM audit WHERE seq > \(anchor.seq)"])
        case .postgres: try await harness.tamper(["ALTER TABLE audit DISABLE TRIGGER USER", "DELETE FROM audit WHERE seq > \(anchor.seq)"])
        }
        let cut = try await harness.verifyFile(.init(anchors: [anchor, later])).problem
        #expect(cut?.contains("before entry \(later.seq) anchored at") == true && cut?.contains("cut short") == true, "\(cut ?? "")")
    }

    @Test("a key file others can read is refused, a key is never made over a file, and bad keys and anchor lines are named by file and line")
    func keyFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("floorgate-keys-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("server.key").path
        let made = try RecordServerKey.create(path: path)
        #expect(try RecordServerKey.load(path: path).publicKey == made.publicKey)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        #expect(throws: AuditKeyError.self) { try RecordServerKey.create(path: path) }
        #expect(try RecordServerKey.load(path: path).keyID == made.keyID, "the key was left as it was")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect { try RecordServerKey.load(path: path) } throws: { "\($0)".contains("readable by others (mode 644)") }
        #expect { try AuditPublicKeys(parsing: "# keys\ned25519 \(made.publicKey) a\ned25519 12ab b\n", file: "k") } throws: { "\($0)".hasPrefix("k:3:") }
        #expect { try AuditPublicKeys(parsing: "# nothing\n", file: "k") } throws: { "\($0)" == "k: lists no key" }
        #expect { try AuditAnchor.parse("12 \(String(repeating: "0", count: 64)) 2026-12-08T00:00:00.000Z\n12 zz t\n", file: "a") } throws: { "\($0)".hasPrefix("a:2:") }
    }
}
