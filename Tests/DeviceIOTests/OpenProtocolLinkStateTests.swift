import DeviceIO
import DeviceProtocols
import FloorgateCore
import Logging
import NIOCore
import Synchronization
import Testing

/// What the gateway shows of a controller is the session's truth: connected only once a session
/// is established and results are subscribed.
@Suite("Open Protocol link state", .timeLimit(.minutes(1)))
struct OpenProtocolLinkStateTests {
    final class Statuses: Sendable {
        let seen = Mutex<[DeviceStatus]>([])
        var states: [DeviceState] { seen.withLock { $0.map(\.state) } }
    }

    private func client(port: Int, statuses: Statuses) -> OpenProtocolClient {
        var configuration = OpenProtocolClient.Configuration(host: "127.0.0.1", port: port)
        // Long: the test ends the links itself, and a loaded machine answers late.
        configuration.linkTimeout = .seconds(60)
        configuration.keepAliveInterval = .seconds(30)
        configuration.initialBackoff = .milliseconds(100)
        configuration.maximumBackoff = .milliseconds(200)
        return OpenProtocolClient(
            configuration: configuration, sink: GatedSink(), logger: Logger(label: "test"),
            onLink: { status in statuses.seen.withLock { $0.append(status) } }
        ) { _, _ in true }
    }

    @Test("a controller that refuses every connection is shown lost, once, with the reason; never connected")
    func refusedConnections() async throws {
        // A port nothing listens on: taken, then let go.
        let probe = try await OpenProtocolChannels.listen(host: "127.0.0.1", port: 0)
        let port = try #require(probe.channel.localAddress?.port)
        try await probe.channel.close()
        let statuses = Statuses()
        let task = Task { try await client(port: port, statuses: statuses).run() }
        defer { task.cancel() }
        // Waited for, not timed: a loaded machine may take seconds to make the first attempt.
        for _ in 0..<1_500 where statuses.states.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .seconds(1))  // further refused attempts (100–200 ms apart) report nothing more
        #expect(statuses.states == [.lost], "\(statuses.seen.withLock { $0 })")
        #expect(statuses.seen.withLock { $0.first?.message.contains("127.0.0.1:\(port)") } == true)
    }

    @Test("a connection the controller accepts but never starts a session on is not connected; a session with results subscribed is")
    func connectedMeansSession() async throws {
        let server = try await OpenProtocolChannels.listen(host: "127.0.0.1", port: 0)
        let port = try #require(server.channel.localAddress?.port)
        let statuses = Statuses()
        let task = Task { try await client(port: port, statuses: statuses).run() }
        defer { task.cancel() }
        try await server.executeThenClose { connections in
            var iterator = connections.makeAsyncIterator()
            // First connection: accepted, its MID 0001 never answered, then closed by the controller.
            let silent = try #require(try await iterator.next())
            try await silent.executeThenClose { inbound, _ in
                var frames = inbound.makeAsyncIterator()
                while let output = try await frames.next() {
                    if case .frame(let frame) = output, frame.mid == 1 { break }
                }
                try await Task.sleep(for: .milliseconds(300))
                #expect(statuses.states.isEmpty, "an open connection without a session is not connected")
            }
            for _ in 0..<500 where statuses.states.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
            #expect(statuses.states == [.lost], "\(statuses.seen.withLock { $0 })")
            // Second: a session is started and results are subscribed.
            let answered = try #require(try await iterator.next())
            try await answered.executeThenClose { inbound, outbound in
                var frames = inbound.makeAsyncIterator()
                func nextMID() async throws -> Int? {
                    while let output = try await frames.next() {
                        if case .frame(let frame) = output, frame.mid != 9999 { return frame.mid }
                    }
                    return nil
                }
                #expect(try await nextMID() == 1)
                #expect(statuses.states == [.lost])
                try await outbound.write(ByteBuffer(bytes: OpenProtocolEncoder.communicationStartAcknowledge(cellID: 1, channelID: 1, controllerName: "c")))
                #expect(try await nextMID() == 60)
                #expect(statuses.states == [.lost], "not connected before results are subscribed")
                try await outbound.write(ByteBuffer(bytes: OpenProtocolEncoder.commandAccepted(mid: 60)))
                for _ in 0..<500 where statuses.states.count < 2 { try await Task.sleep(for: .milliseconds(20)) }
                #expect(statuses.states == [.lost, .connected])
            }
        }
    }
}
