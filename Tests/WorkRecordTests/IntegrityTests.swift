import FloorgateCore
import Foundation
import GRDB
import RecordProtocol
import Testing
import WorkRecord

@Suite("The record's integrity: append-only tables, the audit chain, signatures", .timeLimit(.minutes(3)))
struct IntegrityTests {
    /// A record with one build holding two results, closed so the file is quiet.
    private static func recordWithResults(_ backend: RecordBackendKind = .sqlite) async throws -> RecordHarness {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let build = try await client.call("build.open", withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"]))
        let buildID = try #require(build["build_id"]?.integerValue)
        _ = try await client.call("result.record", reading(build: buildID, "12.345"))
        _ = try await client.call("result.record", reading(build: buildID, "11.991"))
        try await harness.stop()
        return harness
    }

    @Test("the database refuses UPDATE and DELETE on results, signatures and the audit trail", arguments: RecordHarness.backends)
    func appendOnly(_ backend: RecordBackendKind) async throws {
        let harness = try await Self.recordWithResults(backend)
        for statement in [
            "UPDATE result SET value = '12.000'", "DELETE FROM result", "UPDATE signature SET meaning = 'reviewed'",
            "DELETE FROM signature", "UPDATE audit SET actor = 'nobody'", "DELETE FROM audit",
            "UPDATE instruction SET content = '{}' WHERE status = 'approved'",
        ] {
            await #expect(throws: (any Error).self, "\(statement)") { try await harness.tamper([statement]) }
        }
        if backend == .postgres {
            await #expect(throws: (any Error).self) { try await harness.tamper(["TRUNCATE result CASCADE"]) }
        }
        #expect(try await harness.count("SELECT COUNT(*) FROM result") == 2)
        #expect(try await harness.verifyFile().problem == nil)
    }

    /// What `verify` finds after someone with the file, or with the database owner's role, ran
    /// the statements for the record's store.
    private static func problemAfterTampering(_ backend: RecordBackendKind, sqlite: [String], postgres: [String]) async throws -> String? {
        let harness = try await Self.recordWithResults(backend)
        try await harness.tamper(backend == .sqlite ? sqlite : postgres)
        return try await harness.verifyFile().problem
    }

    @Test("verify names the row whose content no longer matches its audit entry", arguments: RecordHarness.backends)
    func changedRowDetected(_ backend: RecordBackendKind) async throws {
        let problem = try await Self.problemAfterTampering(
            backend, sqlite: ["DROP TRIGGER result_no_update", "UPDATE result SET value = '12.000' WHERE value = '12.345'"],
            postgres: ["ALTER TABLE result DISABLE TRIGGER USER", "UPDATE result SET value = '12.000' WHERE value = '12.345'"])
        #expect(problem?.contains("result row 1 differs") == true, "\(problem ?? "no problem")")
    }

    @Test("verify catches an audit entry whose content was rewritten", arguments: RecordHarness.backends)
    func rewrittenEntryDetected(_ backend: RecordBackendKind) async throws {
        let problem = try await Self.problemAfterTampering(
            backend, sqlite: ["DROP TRIGGER audit_no_update", "UPDATE audit SET actor = 'mallory' WHERE seq = 3"],
            postgres: ["ALTER TABLE audit DISABLE TRIGGER audit_no_update", "UPDATE audit SET actor = 'mallory' WHERE seq = 3"])
        #expect(problem?.hasPrefix("audit entry 3") == true, "\(problem ?? "no problem")")
    }

    @Test("verify notices a deleted row the chain recorded", arguments: RecordHarness.backends)
    func deletedRowDetected(_ backend: RecordBackendKind) async throws {
        let problem = try await Self.problemAfterTampering(
            backend, sqlite: ["DROP TRIGGER result_no_delete", "DELETE FROM result WHERE id = 2"],
            postgres: ["ALTER TABLE result DISABLE TRIGGER result_no_delete", "DELETE FROM result WHERE id = 2"])
        #expect(problem == "result row 2 is in the audit chain but missing from the record")
    }

    @Test("verify catches one flipped byte in the SQLite file")
    func flippedByteDetected() async throws {
        let harness = try await Self.recordWithResults()
        // Flip one digit of a stored value in the file itself.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: harness.databasePath))
        let needle = Data("11.991".utf8)
        let range = try #require(bytes.range(of: needle))
        bytes[range.lowerBound + 4] = UInt8(ascii: "8")
        try bytes.write(to: URL(fileURLWithPath: harness.databasePath))
        #expect(try await harness.verifyFile().problem != nil)
    }

    @Test("five wrong passwords lock the user; an admin's signed unlock restores signing", arguments: RecordHarness.backends)
    func lockout(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let build = try await client.call("build.open", withKey(["serial": "SN-0003", "station": "bench-3", "operator": "olga"]))
        let complete: (JSONValue) -> JSONValue = { withKey(["build_id": build["build_id"] ?? .null, "signature": $0]) }
        for _ in 0..<4 {
            #expect(await recordError { _ = try await client.call("step.complete", complete(signature("olga", password: "guess-guess"))) } == .signatureRejected)
        }
        #expect(await recordError { _ = try await client.call("step.complete", complete(signature("olga", password: "guess-guess"))) } == .userLocked)
        // Locked: even the right password is refused.
        #expect(await recordError { _ = try await client.call("step.complete", complete(signature("olga"))) } == .userLocked)
        _ = try await client.call("user.unlock", withKey(["login": "olga", "signature": signature("root-admin")]))
        // Unlocked: the signature is checked again (the step itself still lacks its readings).
        #expect(await recordError { _ = try await client.call("step.complete", complete(signature("olga"))) } == .stepIncomplete)
        try await harness.stop()
        #expect(try await harness.verifyFile().problem == nil)
    }

    @Test("a correction is a new result referring to the old one, signed by quality; the old one stays", arguments: RecordHarness.backends)
    func correction(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let build = try await client.call("build.open", withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"]))
        let buildID = try #require(build["build_id"]?.integerValue)
        let wrong = try await client.call("result.record", reading(build: buildID, "12.010"))
        let corrected = try await client.call(
            "result.correct",
            merge(reading(build: buildID, "12.001"), [
                "result_id": wrong["result_id"] ?? .null, "reason": "read off the wrong feature", "signature": signature("quinn"),
            ]))
        #expect(corrected["verdict"] == "pass")
        let point = try await client.call("build.get", ["build_id": .integer(buildID)])["active_step"]?["points"]?.arrayValue?.first
        #expect(point?["results"]?.arrayValue?.map { $0["value"] } == ["12.001"])
        #expect(point?["open"] == 1)
        let dhr = try await client.call("dhr.export", ["serial": "SN-0001"])
        let results = dhr["builds"]?.arrayValue?.first?["results"]?.arrayValue ?? []
        #expect(results.map { $0["value"] } == ["12.010", "12.001"])
        #expect(results.last?["corrects"] == wrong["result_id"])
        try await harness.stop()
    }

    @Test("peers outside the allowed users and groups may not write", arguments: RecordHarness.backends)
    func writePolicy(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        // This process is the server's own user, so it may write…
        _ = try await client.call("build.open", withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"]))
        // …and a caller the server did not allow gets a typed refusal, and nothing is written.
        do {
            _ = try await harness.store.perform(
                RecordCall(method: "build.open", params: withKey(["serial": "SN-0002", "station": "x", "operator": "olga"]), peer: "uid=4242", mayWrite: false))
            Issue.record("a write from a peer that is not allowed was accepted")
        } catch {
            #expect(error.code == .peerNotAllowed)
        }
        try await harness.stop()
        #expect(try await harness.count("SELECT COUNT(*) FROM build") == 1)
    }
}

