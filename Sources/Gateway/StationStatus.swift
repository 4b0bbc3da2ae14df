public import FloorgateCore
public import Foundation
import CoreMetrics
import HostClock
public import RecordProtocol
import Synchronization

/// What the running gateway is doing, as `floorgate status` shows a technician: each device's
/// link and its last reading, the outbox's depth and its oldest waiting result, whether the
/// record answers, the clock; and what of it needs attention. Devices are followed through the
/// station's events; the rest is asked for at each report.
public final class StationStatus: Sendable {
    /// A result waiting longer than this for the record needs attention.
    public static let patience: TimeInterval = 60

    private struct Device {
        var name: String
        var state: DeviceState?
        var message = "not opened yet"
        var lastReading: Date?
        /// What the calibration register says of it, when not in order.
        var calibration: String?
        /// A commanded tool's state.
        var tool: String?
    }

    private let station: String
    /// In the configuration's order. Changed by each device event, read by each report: a lock
    /// held for a moment, not an actor hop per event.
    private let devices: Mutex<[Device]>

    public init(station: String, deviceNames: [String]) {
        self.station = station
        devices = Mutex(deviceNames.map { Device(name: $0) })
    }

    /// Follows one of the station's events.
    public func apply(_ event: StationEvent) {
        switch event {
        case .device(let name, let state, let message) where state == .connected || state == .lost:
            let states = update(name) {
                $0.state = state
                $0.message = message
            }
            for state in ["connected", "lost", "not_opened"] {
                GatewayMetrics.devices(state).record(states.filter { $0 == state }.count)
            }
        case .calibration(let name, let warning):
            update(name) { $0.calibration = warning?.text }
        case .tool(let name, let status):
            update(name) { $0.tool = status.text }
        case .recorded(let source, _, _), .unbound(let source, _, _):
            update(source) { $0.lastReading = Date() }
        default:
            break
        }
    }

    /// Changes device `name`; returns every device's state after it.
    @discardableResult
    private func update(_ name: String, _ change: (inout Device) -> Void) -> [String] {
        devices.withLock { devices in
            if let index = devices.firstIndex(where: { $0.name == name }) { change(&devices[index]) }
            return devices.map { $0.state?.rawValue ?? "not_opened" }
        }
    }

    /// The status now: `outbox` is asked for its depth, `record` whether the record answers.
    public func report(outbox: Outbox, record: RecordClient) async -> JSONValue {
        let now = Date()
        var attention: [String] = []
        let deviceLines: [JSONValue] = devices.withLock { $0 }.map { device in
            if device.state != .connected { attention.append("device \(device.name) is not connected: \(device.message)") }
            if let calibration = device.calibration { attention.append(calibration) }
            return [
                "name": .string(device.name), "state": .string(device.state?.rawValue ?? "not_opened"), "message": .string(device.message),
                "last_reading_seconds": device.lastReading.map { .string(Self.seconds(now.timeIntervalSince($0))) } ?? .null,
                "calibration": device.calibration.map(JSONValue.string) ?? .null,
                "tool": device.tool.map(JSONValue.string) ?? .null,
            ]
        }
        let pending: JSONValue
        do {
            let (count, oldest) = try await outbox.pendingSummary()
            let age = oldest.map { now.timeIntervalSince($0) }
            if let age, age > Self.patience { attention.append("\(count) result\(count == 1 ? "" : "s") waiting for the record, the oldest for \(Int(age)) s") }
            pending = ["pending": .integer(Int64(count)), "oldest_pending_seconds": age.map { .string(Self.seconds($0)) } ?? .null]
        } catch {
            attention.append("the outbox cannot be read: \(error)")
            pending = ["pending": .null, "oldest_pending_seconds": .null, "problem": .string("\(error)")]
        }
        let recordLine: JSONValue
        let socket = JSONValue.string(await record.socketPath)
        do {
            let info = try await record.call(.recordInfo)
            recordLine = ["reachable": true, "socket": socket, "audit_entries": info["audit_entries"] ?? .null]
        } catch {
            attention.append("the record does not answer: \(error)")
            recordLine = ["reachable": false, "socket": socket, "problem": .string("\(error)")]
        }
        let clock = ClockSynchronization.current()
        if !clock.isSynchronized { attention.append("the clock is \(clock)") }
        return [
            "station": .string(station), "devices": .array(deviceLines), "outbox": pending, "record": recordLine,
            "clock": ["synchronized": .bool(clock.isSynchronized), "state": .string(clock.description)],
            "attention": .array(attention.map(JSONValue.string)),
        ]
    }

    /// Seconds with one decimal, as a decimal string (INTERFACES.md: no binary floats).
    private static func seconds(_ interval: TimeInterval) -> String {
        String(format: "%.1f", max(0, interval))
    }
}
