import FixtureSupport
import FloorgateCore
import Foundation
import RecordProtocol
import Testing
import WorkRecord

/// An idempotency key answers a retry of its request, and only that: the key is bound to the
/// request's content and, for a signed write, to a signer who signs again.
@Suite("Idempotency keys bind their request's content", .timeLimit(.minutes(3)))
struct IdempotencyTests {
    @Test("a result's key replayed with another value is refused (1060) and records nothing; replayed as sent, it gets the first answer", arguments: RecordHarness.backends)
    func replayWithOtherContent(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let open = try await client.call("build.open", withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"]))
        let buildID = try #require(open["build_id"]?.integerValue)
        let first = reading(build: buildID, "12.005")
        let answer = try await client.call("result.record", first)
        #expect(answer["verdict"] == "pass")
        let key = try #require(first["idempotency_key"]?.stringValue)

        // The out-of-limit value under the same key: once answered "pass"; now refused.
        let outOfLimit = withKey(reading(build: buildID, "12.500"), key: key)
        #expect(await recordError { _ = try await client.call("result.record", outOfLimit) } == .idempotencyKeyReused)
        let otherBuild = withKey(reading(build: buildID + 1, "12.005"), key: key)
        #expect(await recordError { _ = try await client.call("result.record", otherBuild) } == .idempotencyKeyReused)
        #expect(try await harness.count("SELECT COUNT(*) FROM result") == 1)
        #expect(try await harness.count("SELECT COUNT(*) FROM nonconformance") == 0)

        // The retry a gateway sends after a lost answer: the same request, the first answer.
        let again = try await client.call("result.record", first)
        #expect(again["result_id"] == answer["result_id"] && again["verdict"] == "pass")
        #expect(try await harness.count("SELECT COUNT(*) FROM result") == 1)
        try await harness.stop()
    }

    @Test("a signed write's key replayed without its signature or by another signer is refused (1060); with a wrong password it counts as a failed signature; signed again, it gets the first answer", arguments: RecordHarness.backends)
    func replayOfSignedWrite(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let open = try await client.call("build.open", withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"]))
        let raised = try await client.call(
            "nc.raise", withKey(["build_id": open["build_id"] ?? .null, "description": "scratch on the face", "raised_by": "olga"]))
        let disposition: JSONValue = withKey([
            "nc_id": raised["nc_id"] ?? .null, "disposition": "scrap", "comment": "cosmetic", "signature": signature("quinn"),
        ])
        let key = try #require(disposition["idempotency_key"]?.stringValue)
        let signed = try await client.call("nc.disposition", disposition)
        let signatures = try await harness.count("SELECT COUNT(*) FROM signature")

        func replay(signedBy signer: JSONValue?) -> JSONValue {
            var params: [String: JSONValue] = ["nc_id": raised["nc_id"] ?? .null, "disposition": "scrap", "comment": "cosmetic"]
            params["signature"] = signer
            return withKey(.object(params), key: key)
        }
        #expect(await recordError { _ = try await client.call("nc.disposition", replay(signedBy: nil)) } == .idempotencyKeyReused)
        #expect(await recordError { _ = try await client.call("nc.disposition", replay(signedBy: signature("eric"))) } == .idempotencyKeyReused)
        #expect(await recordError { _ = try await client.call("nc.disposition", replay(signedBy: signature("quinn", password: "not-hers"))) } == .signatureRejected)
        #expect(try await harness.count(#"SELECT failed_attempts FROM "user" WHERE login = 'quinn'"#) == 1)

        let again = try await client.call("nc.disposition", replay(signedBy: signature("quinn")))
        #expect(again == signed)
        #expect(try await harness.count("SELECT COUNT(*) FROM signature") == signatures)
        #expect(try await harness.count(#"SELECT failed_attempts FROM "user" WHERE login = 'quinn'"#) == 0)
        #expect(try await harness.verifyFile().problem == nil)
        try await harness.stop()
    }

}
