import FloorgateCore
import Foundation
import GRDB
import RecordProtocol
import Synchronization
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

    @Test("a lockout ends by itself: once its time is past, the right password signs and counting starts again", arguments: RecordHarness.backends)
    func lockoutEnds(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let build = try await client.call("build.open", withKey(["serial": "SN-0003", "station": "bench-3", "operator": "olga"]))
        let complete: (JSONValue) -> JSONValue = { withKey(["build_id": build["build_id"] ?? .null, "signature": $0]) }
        for _ in 0..<5 { _ = await recordError { _ = try await client.call("step.complete", complete(signature("olga", password: "guess-guess"))) } }
        let locked = try await client.call("user.get", ["login": "olga"])
        #expect(locked["locked"] == .bool(true))
        let until = try await harness.count(#"SELECT locked FROM "user" WHERE login = 'olga'"#)
        let now = Int(Date().timeIntervalSince1970)
        #expect(until > now + 14 * 60 && until <= now + 15 * 60, "locked until \(until), now \(now)")
        // Fifteen minutes later, as the clock would have it.
        try await harness.tamper([#"UPDATE "user" SET locked = \#(now - 1) WHERE login = 'olga'"#])
        #expect(try await client.call("user.get", ["login": "olga"])["locked"] == .bool(false))
        #expect(await recordError { _ = try await client.call("step.complete", complete(signature("olga"))) } == .stepIncomplete)
        #expect(try await harness.count(#"SELECT failed_attempts FROM "user" WHERE login = 'olga'"#) == 0)
        #expect(try await harness.count(#"SELECT locked FROM "user" WHERE login = 'olga'"#) == 0)
        try await harness.stop()
    }

    @Test("root or the record's own user on the host unlocks without a signature; any other caller needs an admin's")
    func hostAdministratorUnlocks() async throws {
        let (harness, client) = try await RecordHarness.approvedExample()
        let build = try await client.call("build.open", withKey(["serial": "SN-0003", "station": "bench-3", "operator": "olga"]))
        for _ in 0..<5 {
            _ = await recordError {
                _ = try await client.call("step.complete", withKey(["build_id": build["build_id"] ?? .null, "signature": signature("root-admin", password: "guess-guess")]))
            }
        }
        #expect(try await client.call("user.get", ["login": "root-admin"])["locked"] == .bool(true))
        // A caller that is not the host's administrator: an admin must sign, and the only admin is locked.
        let stranger = RecordCall(method: .userUnlock, params: withKey(["login": "root-admin"]), peer: "uid=1234 gid=1234 pid=1")
        await #expect(throws: WorkRecordError.self) { try await harness.store.perform(stranger) }
        // This test runs as the record server's own user: the way back in.
        let unlocked = try await client.call("user.unlock", withKey(["login": "root-admin"]))
        #expect(unlocked["locked"] == .bool(false))
        #expect(try await client.call("user.get", ["login": "root-admin"])["locked"] == .bool(false))
        #expect(try await harness.count("SELECT COUNT(*) FROM audit WHERE action = 'user.unlock' AND peer LIKE 'uid=%'") == 1)
        try await harness.stop()
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


@Suite("Signatures checked before the writer's turn", .timeLimit(.minutes(3)))
struct SignatureCheckTests {
    /// What finished, in order.
    final class Finished: Sendable {
        let names = Mutex<[String]>([])
    }

    @Test("results queued behind a signing (a user's first) are not held up by its PBKDF2, and the signer's own later request stays behind it")
    func signingOffTheWriter() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("floorgate-sign-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // A work factor that makes one check take far longer than a commit.
        let store = try await RecordStore.open(.sqlite(path: directory.appendingPathComponent("record.sqlite").path), passwordRounds: 200_000)
        func call(_ method: RecordMethod, _ params: JSONValue, peer: String) async throws -> JSONValue {
            try await store.perform(RecordCall(method: method, params: params, peer: peer)).result
        }
        let approval: JSONValue = ["part": "HX-200", "part_revision": "C", "operation": "010", "revision": "A", "signature": signature("ada")]
        _ = try await call(.recordImport, withKey(try RecordHarness.exampleImport), peer: "desk")
        _ = try await call(.instructionApprove, withKey(approval), peer: "desk")
        let build = try await call(.buildOpen, withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"]), peer: "bench")
        let buildID = try #require(build["build_id"]?.integerValue)

        let finished = Finished()
        let started = ContinuousClock.now
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let remaining = Mutex(5)
            let finish: @Sendable (String) -> Void = { name in
                finished.names.withLock { $0.append(name) }
                if remaining.withLock({ $0 -= 1; return $0 }) == 0 { done.resume() }
            }
            // Quinn signs for the first time (approving again: refused after the signature is
            // checked), then reads.
            let quinn: JSONValue = ["part": "HX-200", "part_revision": "C", "operation": "010", "revision": "A", "signature": signature("quinn")]
            store.submit(RecordCall(method: .instructionApprove, params: withKey(quinn), peer: "desk")) { _ in finish("desk signs") }
            store.submit(RecordCall(method: .buildGet, params: ["build_id": .integer(buildID)], peer: "desk")) { _ in finish("desk reads") }
            // The bench records three results meanwhile.
            for value in ["12.001", "12.002", "12.003"] {
                store.submit(RecordCall(method: .resultRecord, params: reading(build: buildID, value), peer: "bench")) { result in
                    finish((try? result.get()) == nil ? "bench refused" : "bench \(value)")
                }
            }
        }
        let order = finished.names.withLock { $0 }
        #expect(order.firstIndex(of: "desk signs")! < order.firstIndex(of: "desk reads")!, "the desk's read stays behind its signing: \(order)")
        #expect(order.prefix(3).allSatisfy { $0.hasPrefix("bench") }, "the results did not wait for the signature's check: \(order)")
        // Checked beforehand, the right password is accepted and a wrong one refused.
        func refusal(_ params: JSONValue) async -> RecordErrorCode? {
            do {
                _ = try await store.perform(RecordCall(method: .instructionApprove, params: withKey(params), peer: "desk"))
                return nil
            } catch {
                return error.code
            }
        }
        let again = await refusal(approval)
        #expect(again != .signatureRejected && again != .userLocked, "ada's right password was refused: \(String(describing: again))")
        let wrongSignature: JSONValue = ["part": "HX-200", "part_revision": "C", "operation": "010", "revision": "A", "signature": signature("ada", password: "not-ada")]
        let wrong = await refusal(wrongSignature)
        #expect(wrong == .signatureRejected, "a wrong password checked beforehand is still refused")
        print("signing beside three results: \(order) in \(ContinuousClock.now - started)")
        try await store.close()
    }
}
