@testable import DeviceIO
import FloorgateCore
import Foundation
import Logging
import RecordProtocol
import Testing
@testable import Gateway

/// The station keeps a commanded tool locked while the record's notifications are not followed:
/// results could not be judged, nor the build's changes seen.
@Suite("A commanded tool and the record's link", .timeLimit(.minutes(1)))
struct StationToolOrderTests {
    @Test("locked while the record is unreachable, until it is followed again; then the build decides")
    func recordReachability() async throws {
        let identity = Station.Identity(station: "bench-3", operatorLogin: "olga", serialPattern: .gs1Serial(gtin: nil))
        var logger = Logger(label: "station")
        logger.logLevel = .critical
        let station = Station(identity: identity, record: RecordClient(socketPath: "/nonexistent/record.sock"), logger: logger)
        let orders = ToolOrders()
        await station.command(tool: "nutrunner", profile: "atlas-copco-pf6000", unit: .newtonMetre, orders: orders)
        #expect(orders.current.order == .locked(reason: "the record is unreachable"))

        let (notifications, feed) = AsyncStream<RecordNotification>.makeStream()
        let following = Task { await station.follow(notifications) }
        defer { following.cancel() }
        func waitFor(_ order: ToolOrder) async throws {
            for _ in 0..<500 where orders.current.order != order { try await Task.sleep(for: .milliseconds(10)) }
            #expect(orders.current.order == order)
        }
        feed.yield(RecordNotification(method: RecordNotification.connected, params: .null))
        try await waitFor(.locked(reason: "no build is open: scan the unit's serial"))
        feed.yield(RecordNotification(method: RecordNotification.disconnected, params: .null))
        try await waitFor(.locked(reason: "the record is unreachable"))
        feed.finish()
    }
}
