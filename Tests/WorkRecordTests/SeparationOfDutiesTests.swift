import FixtureSupport
import FloorgateCore
import Foundation
import RecordProtocol
import Testing
import WorkRecord

/// One person holding every role may not approve what they performed: the acceptance of a build
/// they worked on, the disposition of a nonconformance they raised or caused.
@Suite("Separation of duties", .timeLimit(.minutes(2)))
struct SeparationOfDutiesTests {
    static func sam() -> JSONValue { signature("sam", password: "bench-sam-1") }

    /// `reading(build:)` of the harness, recorded by `operator`.
    static func reading(_ build: Int64, _ value: String, by login: String, unit: String = "mm", kind: String = "measure", device: String = "gauge") -> JSONValue {
        guard case .object(var params) = WorkRecordTests.reading(build: build, value, unit: unit, kind: kind, device: device) else { return .null }
        params["operator"] = .string(login)
        return .object(params)
    }

    @Test("the operator who caused a nonconformance does not disposition it, nor accept the build they performed; another quality user does", arguments: RecordHarness.backends)
    func independence(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        try await addUser(client, "sam", name: "Sam Everything", roles: ["operator", "quality"], password: "bench-sam-1")
        let open = try await client.call("build.open", withKey(["serial": "SN-0001", "station": "bench-3", "operator": "sam"]))
        let build = try #require(open["build_id"]?.integerValue)
        let failed = try await client.call("result.record", Self.reading(build, "12.031", by: "sam"))
        let nc = try #require(failed["nc_id"], "a failure raises an NC")
        let disposition: JSONValue = ["nc_id": nc, "disposition": "rework", "comment": "deburr and measure again"]
        func with(_ params: JSONValue, _ signer: JSONValue) -> JSONValue {
            guard case .object(var members) = params else { return params }
            members["signature"] = signer
            return withKey(.object(members))
        }
        #expect(await recordError { _ = try await client.call("nc.disposition", with(disposition, Self.sam())) } == .separationOfDuties)
        _ = try await client.call("nc.disposition", with(disposition, signature("quinn")))

        for value in ["12.004", "12.001"] { _ = try await client.call("result.record", Self.reading(build, value, by: "sam")) }
        _ = try await client.call("step.complete", withKey(["build_id": .integer(build), "signature": Self.sam()]))
        _ = try await client.call("result.record", withKey([
            "build_id": .integer(build), "kind": "scan", "text": "LOT-1", "device": ["kind": "scanner"], "operator": "sam", "station": "bench-3",
        ]))
        _ = try await client.call("step.complete", withKey(["build_id": .integer(build), "signature": Self.sam()]))
        for _ in 0..<4 { _ = try await client.call("result.record", Self.reading(build, "1.2", by: "sam", unit: "N.m", kind: "torque", device: "torque")) }
        _ = try await client.call("step.complete", withKey(["build_id": .integer(build), "signature": Self.sam()]))

        #expect(await recordError { _ = try await client.call("build.close", withKey(["build_id": .integer(build), "signature": Self.sam()])) } == .separationOfDuties)
        #expect(try await client.call("build.get", ["build_id": .integer(build)])["status"] == "open", "nothing changed")
        let closed = try await client.call("build.close", withKey(["build_id": .integer(build), "signature": signature("quinn")]))
        #expect(closed["status"] == "complete")
        try await harness.stop()
    }

    @Test("a redline is a draft until an approver who did not write it approves it; then open builds are told; a draft of a revision no longer effective is refused", arguments: RecordHarness.backends)
    func redlineApproval(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        try await addUser(client, "eve", name: "Eve Engineer-Approver", roles: ["engineer", "approver"], password: "bench-eve-1")
        let open = try await client.call("build.open", withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"]))
        let build = try #require(open["build_id"]?.integerValue)
        let steps = try #require(try RecordHarness.exampleImport["instructions"]?.arrayValue?.first?["steps"])
        func publish(_ revision: String) -> JSONValue {
            withKey([
                "part": "HX-200", "part_revision": "C", "operation": "010", "new_revision": .string(revision), "reason": "ECO-11",
                "steps": steps, "signature": signature("eve", password: "bench-eve-1"),
            ])
        }
        func approve(_ revision: String, by signer: JSONValue) -> JSONValue {
            withKey(["part": "HX-200", "part_revision": "C", "operation": "010", "revision": .string(revision), "signature": signer])
        }
        let draft = try await client.call("redline.publish", publish("B"))
        #expect(draft["status"] == "draft")
        _ = try await client.call("redline.publish", publish("C"))
        #expect(try await client.call("build.get", ["build_id": .integer(build)])["pending_redline"] == .null, "a draft tells no build")
        #expect(try await client.call("instruction.get", ["part": "HX-200", "part_revision": "C", "operation": "010"])["revision"] == "A")

        #expect(await recordError { _ = try await client.call("instruction.approve", approve("B", by: signature("eve", password: "bench-eve-1"))) } == .separationOfDuties)
        #expect(try await client.call("instruction.get", ["part": "HX-200", "part_revision": "C", "operation": "010"])["revision"] == "A", "nothing changed")
        let approved = try await client.call("instruction.approve", approve("B", by: signature("ada")))
        #expect(approved["revision"] == "B" && approved["affected_builds"] == [.integer(build)] && approved["redline_id"]?.integerValue != nil)
        #expect(try await client.call("build.get", ["build_id": .integer(build)])["pending_redline"]?["to_revision"] == "B")
        // C was drafted from A, which B has replaced.
        #expect(await recordError { _ = try await client.call("instruction.approve", approve("C", by: signature("ada"))) } == .invalidState)
        try await harness.stop()
        #expect(try await harness.verifyFile().problem == nil)
    }

    @Test("use-as-is is a concession: justified, proposed by one quality user and concurred by another, who did not propose it, raise it or cause it", arguments: RecordHarness.backends)
    func concession(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        try await addUser(client, "quincy", name: "Quincy Quality", roles: ["quality"], password: "bench-quincy-1")
        let open = try await client.call("build.open", withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"]))
        let build = try #require(open["build_id"]?.integerValue)
        let nc = try #require(try await client.call("result.record", Self.reading(build, "12.031", by: "olga"))["nc_id"])
        func propose(_ comment: String) -> JSONValue {
            withKey(["nc_id": nc, "disposition": "use-as-is", "comment": .string(comment), "signature": signature("quinn")])
        }
        let concur = { (signer: JSONValue) in withKey(["nc_id": nc, "signature": signer]) }
        #expect(await recordError { _ = try await client.call("nc.concur", concur(signature("quincy", password: "bench-quincy-1"))) } == .notFound)
        #expect(await recordError { _ = try await client.call("nc.disposition", propose("ok")) } == .invalidParams, "a concession is justified")
        let proposed = try await client.call("nc.disposition", propose("bore 0.011 mm over; the mating seal tolerates 0.02 mm (ECO-88)"))
        #expect(proposed["status"] == "awaiting concurrence")
        #expect((try await client.call("build.get", ["build_id": .integer(build)])["open_ncs"]?.arrayValue ?? []).count == 1, "still open")
        #expect(await recordError { _ = try await client.call("nc.disposition", propose("a second proposal for the same NC")) } == .invalidState)
        #expect(await recordError { _ = try await client.call("nc.concur", concur(signature("quinn"))) } == .separationOfDuties, "the proposer")
        #expect(await recordError { _ = try await client.call("nc.concur", concur(signature("olga"))) } == .roleNotPermitted)
        let concurred = try await client.call("nc.concur", concur(signature("quincy", password: "bench-quincy-1")))
        #expect(concurred["disposition"] == "use-as-is" && concurred["concession_signature_id"] == proposed["signature_id"])
        #expect((try await client.call("build.get", ["build_id": .integer(build)])["open_ncs"]?.arrayValue ?? []).isEmpty)
        #expect(await recordError { _ = try await client.call("nc.concur", concur(signature("quincy", password: "bench-quincy-1"))) } == .invalidState)

        let dhr = try await client.call("dhr.export", ["serial": "SN-0001"])
        let recorded = try #require(dhr["builds"]?.arrayValue?.first?["nonconformances"]?.arrayValue?.first)
        #expect(recorded["disposition"] == "use-as-is" && recorded["disposition_signature"] == concurred["signature_id"])
        #expect(recorded["concession"]?["signature_id"] == proposed["signature_id"] && recorded["concession"]?["justification"]?.stringValue?.contains("ECO-88") == true)
        let signed = Set((dhr["signatures"]?.arrayValue ?? []).compactMap { $0["signature_id"] })
        #expect(signed.isSuperset(of: [proposed["signature_id"] ?? .null, concurred["signature_id"] ?? .null]))
        try await harness.stop()
        #expect(try await harness.verifyFile().problem == nil)
    }
}
