import CDeviceShims
import Glibc
import Synchronization

/// A pseudo-terminal pair: the master end is the simulated device, the path of the slave end is
/// the serial port the gateway opens. `floorgate simulate` speaks through one, and tests use them
/// as real serial ports (termios calls succeed on them, and closing the master is a hang-up).
///
/// The pair starts in raw mode, so bytes written before the gateway opens the port reach it
/// unchanged (a fresh pty would turn CR into LF and hold a line until its end).
///
/// The pair also holds the slave open (never reading it) until it is released, so its number is
/// not given to the next pseudo-terminal made while a gateway that had this one may still open
/// the path again: after `hangUp` that open fails, as for an unplugged device, instead of
/// reaching another device (two readers of one port would each get part of its bytes).
public final class PseudoTerminal: Sendable {
    /// The master's descriptor: write here what the device sends, read what the gateway writes.
    public let master: Int32
    /// The slave's path (`/dev/pts/7`).
    public let path: String
    private let isOpen = Mutex(true)
    /// A descriptor of the slave, holding its number until `deinit`.
    private let reservation: Int32

    /// Errors creating the pair, with the failing call.
    public struct CreationError: Error, CustomStringConvertible {
        public var call: String
        public var errno: Int32
        public var description: String { "\(call) failed: \(String(cString: strerror(errno)))" }
    }

    public init() throws(CreationError) {
        var name = [CChar](repeating: 0, count: 128)
        let master = floorgate_open_pseudo_terminal(&name, name.count)
        guard master >= 0 else { throw CreationError(call: "posix_openpt", errno: errno) }
        var attributes = termios()
        tcgetattr(master, &attributes)
        cfmakeraw(&attributes)
        tcsetattr(master, TCSANOW, &attributes)
        self.master = master
        self.path = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        reservation = Glibc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard reservation >= 0 else {
            let failure = errno
            Glibc.close(master)
            throw CreationError(call: "open \(path)", errno: failure)
        }
    }

    /// Writes all of `bytes` to the master (the device speaking).
    public func send(_ bytes: [UInt8]) throws(CreationError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(master, $0.baseAddress.map { $0 + offset }, $0.count - offset) }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw CreationError(call: "write", errno: errno)
            }
            offset += written
        }
    }

    /// Reads what the other end wrote, waiting up to `timeoutMilliseconds` for the first byte;
    /// empty when nothing came (or the slave is not open).
    public func receive(timeoutMilliseconds: Int32) -> [UInt8] {
        var poller = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeoutMilliseconds) == 1, poller.revents & Int16(POLLIN) != 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(master, $0.baseAddress, $0.count) }
        return count > 0 ? Array(buffer[..<count]) : []
    }

    /// Closes the master: to whoever has the slave open, the device was unplugged.
    public func hangUp() {
        if isOpen.withLock({ open in defer { open = false }; return open }) {
            Glibc.close(master)
        }
    }

    deinit {
        hangUp()
        Glibc.close(reservation)
    }
}
