import DeviceIO
import FloorgateCore
import Foundation
import Logging
import RecordProtocol
import Testing
@testable import Gateway

@Suite("A label scanned while the step waits for it", .timeLimit(.minutes(2)))
struct StationLabelRoutingTests {
    static let topGTIN = "09506000444444", moduleGTIN = "09506000333335"

    @Test("a serialized component's label, though it carries a serial the station's pattern matches, fills the component point instead of opening a build")
    func componentLabelGoesToItsPoint() async throws {
        let harness = try StationHarness()
        try await harness.prepareRecord()
        try await harness.startRecord()
        let client = harness.client()
        _ = try await client.call("record.import", [
            "idempotency_key": .string(UUIDv7.make()),
            "parts": [["number": "TOP-9", "revision": "A", "gtin": .string(Self.topGTIN)], ["number": "MOD-9", "revision": "A", "gtin": .string(Self.moduleGTIN)]],
            "instructions": [["part": "TOP-9", "part_revision": "A", "operation": "010", "revision": "A", "title": "Top", "steps": [
                ["key": "10", "title": "Fit module", "points": [["name": "module", "kind": "component", "part": "MOD-9", "control": "serial"]]],
            ]]],
            "work_orders": [["number": "WO-9", "part": "TOP-9", "part_revision": "A", "quantity": 1, "operations": ["010"], "serials": ["T-0901"]]],
        ])
        _ = try await client.call("instruction.approve", [
            "idempotency_key": .string(UUIDv7.make()), "part": "TOP-9", "part_revision": "A", "operation": "010", "revision": "A",
            "signature": ["user": "ada", "password": "bench-ada-1"],
        ])

        // The station takes any GS1 code with a serial (AI 21) for a unit's label.
        let outbox = try Outbox(path: harness.directory + "/labels-outbox.sqlite")
        let normalizer = Normalizer(source: "scanner", kind: .scanner, profileName: "serial-scanner-usb-adapter", unit: nil, resolution: nil, deviceSerial: nil)
        for text in ["01\(Self.topGTIN)21T-0901", "01\(Self.moduleGTIN)21M-0042"] {
            let event = DeviceEvent.scan(Scan(text: text, aim: "]d2"), raw: RawBytes(Array(("]d2" + text + "\r").utf8)))
            _ = try await outbox.append(try #require(normalizer.item(for: ReadEvent(event: event, readAt: MonotonicClock.nanoseconds()))))
        }
        let entries = try await outbox.pending().entries
        let identity = Station.Identity(station: "bench-3", operatorLogin: "olga", serialPattern: .gs1Serial(gtin: nil))
        var logger = Logger(label: "station")
        logger.logLevel = .critical
        let station = Station(identity: identity, record: client, logger: logger)
        let deliveries = await station.deliver(entries)
        #expect(deliveries.count == 2)
        for delivery in deliveries {
            guard case .settled(.delivered, _) = delivery else { Issue.record("\(delivery)"); continue }
        }
        // The operator's views name the component as the record read it, not the label's digits.
        var recorded: [String] = []
        for await event in station.events {
            if case .recorded(_, let summary, _) = event { recorded.append(summary) }
            if !recorded.isEmpty { break }
        }
        #expect(recorded == ["MOD-9 serial M-0042"])
        let dhr = try await client.call("dhr.export", ["serial": "T-0901"])
        #expect(dhr["builds"]?.arrayValue?.first?["components"]?.arrayValue?.map { [$0["part"], $0["serial"]] } == [["MOD-9", "M-0042"]])
        await outbox.close()
        try await harness.stopRecord()
    }
}
