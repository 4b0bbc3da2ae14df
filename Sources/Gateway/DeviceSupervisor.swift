public import DeviceIO
public import FloorgateCore
public import Logging
import DeviceProtocols
import Foundation
import Glibc
import NIOCore

/// A device the station runs on a node: its name in the station configuration, its profile
/// (serial or hidraw transport) and the node to open (a fixed path, or a stable
/// `/dev/floorgate/…` link).
public struct NodeStationDevice: Sendable {
    public var name: String
    public var profile: DeviceProfile
    public var path: String

    public init(name: String, profile: DeviceProfile, path: String) {
        self.name = name
        self.profile = profile
        self.path = path
    }
}

/// How long to wait before opening a device again: doubling from `initial` up to `maximum`,
/// back to `initial` once the device opened.
public struct Backoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(5)) {
        self.initial = initial
        self.maximum = maximum
    }

    func next(after delay: Duration) -> Duration { min(delay * 2, maximum) }
}

/// Keeps one device running: opens it with its profile's transport (a serial port with its line
/// settings; a hidraw node, holding the interface's keyboard exclusively when the profile says
/// `capture`), decodes what it sends, writes its poll command when (and only when) the profile
/// has one, notices the device going away and opens it again when it is back, with backoff.
///
/// Everything it sees is reported in order through `report`, which it awaits: a slow consumer
/// slows the reads (the kernel keeps the bytes), so nothing piles up in memory. `connected`
/// and `lost` status events mark the link; a frame cut by an unplug is reported as
/// `incomplete frame at end of input`, never glued to the next frame.
public struct DeviceSupervisor: Sendable {
    public let device: NodeStationDevice
    public let backoff: Backoff
    private let logger: Logger

    public init(device: NodeStationDevice, backoff: Backoff = Backoff(), logger: Logger) {
        self.device = device
        self.backoff = backoff
        var logger = logger
        logger[metadataKey: "device"] = "\(device.name)"
        logger[metadataKey: "path"] = "\(device.path)"
        self.logger = logger
    }

    /// Runs until the task is cancelled.
    public func run(report: @escaping @Sendable (ReadEvent) async -> Void) async {
        var delay = backoff.initial
        var lastFailure: DeviceOpenError?
        while !Task.isCancelled {
            let opened: OpenedDevice
            do {
                opened = try open()
            } catch {
                if error != lastFailure {
                    logger.warning("cannot open the device; retrying", metadata: ["reason": "\(error)"])
                    await report(Self.status(.lost, error.description))
                    lastFailure = error
                }
                try? await Task.sleep(for: delay)
                delay = backoff.next(after: delay)
                continue
            }
            lastFailure = nil
            delay = backoff.initial
            logger.info("connected", metadata: ["as": "\(opened.description)"])
            await report(Self.status(.connected, opened.description))
            let reason = await readUntilGone(opened, report: report)
            withExtendedLifetime(opened.grabs) {}  // the keyboard is held until here
            if Task.isCancelled {
                logger.info("stopped")
                return
            }
            logger.warning("device lost", metadata: ["reason": "\(reason)"])
            await report(Self.status(.lost, "\(device.path): \(reason)"))
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
    }

    private func open() throws(DeviceOpenError) -> OpenedDevice {
        let profile = device.profile
        switch profile.transport {
        case .serial(let settings):
            let descriptor = try SerialPort.open(path: device.path, settings: settings)
            return OpenedDevice(descriptor: descriptor, decoder: profile.makeDecoder(), readSize: 64, description: "\(device.path) \(settings.summary)", grabs: [])
        case .hidraw(let capture):
            let hid = try HIDRawPort.open(path: device.path)
            var options = profile.decoderOptions
            options.hidReportLayout = hid.reportDescriptor.scannerReportLayout ?? options.hidReportLayout
            let grabs: [EvdevGrab]
            do {
                grabs = capture ? try EvdevGrab.grab(hidrawPath: device.path) : []
            } catch {
                close(hid.descriptor)
                throw error
            }
            let ids = String(format: "%04x:%04x", hid.vendorID, hid.productID)
            let held = grabs.isEmpty ? "" : ", keyboard held (\(grabs.map(\.eventNode).joined(separator: ", ")))"
            // One input report per read; 4096 bytes never cut one.
            return OpenedDevice(
                descriptor: hid.descriptor, decoder: profile.protocolEntry.makeDecoder(options), readSize: 4096,
                description: "\(device.path) \(hid.name) \(ids)\(held)", grabs: grabs)
        case .tcp:
            throw DeviceOpenError(path: device.path, reason: .notATerminal)
        }
    }

    /// Reads one connection to its end; returns why it ended.
    private func readUntilGone(_ opened: OpenedDevice, report: @escaping @Sendable (ReadEvent) async -> Void) async -> String {
        let channel: DeviceChannel
        do {
            channel = try await DeviceChannel.open(descriptor: opened.descriptor, decoder: opened.decoder, readSize: opened.readSize)
        } catch {
            return "cannot read: \(error)"
        }
        do {
            return try await channel.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    if let poll = device.profile.poll {
                        group.addTask {
                            while !Task.isCancelled {
                                try await outbound.write(ByteBuffer(bytes: poll.command))
                                try await Task.sleep(for: .milliseconds(poll.periodMilliseconds))
                            }
                        }
                    }
                    defer { group.cancelAll() }
                    for try await event in inbound {
                        await report(event)
                    }
                    return Task.isCancelled ? "stopped" : "unplugged (the node hung up)"
                }
            }
        } catch {
            return "read failed: \(error)"
        }
    }

    private static func status(_ state: DeviceState, _ message: String) -> ReadEvent {
        ReadEvent(event: .status(DeviceStatus(state: state, message: message), raw: RawBytes([])), readAt: MonotonicClock.nanoseconds())
    }
}
