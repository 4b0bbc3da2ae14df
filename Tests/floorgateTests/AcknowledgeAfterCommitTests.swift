import DeviceIO
import DeviceProtocols
import FloorgateCore
import Foundation
import GRDB
import NIOCore
import Testing

/// The wire seen from the controller's side: this test plays the controller itself (so it does
/// not share code paths with the simulator) and, at every MID 0062 it receives, reads the
/// collector's journal to prove the acknowledged result was already committed.
@Suite("Acknowledge after commit", .timeLimit(.minutes(5)), .serialized)
struct AcknowledgeAfterCommitTests {
    enum WireError: Error { case linkClosed, unexpected(Int) }

    @Test("no MID 0062 precedes the commit of its result; a result sent again is stored once")
    func acknowledgementFollowsCommit() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let journalPath = scratch.path("results.sqlite")
        let server = try await OpenProtocolChannels.listen(host: "127.0.0.1", port: 0)
        let port = try #require(server.channel.localAddress?.port)
        let collector = try FloorgateChild(["collect", "open-protocol", "--controller", "127.0.0.1:\(port)",
                                            "--database", journalPath, "--stop-after", "25"])
        var acknowledgements = 0
        try await server.executeThenClose { connections in
            var conversed = false
            for try await connection in connections {
                // A connection the collector opened again after the conversation (a reconnect
                // under load): closed unused, as every accepted channel must be.
                guard !conversed else {
                    try await connection.executeThenClose { _, _ in }
                    continue
                }
                conversed = true
                // A failed conversation is recorded, not thrown: leaving this loop with an accepted
                // connection still queued would end the test process (NIO traps on it).
                do {
                try await connection.executeThenClose { inbound, outbound in
                    var frames = inbound.makeAsyncIterator()
                    func nextFrame() async throws -> OpenProtocolFrame {
                        while let output = try await frames.next() {
                            guard case .frame(let frame) = output else { continue }
                            if frame.mid == 9999 {
                                try await outbound.write(ByteBuffer(bytes: OpenProtocolEncoder.keepAlive()))
                                continue
                            }
                            return frame
                        }
                        throw WireError.linkClosed
                    }
                    func send(_ bytes: [UInt8]) async throws { try await outbound.write(ByteBuffer(bytes: bytes)) }

                    var frame = try await nextFrame()
                    #expect(frame.mid == 1)
                    try await send(OpenProtocolEncoder.communicationStartAcknowledge(cellID: 7, channelID: 1, controllerName: "wire check"))
                    frame = try await nextFrame()
                    while frame.mid == 60 && frame.revision > 3 {
                        try await send(OpenProtocolEncoder.commandError(mid: 60, errorCode: 74))
                        frame = try await nextFrame()
                    }
                    #expect(frame.mid == 60 && frame.revision == 3)
                    try await send(OpenProtocolEncoder.commandAccepted(mid: 60))
                    // Subscribed, the collector asks for the tool's identity (MID 0040).
                    #expect(try await nextFrame().mid == 40)
                    try await send(OpenProtocolEncoder.toolData(ToolIdentity(serial: "T-1", tightenings: 5, calibratedOn: "2026-10-01"), controllerSerial: "C-1"))
                    // Result 10 is sent twice, as a controller does when an acknowledgement was lost.
                    for id in Array(1...10) + Array(10...25) {
                        try await send(try #require(OpenProtocolEncoder.tighteningResult(Self.result(id), revision: 3)))
                        let reply = try await nextFrame()
                        guard reply.mid == 62 else { throw WireError.unexpected(reply.mid) }
                        acknowledgements += 1
                        let stored = try JournalContents(path: journalPath).tighteningIDs
                        #expect(stored.contains(id), "MID 0062 for tightening \(id) arrived before its commit")
                    }
                }
                } catch {
                    Issue.record("the conversation with the collector failed: \(error); the collector's log: \(collector.standardError.suffix(3000))")
                }
                // No more connections are taken; those already accepted are closed by the loop.
                try? await server.channel.close().get()
            }
        }
        let status = await collector.wait(timeout: .seconds(30))
        #expect(status == 0, "the collector's log: \(collector.standardError.suffix(3000))")
        #expect(acknowledgements == 26)
        #expect(try JournalContents(path: journalPath).tighteningIDs == Array(1...25))
    }

    static func result(_ id: Int) -> TighteningResult {
        var result = TighteningResult()
        result.tighteningID = String(format: "%010d", id)
        result.status = .ok
        result.torque = ExactDecimal(Int64(1200 + id), scale: 2)
        result.torqueUnit = .newtonMetre
        result.angle = ExactDecimal(45, scale: 0)
        result.resultType = .tightening
        return result
    }
}
