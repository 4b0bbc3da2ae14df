import Glibc

/// journald's socket for native entries (`/run/systemd/journal/socket`), one datagram an entry.
final class JournalSocket: Sendable {
    static let path = "/run/systemd/journal/socket"

    private let descriptor: Int32

    /// How long a line waits for journald to take it: its queue holds few datagrams (ten,
    /// without systemd's larger setting), and a burst of lines must wait their turn, not lose
    /// their fields; a journald that does not read within this time is not waited for.
    static let sendTimeout = timeval(tv_sec: 1, tv_usec: 0)

    /// A datagram socket for the journal, or nil when the system cannot make one.
    init?() {
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        var timeout = Self.sendTimeout
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    /// Sends one entry, waiting at most `sendTimeout` for room; false when journald did not take
    /// it (no journal here, an entry larger than a datagram, journald stalled), so the caller
    /// can write it elsewhere.
    func send(_ datagram: [UInt8]) -> Bool {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            for (index, byte) in Self.path.utf8.enumerated() { path[index] = byte }
        }
        let sent = datagram.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
        return sent == datagram.count
    }
}
