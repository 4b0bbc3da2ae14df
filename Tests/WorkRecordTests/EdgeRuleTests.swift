import FloorgateCore
import Foundation
import GRDB
import RecordProtocol
import Testing
import WorkRecord

@Suite("The record's rules at their edges", .timeLimit(.minutes(3)))
struct EdgeRuleTests {
    /// A part whose operation 010 measures two lengths in one step and whose work order has two
    /// operations (010 optional, so 020 may be opened first), on top of the example record.
    private static func twoPointRecord(_ backend: RecordBackendKind, operation: String = "010") async throws -> (RecordHarness, RecordClient, buildID: Int64) {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let steps: JSONValue = [[
            "key": "10", "title": "Measure",
            "points": [
                ["name": "bore", "kind": "measure", "unit": "mm", "lower": "11.98", "upper": "12.02"],
                ["name": "depth", "kind": "measure", "unit": "mm", "lower": "5.00", "upper": "20.00"],
            ],
        ]]
        _ = try await client.call("record.import", withKey([
            "parts": [["number": "HX-300", "revision": "A"]],
            "instructions": [
                ["part": "HX-300", "part_revision": "A", "operation": "010", "revision": "A", "title": "Op 10", "steps": steps],
                ["part": "HX-300", "part_revision": "A", "operation": "020", "revision": "A", "title": "Op 20", "steps": steps],
            ],
            "work_orders": [["number": "WO-3", "part": "HX-300", "part_revision": "A", "quantity": 1, "operations": [["operation": "010", "optional": true], "020"], "serials": ["T-1"]]],
        ]))
        for operation in ["010", "020"] {
            _ = try await client.call("instruction.approve", withKey([
                "part": "HX-300", "part_revision": "A", "operation": .string(operation), "revision": "A", "signature": signature("ada"),
            ]))
        }
        let build = try await client.call(
            "build.open", withKey(["serial": "T-1", "station": "bench-3", "operator": "olga", "operation": .string(operation)]))
        return (harness, client, try #require(build["build_id"]?.integerValue))
    }

    @Test("a failed point keeps its place: measuring it again is refused until the NC is dispositioned, never put on the next point", arguments: RecordHarness.backends)
    func failedPointKeepsItsPlace(_ backend: RecordBackendKind) async throws {
        let (harness, client, buildID) = try await Self.twoPointRecord(backend)
        let failed = try await client.call("result.record", reading(build: buildID, "12.50"))
        #expect(failed["point"] == "bore" && failed["verdict"] == "fail_high")
        #expect(await recordError { _ = try await client.call("result.record", reading(build: buildID, "12.00")) } == .noOpenPoint)
        _ = try await client.call("nc.disposition", withKey([
            "nc_id": failed["nc_id"] ?? .null, "disposition": "rework", "comment": "re-seat", "signature": signature("quinn"),
        ]))
        let again = try await client.call("result.record", reading(build: buildID, "12.00"))
        #expect(again["point"] == "bore" && again["verdict"] == "pass")
        #expect(try await client.call("result.record", reading(build: buildID, "10.00"))["point"] == "depth")
        try await harness.stop()
    }

    @Test("scanning a serial whose second operation is open returns that build, not a new one for the first", arguments: RecordHarness.backends)
    func scanReturnsTheOpenBuild(_ backend: RecordBackendKind) async throws {
        let (harness, client, buildID) = try await Self.twoPointRecord(backend, operation: "020")
        let again = try await client.call("build.open", withKey(["serial": "T-1", "station": "bench-3", "operator": "olga"]))
        #expect(again["build_id"] == .integer(buildID) && again["operation"] == "020")
        try await harness.stop()
    }

    @Test("a plain approval cannot replace the revision open builds run on; a redline can", arguments: RecordHarness.backends)
    func approvalWithOpenBuilds(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        _ = try await client.call("build.open", withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"]))
        let steps = try #require(try RecordHarness.exampleImport["instructions"]?.arrayValue?.first?["steps"])
        _ = try await client.call("record.import", withKey([
            "instructions": [["part": "HX-200", "part_revision": "C", "operation": "010", "revision": "B", "title": "Housing final assembly", "steps": steps]],
        ]))
        let approveB: JSONValue = withKey(["part": "HX-200", "part_revision": "C", "operation": "010", "revision": "B", "signature": signature("ada")])
        #expect(await recordError { _ = try await client.call("instruction.approve", approveB) } == .invalidState)
        try await harness.stop()
    }

    @Test("a closed build neither shows nor acknowledges a redline published after it closed", arguments: RecordHarness.backends)
    func redlineAfterClose(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let open = try await client.call("build.open", withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"]))
        let buildID = try #require(open["build_id"]?.integerValue)
        let steps = try #require(try RecordHarness.exampleImport["instructions"]?.arrayValue?.first?["steps"])
        // Walk the build to its end so it can close.
        try await completeExampleBuild(client, build: buildID)
        _ = try await client.call("build.close", withKey(["build_id": .integer(buildID), "signature": signature("quinn")]))
        _ = try await client.call("redline.publish", withKey([
            "part": "HX-200", "part_revision": "C", "operation": "010", "new_revision": "B", "reason": "ECO-9", "steps": steps,
            "signature": signature("eric"),
        ]))
        let redline = try await client.call("instruction.approve", withKey([
            "part": "HX-200", "part_revision": "C", "operation": "010", "revision": "B", "signature": signature("ada"),
        ]))
        #expect(redline["affected_builds"] == [])
        #expect(try await client.call("build.get", ["build_id": .integer(buildID)])["pending_redline"] == .null)
        #expect(await recordError {
            _ = try await client.call("redline.acknowledge", withKey(["build_id": .integer(buildID), "redline_id": redline["redline_id"] ?? .null, "signature": signature("olga")]))
        } == .invalidState)
        try await harness.stop()
    }

    @Test("a right password clears the failed count, even when the request is then refused for another reason", arguments: RecordHarness.backends)
    func rightPasswordClearsFailures(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let build = try await client.call("build.open", withKey(["serial": "SN-0003", "station": "bench-3", "operator": "olga"]))
        let complete: (JSONValue) -> JSONValue = { withKey(["build_id": build["build_id"] ?? .null, "signature": $0]) }
        for _ in 0..<3 {
            #expect(await recordError { _ = try await client.call("step.complete", complete(signature("olga", password: "typo-typo"))) } == .signatureRejected)
        }
        #expect(await recordError { _ = try await client.call("step.complete", complete(signature("olga"))) } == .stepIncomplete)
        for _ in 0..<4 {
            #expect(await recordError { _ = try await client.call("step.complete", complete(signature("olga", password: "typo-typo"))) } == .signatureRejected)
        }
        #expect(await recordError { _ = try await client.call("step.complete", complete(signature("olga", password: "typo-typo"))) } == .userLocked)
        try await harness.stop()
        #expect(try await harness.verifyFile().problem == nil)
    }

    @Test("a signature is taken only by methods that sign; the first import ignores one, as there is no admin yet", arguments: RecordHarness.backends)
    func signaturesWhereTheyBelong(_ backend: RecordBackendKind) async throws {
        let harness = try await RecordHarness(backend)
        let client = harness.client()
        let first = merge(try RecordHarness.exampleImport, ["signature": signature("root-admin")])
        #expect(try await client.call("record.import", withKey(first))["users"] == 5)
        let open: JSONValue = ["serial": "SN-0001", "station": "bench-3", "operator": "olga", "signature": signature("olga")]
        #expect(await recordError { _ = try await client.call("build.open", withKey(open)) } == .invalidParams)
        try await harness.stop()
    }

    @Test("once the record has an admin, adding users needs an admin's signature", arguments: RecordHarness.backends)
    func addingUsersNeedsAnAdmin(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let newUser: JSONValue = ["users": [["login": "mallory", "name": "M", "roles": ["quality", "approver"], "password": "mallory-pw-1"]]]
        #expect(await recordError { _ = try await client.call("record.import", withKey(newUser)) } == .invalidParams)
        #expect(await recordError { _ = try await client.call("record.import", withKey(merge(newUser, ["signature": signature("quinn")]))) } == .roleNotPermitted)
        #expect(try await client.call("record.import", withKey(merge(newUser, ["signature": signature("root-admin")])))["users"] == 1)
        try await harness.stop()
    }

    @Test("answers leave in request order even when one is answered at once (a parse error after a write)", arguments: RecordHarness.backends)
    func answersInOrder(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let open = JSONValue.object([
            "jsonrpc": "2.0", "id": 1, "method": "build.open",
            "params": withKey(["serial": "SN-0002", "station": "bench-3", "operator": "olga"]),
        ])
        try await client.send(rawLine: open.text + "\n{not json")
        #expect(try await client.nextRawAnswer()["id"] == 1)
        #expect(try await client.nextRawAnswer()["error"]?["code"] == -32700)
        try await harness.stop()
    }

    @Test("verify needs its triggers, and a kept head the chain must pass through", arguments: RecordHarness.backends)
    func verifyTriggersAndKeptHead(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let head = try #require(try await client.call("record.info")["audit_head"]?.stringValue)
        try await harness.stop()
        #expect(try await harness.verifyFile(.init(expectedHead: head)).problem == nil)
        let foreign = String(repeating: "ab", count: 32)
        #expect(try await harness.verifyFile(.init(expectedHead: foreign)).problem?.contains("does not pass through") == true)
        #expect(try await harness.verifyFile(.init(expectedHead: head.uppercased())).problem == nil)
        // A trigger of the right name that no longer guards anything does not count.
        switch backend {
        case .sqlite:
            try await harness.tamper([
                "DROP TRIGGER result_no_update", "CREATE TRIGGER result_no_update AFTER INSERT ON part BEGIN SELECT 1; END",
            ])
        case .postgres:
            try await harness.tamper([
                "DROP TRIGGER result_no_update ON result",
                "CREATE TRIGGER result_no_update AFTER INSERT ON part FOR EACH ROW EXECUTE FUNCTION floorgate_refuse('x')",
            ])
        }
        #expect(try await harness.verifyFile().problem?.hasPrefix("trigger result_no_update") == true)
        switch backend {
        case .sqlite:
            try await harness.tamper([
                "DROP TRIGGER result_no_update",
                "CREATE TRIGGER result_no_update BEFORE UPDATE ON result BEGIN SELECT RAISE(ABORT, 'result rows are never changed: record a correction instead'); END",
                "DROP TRIGGER signature_no_delete",
            ])
        case .postgres:
            try await harness.tamper([
                "DROP TRIGGER result_no_update ON part",
                "CREATE TRIGGER result_no_update BEFORE UPDATE ON result FOR EACH ROW EXECUTE FUNCTION floorgate_refuse('result rows are never changed: record a correction instead')",
                "ALTER TABLE signature DISABLE TRIGGER signature_no_delete",
            ])
        }
        #expect(try await harness.verifyFile().problem == "trigger signature_no_delete is missing or changed: the record's rows are no longer protected")
    }
}
