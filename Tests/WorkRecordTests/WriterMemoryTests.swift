import FixtureSupport
import FloorgateCore
import Foundation
import GRDB
import RecordProtocol
import Testing
import WorkRecord

/// The SQLite record's writer remembers builds and the audit head between requests; these tests
/// hold it to giving the same answers as a writer that reads everything afresh, and to noticing
/// every change it did not make.
@Suite("The SQLite record's writer memory and writer lock", .timeLimit(.minutes(3)))
struct WriterMemoryTests {
    /// What a call answered, reduced to what does not depend on the clock.
    private enum Outcome: Equatable, CustomStringConvertible {
        case refused(RecordErrorCode)
        case answered([String: JSONValue])

        var description: String {
            switch self {
            case .refused(let code): "refused \(code)"
            case .answered(let members): "\(members.sorted { $0.key < $1.key })"
            }
        }
    }

    /// A seeded session of results, refusals, dispositions and step completions over three builds.
    /// `beforeEachCall` runs before every request (to touch the file behind the server's back).
    private static func session(seed: UInt64, beforeEachCall: (RecordHarness) async throws -> Void) async throws -> [Outcome] {
        let (harness, client) = try await RecordHarness.approvedExample()
        var builds: [Int64] = []
        for serial in ["SN-0001", "SN-0002", "SN-0003"] {
            let open = try await client.call("build.open", withKey(["serial": .string(serial), "station": "bench-3", "operator": "olga"]))
            builds.append(try #require(open["build_id"]?.integerValue))
        }
        var generator = SeededGenerator(seed: seed)
        var openNonconformances: [JSONValue] = []
        var outcomes: [Outcome] = []
        for _ in 0..<120 {
            let build = JSONValue.integer(builds[Int(generator.next() % 3)])
            let (method, params): (RecordMethod, JSONValue)
            let measure = ["12.005", "12.0201", "11.95", "12.010", "12.000", "12.001"][Int(generator.next() % 6)]
            switch generator.next() % 20 {
            case 7..<10:
                let torque = generator.next() % 4 == 0 ? "1.35" : "1.25"
                (method, params) = ("result.record", reading(build: build.integerValue ?? 0, torque, unit: "N.m", kind: "torque", device: "torque"))
            case 10..<12:
                (method, params) = ("result.record", withKey([
                    "build_id": build, "kind": "scan", "text": "LOT-42", "device": ["kind": "scanner"], "operator": "olga", "station": "bench-3",
                ]))
            case 12..<16 where !openNonconformances.isEmpty:
                let nc = openNonconformances.remove(at: Int(generator.next() % UInt64(openNonconformances.count)))
                let disposition: JSONValue = generator.next() % 2 == 0 ? "rework" : "scrap"
                (method, params) = ("nc.disposition", withKey([
                    "nc_id": nc, "disposition": disposition, "comment": "seen", "signature": signature("quinn"),
                ]))
            case 16..<19:
                (method, params) = ("step.complete", withKey(["build_id": build, "signature": signature("olga")]))
            case 19:
                (method, params) = ("result.record", reading(build: 999, measure))
            default:
                (method, params) = ("result.record", reading(build: build.integerValue ?? 0, measure))
            }
            try await beforeEachCall(harness)
            do {
                let answer = try await client.call(method, params)
                var kept: [String: JSONValue] = [:]
                for key in ["result_id", "verdict", "point", "step", "nc_id", "disposition", "build_id"] { kept[key] = answer[key] }
                kept["active_step"] = answer["active_step"]?["key"]
                if let nc = answer["nc_id"], nc != .null { openNonconformances.append(nc) }
                outcomes.append(.answered(kept))
            } catch {
                outcomes.append(.refused(error.code ?? .internalError))
            }
        }
        let report = try await harness.verifyFile()
        #expect(report.problem == nil, "\(report.problem ?? "")")
        try await harness.stop()
        return outcomes
    }

    @Test("a writer that remembers answers every request as one that reads the file afresh each time", arguments: [1, 2, 3] as [UInt64])
    func sameAnswersAsReadingAfresh(seed: UInt64) async throws {
        let remembering = try await Self.session(seed: seed) { _ in }
        var touches = 0
        // Another connection's commit before every request: the writer forgets and rereads.
        let afresh = try await Self.session(seed: seed) { harness in
            touches += 1
            try await harness.tamper(["PRAGMA user_version = \(touches)"])
        }
        #expect(remembering.count == afresh.count)
        for (index, (remembered, read)) in zip(remembering, afresh).enumerated() {
            #expect(remembered == read, "request \(index)")
        }
        let answered = remembering.filter { if case .answered = $0 { true } else { false } }.count
        let steps = Set(remembering.compactMap { if case .answered(let answer) = $0 { answer["step"] } else { nil } })
        #expect(answered >= 20 && answered < remembering.count && steps.count >= 2, "the session should mix answers and refusals over several steps: \(remembering)")
    }

    @Test("an audit entry appended behind the server's back is where the next write chains on, not the remembered head")
    func insiderAppendIsNoticed() async throws {
        let (harness, client) = try await RecordHarness.approvedExample()
        let open = try await client.call("build.open", withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"]))
        let buildID = try #require(open["build_id"]?.integerValue)
        _ = try await client.call("result.record", reading(build: buildID, "12.005"))
        let insiderHash = String(repeating: "ab", count: 32)
        try await harness.tamper([
            """
            INSERT INTO audit (seq, at, actor, peer, action, entity, entity_id, old, new, prev_hash, hash)
            SELECT seq + 1, at, 'mallory', 'local', 'result.record', 'result', 1, NULL, NULL, hash, '\(insiderHash)'
            FROM audit ORDER BY seq DESC LIMIT 1
            """,
        ])
        let next = try await client.call("result.record", reading(build: buildID, "12.010"))
        #expect(next["verdict"] == "pass")
        let chainedOnInsider = try await harness.count("SELECT COUNT(*) FROM audit WHERE prev_hash = '\(insiderHash)'")
        #expect(chainedOnInsider == 1)
        let report = try await harness.verifyFile()
        #expect(report.problem != nil, "verify must still see the insider's entry")
        try await harness.stop()
    }

    @Test("while a server writes the file, a second writer is refused naming the file; readers are not, and the lock goes with the server")
    func secondWriterRefused() async throws {
        let (harness, _) = try await RecordHarness.approvedExample()
        do {
            let second = try await RecordStore.open(harness.location, passwordRounds: 1_000)
            try await second.close()
            Issue.record("a second writer opened the record")
        } catch let error as RecordStoreError {
            #expect(error.kind == .locked && error.message.contains(harness.databasePath), "\(error)")
        }
        let reader = try await RecordStore.open(harness.location, readOnly: true)
        #expect(try await reader.verify().problem == nil)
        try await reader.close()

        try await harness.stop()
        let after = try await RecordStore.open(harness.location, passwordRounds: 1_000)
        try await after.close()
    }
}
