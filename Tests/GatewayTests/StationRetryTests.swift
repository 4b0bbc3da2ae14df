import DeviceIO
import FloorgateCore
import Foundation
import Logging
import RecordProtocol
import Testing
@testable import Gateway

@Suite("Station delivery after a lost answer", .timeLimit(.minutes(2)))
struct StationRetryTests {
    @Test("a result the record holds under its entry's key is settled delivered when retried with another build open, and recorded once")
    func retryUnderAnotherBuild() async throws {
        let harness = try StationHarness()
        try await harness.prepareRecord()
        try await harness.startRecord()
        let client = harness.client()
        func open(_ serial: String) async throws -> Int64 {
            let build = try await client.call("build.open", [
                "serial": .string(serial), "station": "bench-3", "operator": "olga", "idempotency_key": .string(UUIDv7.make()),
            ])
            return try #require(build["build_id"]?.integerValue)
        }
        let first = try await open("SN-0001"), second = try await open("SN-0002")

        let outbox = try Outbox(path: harness.directory + "/retry-outbox.sqlite")
        let normalizer = Normalizer(source: "caliper", kind: .gauge, profileName: "mitutoyo-dp1va-rs232", unit: nil, resolution: nil, deviceSerial: "CAL-7")
        let event = DeviceEvent.reading(Reading(value: try ExactDecimal(parsing: "12.005"), unit: .millimetre), raw: RawBytes(Array("01A+0012.005\r".utf8)))
        _ = try await outbox.append(try #require(normalizer.item(for: ReadEvent(event: event, readAt: MonotonicClock.nanoseconds()))))
        let entry = try #require(try await outbox.pending().entries.first)
        let identity = Station.Identity(station: "bench-3", operatorLogin: "olga", serialPattern: .gs1Serial(gtin: nil))
        var logger = Logger(label: "station")
        logger.logLevel = .critical

        // The first delivery commits, but its answer never reaches the gateway.
        let delivered = await Station(identity: identity, record: client, logger: logger, openBuildID: first).deliver(entry)
        guard case .settled(.delivered, _) = delivered else { Issue.record("first delivery: \(delivered)"); return }
        // Restarted, with the operator on the next unit: the retry names the other build.
        let retried = await Station(identity: identity, record: harness.client(), logger: logger, openBuildID: second).deliver(entry)
        guard case .settled(.delivered, let outcome) = retried else { Issue.record("retry: \(retried)"); return }
        #expect(outcome.contains("earlier delivery"), "\(outcome)")

        func results(_ build: Int64) async throws -> [JSONValue]? {
            try await client.call("build.get", ["build_id": .integer(build)])["active_step"]?["points"]?.arrayValue?.first?["results"]?.arrayValue
        }
        let onFirst = try await results(first), onSecond = try await results(second)
        #expect(onFirst?.count == 1 && onSecond?.isEmpty == true)
        await outbox.close()
        try await harness.stopRecord()
    }
}
