import FloorgateCore
import NIOCore
import Foundation
import Synchronization
import RecordProtocol
import Testing
import WorkRecord

/// A client that floods the record without reading its answers holds a bounded number of
/// requests in the server; the rest wait in the kernel's buffers until it reads.
@Suite("The record server bounds what one connection may owe", .timeLimit(.minutes(3)))
struct ConnectionBoundsTests {
    @Test("a client pipelining 20,000 requests without reading its answers is not read further until it reads; then every one is answered")
    func unreadAnswersStopReading() async throws {
        let harness = try await RecordHarness()
        let client = harness.client()
        let total = 20_000
        // About 1 MB of requests: more than the socket's buffers hold, so the client's write can
        // finish only if the server reads on without being read from.
        let lines = (0..<total).map { #"{"jsonrpc":"2.0","id":\#($0),"method":"record.info"}"# + "\n" }.joined()
        let flooder = try RawSocket(path: harness.socketPath)
        // The write blocks once the server stops reading: on a thread of its own.
        let written = Mutex(false)
        let writer = Thread { flooder.write(Array(lines.utf8)); written.withLock { $0 = true } }
        writer.start()

        try await Task.sleep(for: .seconds(2))
        #expect(!written.withLock { $0 }, "the server read the whole flood although none of its answers was read")
        // Another client is served meanwhile.
        #expect(try await client.call("record.info")["audit_entries"] != nil)

        #expect(flooder.readLines(count: total) == total)
        #expect(written.withLock { $0 })
        try await harness.stop()
    }
}

extension ConnectionBoundsTests {
    @Test("one connection past the limit is told why (1061) and closed; once another closes, a new one is served")
    func connectionLimit() async throws {
        let harness = try await RecordHarness { $0.maximumConnections = 2 }
        let first = try RawSocket(path: harness.socketPath), second = try RawSocket(path: harness.socketPath)
        for connection in [first, second] {
            connection.write(Array(#"{"jsonrpc":"2.0","id":1,"method":"record.info"}"#.utf8) + [0x0A])
            #expect(connection.readLines(count: 1) == 1)
        }
        let third = try RawSocket(path: harness.socketPath)
        let refusal = third.readAll()
        #expect(refusal.contains(#""code":1061"#), "\(refusal)")
        first.close()
        try await Task.sleep(for: .milliseconds(200))
        let fourth = try RawSocket(path: harness.socketPath)
        fourth.write(Array(#"{"jsonrpc":"2.0","id":1,"method":"record.info"}"#.utf8) + [0x0A])
        #expect(fourth.readLines(count: 1) == 1)
        try await harness.stop()
    }

    @Test("a request line begun and not finished in time is answered 1062 and closed; a connection quiet between lines stays")
    func unfinishedLine() async throws {
        let harness = try await RecordHarness { $0.lineTimeout = .milliseconds(500) }
        let quiet = try RawSocket(path: harness.socketPath)
        quiet.write(Array(#"{"jsonrpc":"2.0","id":1,"method":"record.info"}"#.utf8) + [0x0A])
        #expect(quiet.readLines(count: 1) == 1)
        let slow = try RawSocket(path: harness.socketPath)
        slow.write(Array(#"{"jsonrpc":"2.0","id":1,"#.utf8))
        let started = ContinuousClock.now
        let answer = slow.readAll()
        #expect(answer.contains(#""code":1062"#), "\(answer)")
        #expect(ContinuousClock.now - started < .seconds(10))
        // The quiet connection, idle all this while, is still served.
        quiet.write(Array(#"{"jsonrpc":"2.0","id":2,"method":"record.info"}"#.utf8) + [0x0A])
        #expect(quiet.readLines(count: 1) == 1)
        try await harness.stop()
    }
}

/// A blocking Unix-socket client, for what the record's own client never does.
final class RawSocket: @unchecked Sendable {
    // @unchecked: the descriptor is written by one thread and read by another, as a socket allows.
    private let descriptor: Int32

    init(path: String) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { Glibc.close(descriptor) }

    /// Shuts the connection down (the descriptor is released with the object).
    func close() {
        shutdown(descriptor, Int32(SHUT_RDWR))
    }

    /// Everything the server sends until it closes the connection.
    func readAll() -> String {
        var received: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let read = Glibc.read(descriptor, &buffer, buffer.count)
            guard read > 0 else { break }
            received += buffer[..<read]
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Writes all of `bytes`, blocking while the server does not read.
    func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { return }
            offset += count
        }
    }

    /// Reads until `count` newlines have arrived (or the connection ends); returns how many did.
    func readLines(count: Int) -> Int {
        var seen = 0
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while seen < count {
            let read = Glibc.read(descriptor, &buffer, buffer.count)
            guard read > 0 else { break }
            seen += buffer[..<read].lazy.filter { $0 == UInt8(ascii: "\n") }.count
        }
        return seen
    }
}
