import Glibc

/// The systemd notification protocol (`sd_notify`): a datagram to `$NOTIFY_SOCKET` saying the
/// service is ready, stopping, or alive (watchdog). Without `NOTIFY_SOCKET` (not started by
/// systemd with `Type=notify`) every call does nothing.
public struct ServiceManager: Sendable {
    private let socketPath: String?

    public init(environment: [String: String]) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `READY=1`: the service is up.
    public func ready(status: String) { send("READY=1\nSTATUS=\(status)") }
    /// `STOPPING=1`: the service is shutting down.
    public func stopping() { send("STOPPING=1") }
    /// `WATCHDOG=1`: the service is alive.
    public func watchdog() { send("WATCHDOG=1") }

    /// How often to send `WATCHDOG=1`: half the interval systemd set in `WATCHDOG_USEC`.
    public static func watchdogInterval(environment: [String: String]) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = Int64(text), microseconds > 0 else { return nil }
        return .microseconds(microseconds / 2)
    }

    private func send(_ message: String) {
        guard let socketPath else { return }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }  // an abstract socket
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let bytes = Array(message.utf8)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bytes.withUnsafeBytes { sendto(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), address, length) }
            }
        }
    }
}
