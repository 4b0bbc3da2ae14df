import FloorgateCore
import Foundation
import Glibc
import Logging
import Synchronization
import RecordProtocol
import Testing

/// The gateway's record client against a record that takes requests and never answers.
/// A listening Unix socket in the temporary directory, closed and removed when released.
final class UnixListener: Sendable {
    let path: String
    let descriptor: Int32

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("floorgate-peer-\(UUID().uuidString.prefix(8)).sock").path
        descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
        }
        let descriptor = descriptor
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        try #require(bound == 0 && listen(descriptor, 8) == 0)
    }

    deinit {
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
        unlink(path)
    }
}

@Suite("Record client", .timeLimit(.minutes(1)))
struct RecordClientTests {
    /// A Unix socket server that accepts connections and reads what comes, saying nothing back;
    /// it counts the connections and the ones the client closed.
    final class SilentRecord: Sendable {
        private let listener: UnixListener
        var path: String { listener.path }
        /// Connections accepted, and those the client then closed.
        let counts = Mutex<(accepted: Int, closedByClient: Int)>((0, 0))

        init() throws {
            listener = try UnixListener()
            Thread.detachNewThread { [self] in serve() }
        }

        private func serve() {
            while true {
                let connection = accept(listener.descriptor, nil, nil)
                guard connection >= 0 else { return }
                counts.withLock { $0.accepted += 1 }
                Thread.detachNewThread { [self] in
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    while read(connection, &buffer, buffer.count) > 0 {}
                    counts.withLock { $0.closedByClient += 1 }
                    close(connection)
                }
            }
        }

    }

    @Test("a record that never answers fails the call as unreachable after the timeout, and the stuck connection is closed")
    func silentRecord() async throws {
        let record = try SilentRecord()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let client = RecordClient(socketPath: record.path, answerTimeout: .milliseconds(300), logger: logger)
        let started = ContinuousClock.now
        let answers = await client.pipeline([("build.get", ["build_id": 1]), ("build.get", ["build_id": 2])])
        let waited = ContinuousClock.now - started
        for answer in answers {
            guard case .failure(let error) = answer else { Issue.record("answered: \(answer)"); continue }
            #expect(error.isTransient && error.description.contains("no answer within"), "\(error)")
        }
        #expect(waited >= .milliseconds(300) && waited < .seconds(60), "waited \(waited): it fails, it does not hang")
        let deadline = ContinuousClock.now + .seconds(5)
        while record.counts.withLock({ $0.closedByClient }) < 1 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(record.counts.withLock { $0.closedByClient } == 1, "the stuck connection was closed")
        // The next call makes a new connection rather than queueing behind the stuck one.
        _ = try? await client.call("build.get", ["build_id": 3])
        #expect(record.counts.withLock { $0.accepted } == 2)
    }

    /// A Unix socket peer that reads `expecting` request lines, then sends back what `reply`
    /// makes of them, all at once.
    final class ScriptedRecord: Sendable {
        private let listener: UnixListener
        var path: String { listener.path }

        init(expecting count: Int, reply: @escaping @Sendable ([JSONValue]) -> String) throws {
            listener = try UnixListener()
            let listening = listener.descriptor
            Thread.detachNewThread {
                let connection = accept(listening, nil, nil)
                guard connection >= 0 else { return }
                var received: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                while received.filter({ $0 == UInt8(ascii: "\n") }).count < count {
                    let got = read(connection, &buffer, buffer.count)
                    guard got > 0 else { return }
                    received += buffer[..<got]
                }
                let requests = received.split(separator: UInt8(ascii: "\n")).compactMap { try? JSONValue(parsing: Array($0)) }
                let answer = Array(reply(requests).utf8)
                _ = answer.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
                while read(connection, &buffer, buffer.count) > 0 {}
                close(connection)
            }
        }

    }

    @Test("answers are matched by id whatever their order; refusals carry the record's code; notifications between answers go to the notification stream")
    func answersMatchedById() async throws {
        let record = try ScriptedRecord(expecting: 3) { requests in
            let ids = requests.map { $0["id"] ?? .null }
            return [
                RecordMessage.error(.internalError, "record database unreachable: gone", id: ids[2]),
                RecordMessage.notification(RecordNotification(method: RecordNotification.stepChanged, params: ["build_id": 7])),
                RecordMessage.error(.openElsewhere, "SN-1 is open at bench-7", id: ids[1]),
                RecordMessage.result(["method": requests[0]["method"] ?? .null], id: ids[0]),
            ].map(RecordMessage.line).joined()
        }
        let client = RecordClient(socketPath: record.path, answerTimeout: .seconds(30))
        let answers = await client.pipeline([(.buildGet, ["build_id": 1]), (.buildOpen, ["serial": "SN-1"]), (.recordInfo, [:])])
        #expect(try answers[0].get()["method"] == "build.get")
        #expect(answers[1].failure?.code == .openElsewhere && answers[1].failure?.isTransient == false)
        #expect(answers[1].failure?.description == "SN-1 is open at bench-7 (record error 1016)")
        #expect(answers[2].failure?.code == .internalError && answers[2].failure?.isTransient == true)
        var notifications = client.notifications.makeAsyncIterator()
        #expect(await notifications.next() == RecordNotification(method: "step.changed", params: ["build_id": 7]))
    }

    @Test("a client following notifications marks each connection and its loss on the notification stream")
    func connectionMarkers() async throws {
        let listener = try UnixListener()
        // The record takes the connection, reads the subscription, and goes away.
        Thread.detachNewThread {
            let connection = accept(listener.descriptor, nil, nil)
            guard connection >= 0 else { return }
            var buffer = [UInt8](repeating: 0, count: 4096)
            _ = read(connection, &buffer, buffer.count)
            close(connection)
        }
        let client = RecordClient(socketPath: listener.path, answerTimeout: .seconds(5), followsNotifications: true)
        _ = try? await client.call(.recordInfo, [:])
        var notifications = client.notifications.makeAsyncIterator()
        #expect(await notifications.next()?.method == RecordNotification.connected)
        #expect(await notifications.next()?.method == RecordNotification.disconnected)
        withExtendedLifetime(listener) {}
    }

    @Test("a raw line is sent as it is and its answer returned whatever its id")
    func rawExchange() async throws {
        let record = try ScriptedRecord(expecting: 1) { requests in
            RecordMessage.line(RecordMessage.error(.parseError, "the line is not JSON", id: .null))
                + RecordMessage.line(["jsonrpc": "2.0", "id": "mine", "result": .integer(Int64(requests.count))])
        }
        let client = RecordClient(socketPath: record.path, answerTimeout: .seconds(30))
        #expect(try await client.exchange(rawLine: "{not json")["error"]?["code"] == -32700)
        #expect(try await client.nextRawAnswer()["id"] == "mine")
    }
}

extension Result {
    /// The error, if this is a failure.
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { error } else { nil }
    }
}
