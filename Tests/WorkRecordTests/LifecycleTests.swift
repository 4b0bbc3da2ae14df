import FixtureSupport
import FloorgateCore
import Foundation
import GRDB
import RecordProtocol
import Testing
import WorkRecord

@Suite("A unit's whole build through the record socket", .timeLimit(.minutes(3)))
struct LifecycleTests {
    @Test("import → approve → open by serial → pass/fail → NC → rework → redline mid-build → acknowledge → close → DHR", arguments: RecordHarness.backends)
    func wholeBuild(_ backend: RecordBackendKind) async throws {
        let harness = try await RecordHarness(backend)
        let client = harness.client()
        let watcher = harness.client()
        #expect(try await watcher.call("subscribe")["subscribed"] == true)

        let counts = try await client.call("record.import", withKey(try RecordHarness.exampleImport))
        #expect(counts["users"] == 5 && counts["instructions"] == 1 && counts["serials"] == 3)

        // No approved revision yet: the build cannot open.
        let open: JSONValue = withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"])
        #expect(await recordError { _ = try await client.call("build.open", open) } == .noApprovedRevision)

        // Approval needs the approver role and both signature components.
        let approval: JSONValue = ["part": "HX-200", "part_revision": "C", "operation": "010", "revision": "A"]
        #expect(await recordError { _ = try await client.call("instruction.approve", withKey(merge(approval, ["signature": signature("olga")]))) } == .roleNotPermitted)
        #expect(await recordError { _ = try await client.call("instruction.approve", withKey(merge(approval, ["signature": signature("ada", password: "wrong-one")]))) } == .signatureRejected)
        let approved = try await client.call("instruction.approve", withKey(merge(approval, ["signature": signature("ada")])))
        #expect(approved["status"] == "approved")

        #expect(await recordError { _ = try await client.call("build.open", withKey(["serial": "SN-9999", "station": "bench-3", "operator": "olga"])) } == .unknownSerial)
        let build = try await client.call("build.open", open)
        let buildID = try #require(build["build_id"]?.integerValue)
        #expect(build["instruction"]?["revision"] == "A")
        #expect(build["active_step"]?["key"] == "10")
        let opened = try #require(await watcher.nextNotification())
        #expect(opened.method == "step.changed" && opened.params["build_id"] == .integer(buildID))

        // Step 10: one pass, one fail (NC raised), the point is full until the NC is reworked.
        let first = try await client.call("result.record", reading(build: buildID, "12.005"))
        #expect(first["verdict"] == "pass" && first["point"] == "bore diameter" && first["nc_id"] == .null)
        let failing = try await client.call("result.record", reading(build: buildID, "12.0201"))
        #expect(failing["verdict"] == "fail_high")
        let ncID = try #require(failing["nc_id"]?.integerValue)
        #expect(await watcher.nextNotification(named: "nc.raised")?.params["nc_id"] == .integer(ncID))
        #expect(await recordError { _ = try await client.call("result.record", reading(build: buildID, "12.001")) } == .noOpenPoint)
        let complete10: JSONValue = ["build_id": .integer(buildID), "signature": signature("olga")]
        #expect(await recordError { _ = try await client.call("step.complete", withKey(complete10)) } == .stepIncomplete)
        #expect(await recordError {
            _ = try await client.call("nc.disposition", withKey(["nc_id": .integer(ncID), "disposition": "rework", "comment": "re-measure", "signature": signature("olga")]))
        } == .roleNotPermitted)
        _ = try await client.call(
            "nc.disposition",
            withKey(["nc_id": .integer(ncID), "disposition": "rework", "comment": "burr at the bore edge; deburred", "signature": signature("quinn")]))
        let remeasured = try await client.call("result.record", reading(build: buildID, "0.4726", unit: "in"))
        #expect(remeasured["verdict"] == "pass")  // 0.4726 in = 12.00404 mm
        let afterStep10 = try await client.call("step.complete", withKey(complete10))
        #expect(afterStep10["active_step"]?["key"] == "20")

        // Step 20: a scanned board lot.
        let scan = try await client.call(
            "result.record",
            withKey([
                "build_id": .integer(buildID), "kind": "scan", "text": "LOT-77", "device": ["kind": "scanner"],
                "operator": "olga", "station": "bench-3",
            ]))
        #expect(scan["verdict"] == "pass" && scan["point"] == "board lot")
        _ = try await client.call("step.complete", withKey(complete10))

        // Step 30 under revision A: two screws in, then engineering publishes revision B.
        for _ in 0..<2 {
            #expect(try await client.call("result.record", reading(build: buildID, "1.20", unit: "N.m", kind: "torque", device: "torque"))["verdict"] == "pass")
        }
        var steps = try #require(try RecordHarness.exampleImport["instructions"]?.arrayValue?.first?["steps"]?.arrayValue)
        steps[2] = [
            "key": "30", "title": "Torque cover screws", "text": "New gasket: tighten to 1.25 N·m.",
            "points": [["name": "cover screws", "kind": "torque", "unit": "N.m", "lower": "1.20", "upper": "1.30", "count": 4]],
        ]
        let draft = try await client.call(
            "redline.publish",
            withKey([
                "part": "HX-200", "part_revision": "C", "operation": "010", "new_revision": "B",
                "reason": "ECO-512: new gasket needs more clamp load", "steps": .array(steps), "signature": signature("eric"),
            ]))
        // A draft until an approver who did not write it approves it: the build goes on as it was.
        #expect(draft["status"] == "draft" && draft["redline_id"] == nil)
        #expect(try await client.call("build.get", ["build_id": .integer(buildID)])["pending_redline"] == .null)
        let approveB = withKey(["part": "HX-200", "part_revision": "C", "operation": "010", "revision": "B", "signature": signature("eric")])
        #expect(await recordError { _ = try await client.call("instruction.approve", approveB) } == .roleNotPermitted)
        let redline = try await client.call(
            "instruction.approve", withKey(["part": "HX-200", "part_revision": "C", "operation": "010", "revision": "B", "signature": signature("ada")]))
        #expect(redline["status"] == "approved" && redline["revision"] == "B")
        let redlineID = try #require(redline["redline_id"]?.integerValue)
        #expect(redline["affected_builds"] == [.integer(buildID)])
        let published = try #require(await watcher.nextNotification(named: "redline.published"))
        #expect(published.method == "redline.published" && published.params["build_id"] == .integer(buildID))
        let pending = try await client.call("build.get", ["build_id": .integer(buildID)])["pending_redline"]
        #expect(pending?["redline_id"] == .integer(redlineID))
        // What the redline changes comes with it, as `floorgate record diff` computes it from the
        // two revisions: step 30's text and its point's limit and program.
        let changes = pending?["changes"]
        #expect(changes?["steps"]?.arrayValue?.map { $0["key"] } == ["30"], "\(changes ?? .null)")
        #expect(changes?["steps"]?.arrayValue?.first?["points"]?.arrayValue?.first?["fields"] == [
            ["field": "lower", "from": "1.10", "to": "1.20"], ["field": "pset", "from": "3", "to": .null],
        ])
        let revision: (String) async throws -> JSONValue = { name in
            try await client.call("instruction.get", ["part": "HX-200", "part_revision": "C", "operation": "010", "revision": .string(name)])
        }
        #expect(changes == InstructionDifference(from: try await revision("A"), to: try await revision("B")).json)

        // The redline must be acknowledged before the step completes; then the step runs on B.
        #expect(try await client.call("result.record", reading(build: buildID, "1.21", unit: "N.m", kind: "torque", device: "torque"))["verdict"] == "pass")
        #expect(try await client.call("result.record", reading(build: buildID, "1.22", unit: "N.m", kind: "torque", device: "torque"))["verdict"] == "pass")
        #expect(await recordError { _ = try await client.call("step.complete", withKey(complete10)) } == .redlinePending)
        let acknowledged = try await client.call(
            "redline.acknowledge", withKey(["build_id": .integer(buildID), "redline_id": .integer(redlineID), "signature": signature("olga")]))
        #expect(acknowledged["instruction"]?["revision"] == "B")
        #expect(acknowledged["active_step"]?["points"]?.arrayValue?.first?["open"] == 4)
        for value in ["1.25", "1.24", "1.26", "1.25"] {
            #expect(try await client.call("result.record", reading(build: buildID, value, unit: "N.m", kind: "torque", device: "torque"))["verdict"] == "pass")
        }
        let done = try await client.call("step.complete", withKey(complete10))
        #expect(done["active_step"] == .null)

        let closing: JSONValue = ["build_id": .integer(buildID), "signature": signature("quinn")]
        let closed = try await client.call("build.close", withKey(closing))
        #expect(closed["status"] == "complete")
        #expect(await recordError { _ = try await client.call("build.open", withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"])) } == .serialComplete)

        // The DHR holds both revisions, every result, the NC and its disposition, the redline
        // and its acknowledgement, and every signature with printed name and meaning.
        let dhr = try await client.call("dhr.export", ["serial": "SN-0001"])
        let dhrBuild = try #require(dhr["builds"]?.arrayValue?.first)
        #expect(dhrBuild["instruction_revisions"]?.arrayValue?.compactMap { $0["revision"]?.stringValue } == ["A", "B"])
        #expect(dhrBuild["results"]?.arrayValue?.count == 12)
        #expect(dhrBuild["steps"]?.arrayValue?.map { $0["instruction_revision"] } == ["A", "A", "B"])
        #expect(dhrBuild["nonconformances"]?.arrayValue?.first?["disposition"] == "rework")
        #expect(dhrBuild["redlines"]?.arrayValue?.first?["to_revision"] == "B")
        let meanings = Set(dhr["signatures"]?.arrayValue?.compactMap { $0["meaning"]?.stringValue } ?? [])
        #expect(meanings == ["approved", "performed", "reviewed", "dispositioned"])
        #expect(dhr["signatures"]?.arrayValue?.contains { $0["printed_name"] == "Quinn Quality" } == true)
        #expect(dhr["labels"]?.arrayValue?.first?["value"] == "LOT-77")
        let info = try await client.call("record.info")
        #expect(dhr["audit_head"] == info["audit_head"])

        try await harness.stop()
        let report = try await harness.verifyFile()
        #expect(report.problem == nil)
        #expect(report.head == info["audit_head"]?.stringValue)
    }

    @Test("work orders: a planned order opens no build until released; an order with an open build does not close; a closed one opens none", arguments: RecordHarness.backends)
    func workOrderStatus(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        _ = try await client.call("record.import", withKey([
            "work_orders": [[
                "number": "WO-1002", "part": "HX-200", "part_revision": "C", "quantity": 1, "operations": ["010"],
                "serials": ["SN-0100"], "status": "planned",
            ]],
        ]))
        let open: JSONValue = ["serial": "SN-0100", "station": "bench-3", "operator": "olga"]
        #expect(await recordError { _ = try await client.call("build.open", withKey(open)) } == .workOrderNotReleased)
        #expect(await recordError { _ = try await client.call("work_order.close", withKey(["number": "WO-1002", "user": "planner"])) } == .invalidState)
        #expect(try await client.call("work_order.release", withKey(["number": "WO-1002", "user": "planner"]))["status"] == "released")
        _ = try await client.call("build.open", withKey(open))
        #expect(await recordError { _ = try await client.call("work_order.close", withKey(["number": "WO-1002", "user": "planner"])) } == .invalidState)
        _ = try await client.call("work_order.close", withKey(["number": "WO-1001", "user": "planner"]))
        #expect(await recordError { _ = try await client.call("build.open", withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"])) } == .workOrderNotReleased)
        try await harness.stop()
        #expect(try await harness.verifyFile().problem == nil)
    }

    @Test("a write repeated with its idempotency key returns the first answer and records nothing new", arguments: RecordHarness.backends)
    func idempotentReplay(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let build = try await client.call("build.open", withKey(["serial": "SN-0002", "station": "bench-3", "operator": "olga"]))
        let buildID = try #require(build["build_id"]?.integerValue)
        let params = reading(build: buildID, "12.003")
        let first = try await client.call("result.record", params)
        let entries = try await client.call("record.info")["audit_entries"]
        let again = try await client.call("result.record", params)
        #expect(again == first)
        #expect(try await client.call("record.info")["audit_entries"] == entries)
        let point = try await client.call("build.get", ["build_id": .integer(buildID)])["active_step"]?["points"]?.arrayValue?.first
        #expect(point?["results"]?.arrayValue?.count == 1)
        // The same key for another method is a conflict, not a silent replay.
        #expect(await recordError { _ = try await client.call("nc.raise", merge(params, ["description": "x", "raised_by": "olga"])) } == .conflict)
        try await harness.stop()
    }
}

/// `base` with `extra`'s members added (objects only).
func merge(_ base: JSONValue, _ extra: JSONValue) -> JSONValue {
    guard case .object(var members) = base, case .object(let more) = extra else { return base }
    members.merge(more) { _, new in new }
    return .object(members)
}
