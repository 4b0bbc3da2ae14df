import DeviceIO
import DeviceProtocols
import FloorgateCore
import Logging
import NIOCore
import Synchronization
import Testing

/// A sink whose `store` does not return until the test opens its gate: while it is closed, the
/// client must not acknowledge anything.
final class GatedSink: DurableSink {
    private let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
    let storeCalls = Mutex(0)

    func store(_ result: DeviceResult) async throws -> StoreReceipt {
        storeCalls.withLock { $0 += 1 }
        await withCheckedContinuation { continuation in gate.withLock { $0 = continuation } }
        return StoreReceipt(id: "receipt", wasAlreadyStored: false)
    }

    /// Lets the `store` waiting at the gate return.
    func open() -> Bool {
        guard let continuation = gate.withLock({ value -> CheckedContinuation<Void, Never>? in
            defer { value = nil }
            return value
        }) else { return false }
        continuation.resume()
        return true
    }
}

@Suite("Acknowledge after store", .timeLimit(.minutes(1)))
struct AcknowledgeAfterStoreTests {
    enum WireError: Error { case linkClosed }

    @Test("while store has not returned, no MID 0062 is sent; once it returns, one is")
    func acknowledgementWaitsForStore() async throws {
        let server = try await OpenProtocolChannels.listen(host: "127.0.0.1", port: 0)
        let port = try #require(server.channel.localAddress?.port)
        let sink = GatedSink()
        var configuration = OpenProtocolClient.Configuration(host: "127.0.0.1", port: port)
        configuration.resultRevision = 1
        let client = OpenProtocolClient(configuration: configuration, sink: sink, logger: Logger(label: "test")) { _, _ in true }
        let clientTask = Task { try await client.run() }
        defer { clientTask.cancel() }

        try await server.executeThenClose { connections in
            var iterator = connections.makeAsyncIterator()
            let connection = try #require(try await iterator.next())
            try await connection.executeThenClose { inbound, outbound in
                var frames = inbound.makeAsyncIterator()
                func nextMID() async throws -> Int {
                    while let output = try await frames.next() {
                        if case .frame(let frame) = output { return frame.mid }
                    }
                    throw WireError.linkClosed
                }
                func send(_ bytes: [UInt8]) async throws { try await outbound.write(ByteBuffer(bytes: bytes)) }
                #expect(try await nextMID() == 1)
                try await send(OpenProtocolEncoder.communicationStartAcknowledge(cellID: 1, channelID: 1, controllerName: "gate"))
                #expect(try await nextMID() == 60)
                try await send(OpenProtocolEncoder.commandAccepted(mid: 60))
                // Subscribed, the client asks for the tool's identity (MID 0040); this controller has none to give.
                #expect(try await nextMID() == 40)
                try await send(OpenProtocolEncoder.commandError(mid: 40, errorCode: 99))
                var result = TighteningResult()
                result.tighteningID = "0000000001"
                result.status = .ok
                // From here a reader notes every MID that arrives, and whether the gate was open.
                let gateOpened = GateFlag()
                let arrivals = Arrivals()
                let reader = Task { [frames] in
                    var frames = frames
                    while let output = try await frames.next() {
                        if case .frame(let frame) = output { arrivals.append(frame.mid, gateOpened: gateOpened.isSet) }
                    }
                }
                defer { reader.cancel() }
                try await send(try #require(OpenProtocolEncoder.tighteningResult(result, revision: 1)))
                while sink.storeCalls.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(10)) }
                try await Task.sleep(for: .milliseconds(500))
                #expect(arrivals.list.isEmpty, "sent while store had not returned: \(arrivals.list)")
                gateOpened.set()
                #expect(sink.open())
                while arrivals.list.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
                #expect(arrivals.list.first?.mid == 62)
                #expect(arrivals.list.first?.gateOpened == true)
            }
        }
    }
}

final class GateFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

final class Arrivals: Sendable {
    private let items = Mutex<[(mid: Int, gateOpened: Bool)]>([])
    var list: [(mid: Int, gateOpened: Bool)] { items.withLock { $0 } }
    func append(_ mid: Int, gateOpened: Bool) { items.withLock { $0.append((mid, gateOpened)) } }
}
