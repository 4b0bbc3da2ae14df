import FloorgateCore
import Foundation
import RecordProtocol
import Testing
import WorkRecord

@Suite("Units released for distribution, and the work order's counts", .timeLimit(.minutes(2)))
struct ReleaseTests {
    @Test("a unit is released once, by quality, only when its route is accepted; a scrapped unit never; the DHR states each build's outcome and the work order's counts", arguments: RecordHarness.backends)
    func release(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let release = { (serial: String, signer: String) in withKey(["serial": .string(serial), "signature": signature(signer)]) }
        let first = try #require(try await client.call("build.open", withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"]))["build_id"]?.integerValue)
        #expect(await recordError { _ = try await client.call("unit.release", release("SN-0001", "quinn")) } == .invalidState, "its build is open")
        try await completeExampleBuild(client, build: first)
        #expect(await recordError { _ = try await client.call("unit.release", release("SN-0001", "quinn")) } == .invalidState, "not yet accepted")
        _ = try await client.call("build.close", withKey(["build_id": .integer(first), "signature": signature("quinn")]))
        #expect(await recordError { _ = try await client.call("unit.release", release("SN-0001", "olga")) } == .roleNotPermitted)
        let released = try await client.call("unit.release", release("SN-0001", "quinn"))
        #expect(released["serial"] == "SN-0001" && released["work_order_released"] == 1)
        #expect(await recordError { _ = try await client.call("unit.release", release("SN-0001", "quinn")) } == .conflict)
        #expect(await recordError { _ = try await client.call("unit.release", release("SN-4040", "quinn")) } == .unknownSerial)

        // The second unit fails its bore and quality scraps it: it is never released.
        let second = try #require(try await client.call("build.open", withKey(["serial": "SN-0002", "station": "bench-3", "operator": "olga"]))["build_id"]?.integerValue)
        let failed = try await client.call("result.record", reading(build: second, "12.031"))
        #expect(await recordError { _ = try await client.call("unit.release", release("SN-0002", "quinn")) } == .invalidState, "a nonconformance waits")
        _ = try await client.call("nc.disposition", withKey([
            "nc_id": failed["nc_id"] ?? .null, "disposition": "scrap", "comment": "bore oversize", "signature": signature("quinn"),
        ]))
        let refused = await recordError { _ = try await client.call("unit.release", release("SN-0002", "quinn")) }
        #expect(refused == .invalidState)

        let dhr = try await client.call("dhr.export", ["serial": "SN-0001"])
        #expect(dhr["builds"]?.arrayValue?.first?["outcome"] == "accepted")
        #expect(dhr["release"]?["signature_id"] == released["signature_id"])
        #expect(dhr["work_order"]?["counts"] == ["started": 2, "completed": 1, "accepted": 1, "scrapped": 1, "rejected": 0, "released": 1])
        #expect((dhr["signatures"]?.arrayValue ?? []).contains { $0["signature_id"] == released["signature_id"] && $0["meaning"] == "approved" })
        let scrapped = try await client.call("dhr.export", ["serial": "SN-0002"])
        #expect(scrapped["builds"]?.arrayValue?.first?["outcome"] == "scrapped" && scrapped["release"] == .null)
        let page = DeviceHistoryPage.html(dhr)
        #expect(page.contains("Released for distribution") && page.contains("<td>accepted</td>"))
        try await harness.stop()
        #expect(try await harness.verifyFile().problem == nil)
    }
}
