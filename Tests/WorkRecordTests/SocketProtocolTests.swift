import FloorgateCore
import Foundation
import RecordProtocol
import Testing
import WorkRecord

@Suite("The record socket answers every line, whatever it holds", .timeLimit(.minutes(3)))
struct SocketProtocolTests {
    @Test("malformed JSON, a non-object, a wrong version, an unknown method: each gets its JSON-RPC error, the connection stays", arguments: RecordHarness.backends)
    func malformedRequests(_ backend: RecordBackendKind) async throws {
        let harness = try await RecordHarness(backend)
        let client = harness.client()
        let cases: [(line: String, code: Int64)] = [
            ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":", -32700),
            ("\"record.info\"", -32600),
            ("{\"jsonrpc\":\"1.0\",\"id\":2,\"method\":\"record.info\"}", -32600),
            ("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":42}", -32600),
            ("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"record.info\",\"params\":[1]}", -32602),
            ("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"build.explode\"}", -32601),
            ("\u{FF}\u{FE}garbage", -32700),
        ]
        for (line, code) in cases {
            let answer = try await client.exchange(rawLine: line)
            #expect(answer["error"]?["code"] == .integer(code), "\(line) → \(answer.text)")
        }
        // Still serving on the same connection.
        #expect(try await client.call("record.info")["audit_entries"] == 0)
        try await harness.stop()
    }

    @Test("a batch is answered by one array in request order, notifications left out; an empty batch is one error", arguments: RecordHarness.backends)
    func batches(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let open = JSONValue.object([
            "jsonrpc": "2.0", "id": "open", "method": "build.open",
            "params": withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"]),
        ])
        let batch: JSONValue = [
            open, ["jsonrpc": "2.0", "id": 7, "method": "user.get", "params": ["login": "olga"]],
            ["jsonrpc": "1.0", "id": 8, "method": "record.info"], ["jsonrpc": "2.0", "method": "record.info"],
            ["jsonrpc": "2.0", "id": 9, "method": "build.get", "params": ["serial": "SN-0001"]],
        ]
        let answers = try #require(try await client.exchange(rawLine: batch.text).arrayValue)
        #expect(answers.map { $0["id"] } == ["open", 7, 8, 9])
        #expect(answers[0]["result"]?["serial"] == "SN-0001" && answers[1]["result"]?["printed_name"] != nil)
        #expect(answers[2]["error"]?["code"] == -32600)
        #expect(answers[3]["result"]?["build_id"] == answers[0]["result"]?["build_id"], "the batch's requests run in order")

        let invalid = try #require(try await client.exchange(rawLine: "[1,2,3]").arrayValue)
        #expect(invalid.count == 3 && invalid.allSatisfy { $0["error"]?["code"] == -32600 && $0["id"] == .null })
        #expect(try await client.exchange(rawLine: "[]")["error"]?["code"] == -32600)
        // A batch of notifications only is not answered: the next answer is the next request's.
        try await client.send(rawLine: "[{\"jsonrpc\":\"2.0\",\"method\":\"record.info\"}]")
        #expect(try await client.call("record.info")["audit_entries"] != nil)
        try await harness.stop()
        #expect(try await harness.verifyFile().problem == nil)
    }

    @Test("a line longer than the limit is answered with an error and skipped; the next line is served", arguments: RecordHarness.backends)
    func oversizedLine(_ backend: RecordBackendKind) async throws {
        let harness = try await RecordHarness(backend)
        let client = harness.client()
        let answer = try await client.exchange(
            rawLine: "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"record.info\",\"params\":{\"pad\":\"" + String(repeating: "x", count: 1_100_000) + "\"}}")
        #expect(answer["error"]?["code"] == -32600)
        #expect(try await client.call("record.info")["audit_entries"] == 0)
        try await harness.stop()
    }

    @Test("every method refuses empty and wrongly typed params with a typed error, and the record stays intact", arguments: RecordHarness.backends)
    func badParamsAtEveryMethod(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let before = try await client.call("record.info")
        let bad: [JSONValue] = [
            [:], ["idempotency_key": "k-1"], ["idempotency_key": 5, "build_id": "one"],
            ["idempotency_key": "k-2", "build_id": 1, "value": .number(12.5), "unit": "mm", "serial": 7, "signature": "olga"],
            ["idempotency_key": "k-3", "build_id": 999, "nc_id": 999, "serial": "SN-0001", "redline_id": 999, "value": "12.x",
             "unit": "furlong", "signature": ["user": "olga"], "part": "HX-200", "part_revision": "C", "operation": "010"],
        ]
        // Those left out read without required params (calibration.list lists every device,
        // server_key.list every key, audit.list the whole trail) or
        // take the wrongly typed ones' serial.
        for method in RecordService.methodNames where !["record.info", "dhr.export", "build.get", "instruction.get", "calibration.list", "trace.unit", "server_key.list", "audit.list"].contains(method) {
            for params in bad {
                let code = await recordError { _ = try await client.call(method, params) }
                #expect(code != nil, "\(method) accepted \(params.text)")
                #expect(code != .internalError, "\(method) failed internally on \(params.text)")
            }
        }
        #expect(try await client.call("record.info") == before)
        try await harness.stop()
        #expect(try await harness.verifyFile().problem == nil)
    }

    @Test("concurrent clients recording on different builds: every result lands once and the chain verifies", arguments: RecordHarness.backends)
    func concurrentClients(_ backend: RecordBackendKind) async throws {
        let (harness, setup) = try await RecordHarness.approvedExample(backend)
        var builds: [Int64] = []
        for serial in ["SN-0001", "SN-0002", "SN-0003"] {
            let build = try await setup.call("build.open", withKey(["serial": .string(serial), "station": "bench-3", "operator": "olga"]))
            builds.append(try #require(build["build_id"]?.integerValue))
        }
        let socketPath = harness.socketPath
        try await withThrowingTaskGroup(of: [String].self) { group in
            for build in builds {
                group.addTask {
                    let client = RecordClient(socketPath: socketPath)
                    let answers = await client.pipeline([
                        ("result.record", reading(build: build, "12.001")), ("result.record", reading(build: build, "12.002")),
                        ("result.record", reading(build: build, "12.003")),
                    ])
                    return answers.map { (try? $0.get()["verdict"]?.stringValue) ?? "error" }
                }
            }
            for try await verdicts in group {
                // Two places on the point, so the third reading has nowhere to go.
                #expect(verdicts == ["pass", "pass", "error"])
            }
        }
        for build in builds {
            let point = try await setup.call("build.get", ["build_id": .integer(build)])["active_step"]?["points"]?.arrayValue?.first
            #expect(point?["results"]?.arrayValue?.count == 2)
        }
        try await harness.stop()
        #expect(try await harness.verifyFile().problem == nil)
    }
}
