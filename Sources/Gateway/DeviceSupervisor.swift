import DeviceIO
public import FloorgateCore
public import Logging
import DeviceProtocols
import Foundation
import Glibc
public import NIOCore
import NIOPosix

/// Where a device's node is found.
public enum NodeLocator: Sendable, Hashable, CustomStringConvertible {
    /// A fixed path, or a stable `/dev/floorgate/…` link made by the udev rules.
    case path(String)
    /// The tty, hidraw or usbfs node of the USB device with this serial number, looked up with udev
    /// each time the device is opened: it is found again whatever port it is plugged into.
    case usbSerial(String, subsystem: String)

    /// The node to open now, or nil when no such device is plugged in.
    public func resolve() -> String? {
        switch self {
        case .path(let path):
            return path
        case .usbSerial(let serial, let subsystem):
            let devices = (try? Udev.devices(subsystems: [subsystem])) ?? []
            return devices.first { $0.node != nil && $0.properties["ID_SERIAL_SHORT"] == serial }?.node
        }
    }

    public var description: String {
        switch self {
        case .path(let path): path
        case .usbSerial(let serial, let subsystem): "the \(subsystem) device with USB serial \(serial)"
        }
    }
}

/// A device the station runs on a node: its name in the station configuration, its profile
/// (serial, hidraw or usb transport) and where its node is.
public struct NodeStationDevice: Sendable {
    public var name: String
    public var profile: DeviceProfile
    public var node: NodeLocator

    public init(name: String, profile: DeviceProfile, node: NodeLocator) {
        self.name = name
        self.profile = profile
        self.node = node
    }
}

/// Keeps one device running: opens it with its profile's transport (a serial port with its line
/// settings; a hidraw node, holding the interface's keyboard exclusively when the profile says
/// `capture`; a USB interface through libusb), decodes what it sends, writes its poll command when
/// (and only when) the profile has one, notices the device going away and opens it again when it
/// is back, with backoff.
///
/// Each connection's decoded events go to a handler made for it (`run(reader:)`), on the event
/// loop that read them; a handler that holds reads slows the device (the kernel keeps the bytes).
/// The link's state comes out of `statuses`: `connected` when it opens, `lost` when it goes or
/// cannot be opened. A frame cut by an unplug reaches the handler as
/// `incomplete frame at end of input`, never glued to the next frame.
public struct DeviceSupervisor: Sendable {
    public let device: NodeStationDevice
    public let backoff: Backoff
    /// The link's state changes, in order; ends when `run` returns.
    public let statuses: AsyncStream<DeviceStatus>
    private let status: AsyncStream<DeviceStatus>.Continuation
    private let logger: Logger

    public init(device: NodeStationDevice, backoff: Backoff = Backoff(), logger: Logger) {
        self.device = device
        self.backoff = backoff
        (statuses, status) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(64))
        var logger = logger
        logger[metadataKey: "device"] = "\(device.name)"
        logger[metadataKey: "node"] = "\(device.node)"
        self.logger = logger
    }

    /// Runs until the task is cancelled; `reader` makes the handler of each connection's events
    /// (called on the connection's event loop).
    public func run(reader: @escaping @Sendable () -> any ChannelHandler) async {
        defer { status.finish() }
        var delay = backoff.initial
        var lastFailure: DeviceOpenError?
        while !Task.isCancelled {
            let opened: OpenedDevice
            do {
                opened = try await open()
            } catch {
                if error != lastFailure {
                    logger.warning("cannot open the device; retrying", metadata: ["reason": "\(error)"])
                    status.yield(DeviceStatus(state: .lost, message: error.description))
                    lastFailure = error
                }
                try? await Task.sleep(for: delay)
                delay = backoff.next(after: delay)
                continue
            }
            lastFailure = nil
            logger.info("connected", metadata: ["as": "\(opened.description)"])
            status.yield(DeviceStatus(state: .connected, message: opened.description))
            let connectedAt = ContinuousClock.now
            let reason = await readUntilGone(opened, reader: reader)
            withExtendedLifetime(opened.grabs) {}  // the keyboard is held until here
            if let released = opened.released {
                // A USB interface is given back before it is opened again, and before the gateway
                // exits: the kernel re-attaches a driver that was set aside only when libusb
                // releases the interface, not when the process ends. Waited on in a task of its
                // own, since iterating a stream in this (cancelled, on shutdown) task would
                // return at once; the pump notices the closed channel within 100 ms.
                await Task { for await _ in released {} }.value
            }
            if Task.isCancelled {
                logger.info("stopped")
                return
            }
            logger.warning("device lost", metadata: ["reason": "\(reason)"])
            status.yield(DeviceStatus(state: .lost, message: "\(device.node): \(reason)"))
            // A device that opens but fails at once (a USB endpoint that keeps stalling) is
            // retried with backoff, not in a tight loop.
            if ContinuousClock.now - connectedAt < .seconds(1) {
                try? await Task.sleep(for: delay)
                delay = backoff.next(after: delay)
            } else {
                delay = backoff.initial
            }
        }
    }

    /// A device opened for reading: its descriptor (owned by the channel from then on), its
    /// decoder, the largest read, what to show, and the evdev grabs held while it is read.
    private struct OpenedDevice {
        var descriptor: Int32
        var decoder: any DeviceDecoder
        var readSize: Int
        var description: String
        var grabs: [EvdevGrab]
        /// For a USB interface: ends once it is released.
        var released: AsyncStream<Void>? = nil
    }

    private func open() async throws(DeviceOpenError) -> OpenedDevice {
        let profile = device.profile
        guard let path = device.node.resolve() else { throw DeviceOpenError(path: device.node.description, reason: .missing) }
        switch profile.transport {
        case .serial(let settings):
            let descriptor = try SerialPort.open(path: path, settings: settings)
            return OpenedDevice(descriptor: descriptor, decoder: profile.makeDecoder(), readSize: 64, description: "\(path) \(settings.summary)", grabs: [])
        case .hidraw(let capture):
            let hid = try HIDRawPort.open(path: path)
            var options = profile.decoderOptions
            options.hidReportLayout = hid.reportDescriptor.scannerReportLayout ?? options.hidReportLayout
            let grabs: [EvdevGrab]
            do {
                grabs = capture ? try EvdevGrab.grab(hidrawPath: path) : []
            } catch {
                close(hid.descriptor)
                throw error
            }
            let ids = String(format: "%04x:%04x", hid.vendorID, hid.productID)
            let held = grabs.isEmpty ? "" : ", keyboard held (\(grabs.map(\.eventNode).joined(separator: ", ")))"
            // One input report per read; 4096 bytes never cut one.
            return OpenedDevice(
                descriptor: hid.descriptor, decoder: profile.protocolEntry.makeDecoder(options), readSize: 4096,
                description: "\(path) \(hid.name) \(ids)\(held)", grabs: grabs)
        case .usb(let settings):
            let usb = try await Self.openOffThePool(path: path, settings: settings, writes: profile.poll != nil)
            var options = profile.decoderOptions
            options.hidReportLayout = usb.hidReportDescriptor?.scannerReportLayout ?? options.hidReportLayout
            // One transfer per read: the socket keeps the device's packet boundaries.
            return OpenedDevice(
                descriptor: usb.descriptor, decoder: profile.protocolEntry.makeDecoder(options), readSize: usb.readSize,
                description: "\(path) \(usb.description)", grabs: [], released: usb.released)
        case .tcp:
            throw DeviceOpenError(path: path, reason: .notATerminal)
        }
    }

    /// Opens a USB interface on NIO's thread pool: claiming it and asking a HID interface for its
    /// report descriptor are blocking USB transfers, which must not hold a cooperative thread.
    private static func openOffThePool(path: String, settings: USBInterfaceSettings, writes: Bool) async throws(DeviceOpenError) -> USBInterfaceDevice {
        let result: Result<USBInterfaceDevice, DeviceOpenError>
        do {
            result = try await NIOThreadPool.singleton.runIfActive {
                Result { () throws(DeviceOpenError) in try USBInterfacePort.open(path: path, settings: settings, writes: writes) }
            }
        } catch {
            throw DeviceOpenError(path: path, reason: .usb(detail: "cannot open now: \(error)"))
        }
        return try result.get()
    }

    /// Reads one connection to its end; returns why it ended.
    private func readUntilGone(_ opened: OpenedDevice, reader: @escaping @Sendable () -> any ChannelHandler) async -> String {
        let channel: DeviceChannel
        do {
            channel = try await DeviceChannel.open(descriptor: opened.descriptor, decoder: opened.decoder, readSize: opened.readSize, consumer: reader)
        } catch {
            close(opened.descriptor)  // NIO owns the descriptor only once the channel exists
            return "cannot read: \(error)"
        }
        let failure = await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                if let poll = device.profile.poll {
                    group.addTask {
                        while !Task.isCancelled {
                            do {
                                try await channel.write(poll.command)
                            } catch {
                                channel.close()  // the device is gone; the read side says why
                                return
                            }
                            try? await Task.sleep(for: .milliseconds(poll.periodMilliseconds))
                        }
                    }
                }
                let failure = await channel.ended()
                group.cancelAll()
                return failure
            }
        } onCancel: {
            channel.close()
        }
        return failure ?? (Task.isCancelled ? "stopped" : "unplugged (the node hung up)")
    }
}
