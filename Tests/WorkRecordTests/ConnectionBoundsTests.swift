import FloorgateCore
import Foundation
import Synchronization
import RecordProtocol
import Testing
import WorkRecord

/// A client that floods the record without reading its answers holds a bounded number of
/// requests in the server; the rest wait in the kernel's buffers until it reads.
@Suite("The record server bounds what one connection may owe", .timeLimit(.minutes(3)))
struct ConnectionBoundsTests {
    @Test("a client pipelining 4,000 writes without reading gets a few hundred served, then all of them once it reads")
    func unreadAnswersStopReading() async throws {
        let (harness, client) = try await RecordHarness.approvedExample()
        let open = try await client.call("build.open", withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"]))
        let buildID = try #require(open["build_id"]?.integerValue)
        let total = 4_000
        let lines = (0..<total).map { index in
            RecordMessage.line(RecordMessage.request(
                id: Int64(index), method: "nc.raise",
                params: withKey(["build_id": .integer(buildID), "description": .string("flood \(index)"), "raised_by": "olga"])))
        }.joined()
        let flooder = try RawSocket(path: harness.socketPath)
        // The write blocks once the server stops reading: on a thread of its own.
        let written = Mutex(false)
        let writer = Thread { flooder.write(Array(lines.utf8)); written.withLock { $0 = true } }
        writer.start()

        try await Task.sleep(for: .seconds(2))
        let served = try await harness.count("SELECT COUNT(*) FROM nonconformance")
        #expect(served > 0 && served < 1_000, "served \(served) of \(total) while the client read nothing")
        #expect(!written.withLock { $0 }, "the server read the whole flood without it being answered")

        // Another client is served meanwhile.
        #expect(try await client.call("record.info")["audit_entries"] != nil)

        let answers = flooder.readLines(count: total)
        #expect(answers == total)
        #expect(try await harness.count("SELECT COUNT(*) FROM nonconformance") == total)
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

    deinit { close(descriptor) }

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
