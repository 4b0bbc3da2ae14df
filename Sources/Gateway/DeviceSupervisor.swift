public import DeviceIO
public import FloorgateCore
public import Logging
import NIOCore

/// A serial device the station runs: its name in the station configuration, its profile and
/// the node to open (a fixed path, or a stable `/dev/floorgate/…` symlink).
public struct SerialStationDevice: Sendable {
    public var name: String
    public var profile: DeviceProfile
    public var path: String
    public var settings: SerialSettings

    public init(name: String, profile: DeviceProfile, path: String, settings: SerialSettings) {
        self.name = name
        self.profile = profile
        self.path = path
        self.settings = settings
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

/// Keeps one serial device running: opens it with its profile's settings, decodes what it
/// sends, writes its poll command when (and only when) the profile has one, notices the device
/// going away and opens it again when it is back, with backoff.
///
/// Everything it sees is reported in order through `report`, which it awaits: a slow consumer
/// slows the reads (the kernel keeps the bytes), so nothing piles up in memory. `connected`
/// and `lost` status events mark the link; a frame cut by an unplug is reported as
/// `incomplete frame at end of input`, never glued to the next frame.
public struct DeviceSupervisor: Sendable {
    public let device: SerialStationDevice
    public let backoff: Backoff
    private let logger: Logger

    public init(device: SerialStationDevice, backoff: Backoff = Backoff(), logger: Logger) {
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
            let descriptor: Int32
            do {
                descriptor = try SerialPort.open(path: device.path, settings: device.settings)
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
            logger.info("connected", metadata: ["settings": "\(device.settings.summary)"])
            await report(Self.status(.connected, "\(device.path) \(device.settings.summary)"))
            let reason = await readUntilGone(descriptor: descriptor, report: report)
            if Task.isCancelled {
                logger.info("stopped")
                return
            }
            logger.warning("device lost", metadata: ["reason": "\(reason)"])
            await report(Self.status(.lost, "\(device.path): \(reason)"))
        }
    }

    /// Reads one connection to its end; returns why it ended.
    private func readUntilGone(descriptor: Int32, report: @escaping @Sendable (ReadEvent) async -> Void) async -> String {
        let channel: DeviceChannel
        do {
            channel = try await DeviceChannel.open(descriptor: descriptor, decoder: device.profile.makeDecoder())
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
                    return Task.isCancelled ? "stopped" : "unplugged (the port hung up)"
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
