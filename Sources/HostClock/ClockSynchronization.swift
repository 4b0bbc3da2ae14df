import CDeviceShims
import Glibc

/// Whether this host's clock is kept right by a time source, as the kernel says: adjtimex(2)'s
/// state, read without privilege and without systemd (chrony, ntpd and systemd-timesyncd all set
/// it). Results and signatures carry the host's time, so a clock left to drift is shown to the
/// operator and, where the record is told to, stops signing.
public enum ClockSynchronization: Sendable, Equatable, CustomStringConvertible {
    case synchronized
    /// The kernel marks the clock unsynchronized: no time source is keeping it right.
    case unsynchronized
    /// The kernel could not be asked (the reason).
    case unknown(String)

    /// The clock's state now.
    public static func current() -> ClockSynchronization {
        switch floorgate_clock_synchronized() {
        case 1: .synchronized
        case 0: .unsynchronized
        default: .unknown("adjtimex failed: \(String(cString: strerror(errno)))")
        }
    }

    public var isSynchronized: Bool { self == .synchronized }

    public var description: String {
        switch self {
        case .synchronized: "synchronized"
        case .unsynchronized: "not synchronized (no time source keeps it right: check chrony or systemd-timesyncd)"
        case .unknown(let reason): "of unknown synchronization (\(reason))"
        }
    }
}
