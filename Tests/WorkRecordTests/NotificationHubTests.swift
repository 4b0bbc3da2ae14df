import FloorgateCore
import Foundation
import NIOCore
import NIOEmbedded
import RecordProtocol
import Testing
@testable import WorkRecord

@Suite("Subscribers that stop reading", .timeLimit(.minutes(1)))
struct NotificationHubTests {
    private func connected() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    private func lines(written to: EmbeddedChannel) throws -> [String] {
        var lines: [String] = []
        while let buffer = try to.readOutbound(as: ByteBuffer.self) {
            lines += String(buffer: buffer).split(separator: "\n").map(String.init)
        }
        return lines
    }

    @Test("a subscriber whose socket stays backed up is sent subscription.ended and closed; one that reads keeps every notification")
    func laggingSubscriberIsCutOff() throws {
        let hub = NotificationHub(patience: .milliseconds(100))
        let reader = try connected(), lagger = try connected()
        hub.subscribe(reader)
        hub.subscribe(lagger)
        let raised = RecordNotification(method: RecordNotification.ncRaised, params: ["nc_id": 1])

        lagger.isWritable = false  // its answers and notifications back up: it does not read
        hub.publish([raised])
        #expect(lagger.isActive, "backed up for a moment is not yet lagging")
        Thread.sleep(forTimeInterval: 0.2)
        hub.publish([raised])
        hub.publish([raised])

        #expect(try lines(written: reader).count == 3)
        let toLagger = try lines(written: lagger)
        #expect(toLagger.count == 2 && toLagger.first?.contains("nc.raised") == true, "\(toLagger)")
        #expect(toLagger.last?.contains(#""method":"subscription.ended""#) == true, "\(toLagger)")
        #expect(!lagger.isActive)
        _ = try? reader.finish()
    }

    @Test("a socket that backs up and then drains is not cut off")
    func drainedSubscriberStays() throws {
        let hub = NotificationHub(patience: .milliseconds(100))
        let subscriber = try connected()
        hub.subscribe(subscriber)
        let raised = RecordNotification(method: RecordNotification.ncRaised, params: ["nc_id": 1])
        subscriber.isWritable = false
        hub.publish([raised])
        subscriber.isWritable = true  // it read
        hub.publish([raised])
        Thread.sleep(forTimeInterval: 0.2)
        subscriber.isWritable = false
        hub.publish([raised])
        #expect(subscriber.isActive)
        #expect(try lines(written: subscriber).count == 3)
        _ = try? subscriber.finish()
    }
}
