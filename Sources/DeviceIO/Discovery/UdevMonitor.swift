import CUdev
import Foundation
import Glibc
import Synchronization

/// A device added, removed or changed.
public struct DeviceChange: Sendable, Hashable {
    /// `add`, `remove`, `change`, `bind`, `unbind`.
    public var action: String
    public var device: DiscoveredDevice

    public init(action: String, device: DiscoveredDevice) {
        self.action = action
        self.device = device
    }
}

/// Follows devices coming and going (libudev monitor), on its own thread.
///
/// The `udev` source delivers events after udevd applied its rules (properties, links,
/// permissions in place); where no udevd runs (a container, an initramfs) the `kernel` source
/// delivers the kernel's own uevents, with sysfs attributes but without udev's properties.
public final class UdevMonitor: Sendable {
    public enum Source: String, Sendable, Hashable {
        case udev, kernel

        /// `udev` where udevd runs (its control socket exists), else `kernel`.
        public static var available: Source {
            access("/run/udev/control", F_OK) == 0 ? .udev : .kernel
        }
    }

    public let source: Source
    /// The changes, in the order the kernel or udevd sent them, until ``stop()``.
    public let changes: AsyncStream<DeviceChange>
    private let wake: (read: Int32, write: Int32)
    private let stopped = Mutex(false)

    /// The libudev context and monitor, used by the monitor's thread only once it runs.
    private struct Handles: @unchecked Sendable {
        let udev: OpaquePointer
        let monitor: OpaquePointer
    }

    /// Starts following `subsystems` (`tty`, `hidraw`, `usb`).
    public init(subsystems: [String], source: Source = .available) throws(UdevError) {
        guard let udev = udev_new() else { throw UdevError(call: "udev_new") }
        guard let monitor = udev_monitor_new_from_netlink(udev, source.rawValue) else {
            udev_unref(udev)
            throw UdevError(call: "udev_monitor_new_from_netlink(\(source.rawValue))")
        }
        for subsystem in subsystems { udev_monitor_filter_add_match_subsystem_devtype(monitor, subsystem, nil) }
        var pipeEnds: [Int32] = [0, 0]
        guard udev_monitor_enable_receiving(monitor) >= 0, pipe(&pipeEnds) == 0 else {
            udev_monitor_unref(monitor)
            udev_unref(udev)
            throw UdevError(call: "udev_monitor_enable_receiving")
        }
        self.source = source
        wake = (pipeEnds[0], pipeEnds[1])
        let (changes, continuation) = AsyncStream<DeviceChange>.makeStream()
        self.changes = changes
        let handles = Handles(udev: udev, monitor: monitor)
        let wakeRead = wake.read
        Thread.detachNewThread {
            Self.follow(handles, wake: wakeRead, continuation: continuation)
        }
    }

    /// Stops following; `changes` ends.
    public func stop() {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        if first {
            var byte: UInt8 = 1
            _ = write(wake.write, &byte, 1)
        }
    }

    deinit {
        stop()
        close(wake.write)
    }

    private static func follow(_ handles: Handles, wake: Int32, continuation: AsyncStream<DeviceChange>.Continuation) {
        defer {
            udev_monitor_unref(handles.monitor)
            udev_unref(handles.udev)
            close(wake)
            continuation.finish()
        }
        var descriptors = [
            pollfd(fd: udev_monitor_get_fd(handles.monitor), events: Int16(POLLIN), revents: 0),
            pollfd(fd: wake, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            guard poll(&descriptors, 2, -1) >= 0 || errno == EINTR else { return }
            if descriptors[1].revents != 0 { return }
            guard descriptors[0].revents & Int16(POLLIN) != 0 else { continue }
            guard let device = udev_monitor_receive_device(handles.monitor) else { continue }
            let action = udev_device_get_action(device).map { String(cString: $0) } ?? "change"
            continuation.yield(DeviceChange(action: action, device: Udev.discovered(device)))
            udev_device_unref(device)
        }
    }
}
