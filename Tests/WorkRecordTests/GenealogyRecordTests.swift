import FixtureSupport
import FloorgateCore
import Foundation
import RecordProtocol
import Testing
import WorkRecord

/// Component genealogy and UDI on a real record: a two-level assembly (boards into modules,
/// modules into a top assembly), labels read as GS1, refusals, the unit's UDI label checked,
/// and traces both ways.
@Suite("Genealogy and UDI in the record", .timeLimit(.minutes(4)))
struct GenealogyRecordTests {
    static let board = "09506000222226", module = "09506000333335", top = "09506000444444"
    static let groupSeparator = "\u{1D}"

    /// Boards (PCB-1, lot-controlled, two per module) go into modules (MOD-1, serialized, each a
    /// built unit), modules into top assemblies (TOP-1), whose last step checks the UDI label.
    static func record(_ backend: RecordBackendKind) async throws -> (RecordHarness, RecordClient) {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        _ = try await client.call("record.import", withKey([
            "parts": [
                ["number": "PCB-1", "revision": "A", "gtin": .string(board)], ["number": "MOD-1", "revision": "A", "gtin": .string(module)],
                ["number": "TOP-1", "revision": "A", "gtin": .string(top), "hibc": "A123TOP1"],
            ],
            "instructions": [
                ["part": "MOD-1", "part_revision": "A", "operation": "010", "revision": "A", "title": "Module", "steps": [
                    ["key": "10", "title": "Fit boards", "points": [["name": "board", "kind": "component", "part": "PCB-1", "control": "lot", "quantity": 2]]],
                ]],
                ["part": "TOP-1", "part_revision": "A", "operation": "010", "revision": "A", "title": "Top", "steps": [
                    ["key": "10", "title": "Fit module", "points": [["name": "module", "kind": "component", "part": "MOD-1", "control": "serial"]]],
                    ["key": "20", "title": "Label", "points": [["name": "udi label", "kind": "label"]]],
                ]],
            ],
            "work_orders": [
                ["number": "WO-M", "part": "MOD-1", "part_revision": "A", "quantity": 2, "operations": ["010"], "serials": ["M-001", "M-002"]],
                ["number": "WO-T", "part": "TOP-1", "part_revision": "A", "quantity": 2, "operations": ["010"], "serials": ["T-001", "T-002"]],
            ],
        ]))
        for part in ["MOD-1", "TOP-1"] {
            _ = try await client.call("instruction.approve", withKey([
                "part": .string(part), "part_revision": "A", "operation": "010", "revision": "A", "signature": signature("ada"),
            ]))
        }
        return (harness, client)
    }

    static func open(_ serial: String, _ client: RecordClient) async throws -> Int64 {
        try #require(try await client.call("build.open", withKey(["serial": .string(serial), "station": "bench-3", "operator": "olga"]))["build_id"]?.integerValue)
    }

    /// A scanner's reading of a label: GS1 DataMatrix (`]d2`) unless `aim` says otherwise.
    static func scan(_ build: Int64, _ text: String, aim: String? = "]d2", at time: String = "2026-12-01T09:00:00.000Z") -> JSONValue {
        withKey([
            "build_id": .integer(build), "kind": "scan", "text": .string(text), "aim": aim.map(JSONValue.string) ?? .null,
            "device": ["kind": "scanner"], "operator": "olga", "station": "bench-3", "measured_at": .string(time),
        ])
    }

    @Test("component labels are matched to the point's part, expired lots and a piece already built in are refused, the UDI label is checked, and traces go both ways", arguments: RecordHarness.backends)
    func twoLevelAssembly(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await Self.record(backend)
        let gs = Self.groupSeparator

        // Module M-001: the boards' lot label (GS1: GTIN, expiry, lot).
        let m1 = try await Self.open("M-001", client)
        let wrongPart = await recordError { _ = try await client.call("result.record", Self.scan(m1, "01\(Self.module)21M-009")) }
        #expect(wrongPart == .componentRefused)
        #expect(await recordError { _ = try await client.call("result.record", Self.scan(m1, "01\(Self.board)17261130" + "10LOT-6")) } == .componentExpired)
        #expect(await recordError { _ = try await client.call("result.record", Self.scan(m1, "LOT-7", aim: "]C0")) } == .componentRefused)
        #expect(await recordError { _ = try await client.call("result.record", Self.scan(m1, "01\(Self.board)17271231")) } == .componentRefused, "no lot")
        let accepted = try await client.call("result.record", Self.scan(m1, "01\(Self.board)17271231" + "10LOT-7"))
        #expect(accepted["point"] == "board" && accepted["verdict"] == "pass")
        // Module M-002 takes the same lot.
        let m2 = try await Self.open("M-002", client)
        _ = try await client.call("result.record", Self.scan(m2, "01\(Self.board)10LOT-7"))

        // Top assembly T-001 takes module M-001 by its serialized label; T-002 may not take it too.
        let t1 = try await Self.open("T-001", client)
        _ = try await client.call("result.record", Self.scan(t1, "01\(Self.module)21M-001"))
        let t2 = try await Self.open("T-002", client)
        let twice = await recordError { _ = try await client.call("result.record", Self.scan(t2, "01\(Self.module)21M-001")) }
        #expect(twice == .componentInAnotherUnit)
        #expect(try await harness.count("SELECT COUNT(*) FROM component_use") == 3)
        // A component's scan is not corrected: the as-built list follows the scans.
        let moduleScan = try #require(try await client.call("dhr.export", ["serial": "T-001"])["builds"]?.arrayValue?.first?["components"]?.arrayValue?.first?["result_id"])
        var correction = Self.scan(t1, "01\(Self.module)21M-002")
        if case .object(var members) = correction {
            members["result_id"] = moduleScan
            members["reason"] = "scanned the wrong module"
            members["signature"] = signature("quinn")
            correction = .object(members)
        }
        #expect(await recordError { _ = try await client.call("result.correct", correction) } == .invalidState)

        // T-001's UDI label: a wrong serial is recorded invalid and raises a nonconformance; the right one passes.
        _ = try await client.call("step.complete", withKey(["build_id": .integer(t1), "signature": signature("olga")]))
        let opened = try #require(try await client.call("build.get", ["serial": "T-001"])["opened_at"]?.stringValue)
        let made = String(opened.prefix(10).filter { $0 != "-" }.dropFirst(2))
        let udi = "(01)\(Self.top)(11)\(made)(10)WO-T(21)T-001"
        let mislabelled = try await client.call("result.record", Self.scan(t1, "01\(Self.top)11\(made)10WO-T\(gs)21T-002"))
        #expect(mislabelled["verdict"] == "invalid" && mislabelled["nc_id"]?.integerValue != nil)
        #expect(mislabelled["reason"]?.stringValue?.contains("AI 21 is T-002, the unit's is T-001") == true)
        let labelled = try await client.call("result.record", Self.scan(t1, "01\(Self.top)11\(made)10WO-T\(gs)21T-001"))
        #expect(labelled["verdict"] == "pass" && labelled["nc_id"] == .null)

        // The DHR holds the UDI and the as-built list.
        let dhr = try await client.call("dhr.export", ["serial": "T-001"])
        #expect(dhr["udi"]?["text"]?.stringValue == udi)
        #expect(dhr["udi"]?["pi"]?["21"] == "T-001" && dhr["udi"]?["di"] == .string(Self.top))
        #expect(dhr["builds"]?.arrayValue?.first?["components"]?.arrayValue?.map { [$0["part"], $0["serial"]] } == [["MOD-1", "M-001"]])
        let page = DeviceHistoryPage.html(dhr)
        #expect(page.contains("<h2>Unique device identification</h2>") && page.contains("<td>\(HTMLText.escaped(udi))</td>"))
        #expect(page.contains("<h3>Components (as built)</h3>") && page.contains("<td>MOD-1</td>") && page.contains("<td>M-001</td>"))

        // Forward from the boards' lot: both modules, and M-001 on into T-001.
        let forward = try await client.call("trace.lot", ["lot": "LOT-7"])
        let units = forward["units"]?.arrayValue ?? []
        #expect(units.map { $0["serial"] } == ["M-001", "M-002"])
        #expect(units.first?["contained_in"]?.arrayValue?.map { $0["serial"] } == ["T-001"])
        #expect(units.last?["contained_in"]?.arrayValue?.isEmpty == true)
        // Backward from T-001: the module, and within it the boards' lot.
        let backward = try await client.call("trace.unit", ["serial": "T-001"])
        let module = try #require(backward["components"]?.arrayValue?.first)
        #expect(module["serial"] == "M-001" && module["part"] == "MOD-1")
        #expect(module["unit"]?["components"]?.arrayValue?.map { [$0["lot"], $0["quantity"]] } == [["LOT-7", 2]])
        #expect(backward["operators"] == ["olga"])

        // The rows are in the audit chain and never change.
        #expect(try await harness.verifyFile().problem == nil)
        await #expect(throws: (any Error).self) { try await harness.tamper(["UPDATE component_use SET lot = 'LOT-8'"]) }
        try await harness.stop()
    }

    @Test("HIBC labels name their part by labeler and product; a GTIN must carry its check digit")
    func hibcAndIdentifiers() async throws {
        let (harness, client) = try await Self.record(.sqlite)
        #expect(await recordError { _ = try await client.call("record.import", withKey(["parts": [["number": "X-1", "revision": "A", "gtin": "09506000444445"]]])) } == .invalidParams)
        #expect(await recordError { _ = try await client.call("record.import", withKey(["parts": [["number": "X-2", "revision": "A", "gtin": .string(Self.board)]]])) } == .conflict)
        _ = try await client.call("record.import", withKey([
            "instructions": [["part": "MOD-1", "part_revision": "A", "operation": "020", "revision": "A", "title": "Kit", "steps": [
                ["key": "10", "title": "Kit", "points": [["name": "top", "kind": "component", "part": "TOP-1", "control": "lot"]]],
            ]]],
            "work_orders": [["number": "WO-K", "part": "MOD-1", "part_revision": "A", "quantity": 1, "operations": ["020"], "serials": ["K-001"]]],
        ]))
        _ = try await client.call("instruction.approve", withKey(["part": "MOD-1", "part_revision": "A", "operation": "020", "revision": "A", "signature": signature("ada")]))
        let kit = try await Self.open("K-001", client)
        // +A123TOP1 0 / $$3 271231 LOT9 with its check characters, as a HIBC scanner sends it.
        let hibc = try Self.hibcLabel(primary: "A123TOP10", secondary: "$$3271231LOT9")
        let taken = try await client.call("result.record", Self.scan(kit, hibc, aim: "]C0"))
        #expect(taken["verdict"] == "pass")
        #expect(try await client.call("dhr.export", ["serial": "K-001"])["builds"]?.arrayValue?.first?["components"]?.arrayValue?.first?["lot"] == "LOT9")
        try await harness.stop()
    }

    /// A HIBC primary and secondary in one symbol: `+primary/secondary` and the modulo-43 check character.
    static func hibcLabel(primary: String, secondary: String) throws -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%")
        let data = "+" + primary + "/" + secondary
        let sum = try data.reduce(0) { total, character in
            guard let value = alphabet.firstIndex(of: character) else { throw HIBCTestError.notEncodable(character) }
            return total + value
        }
        return data + String(alphabet[sum % 43])
    }

    enum HIBCTestError: Error { case notEncodable(Character) }
}
