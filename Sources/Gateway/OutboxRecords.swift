import DeviceIO
public import FloorgateCore
public import Foundation

extension Outbox {
    /// Where a result is on its way.
    public enum State: String, Sendable, Hashable, CaseIterable {
        case pending, delivered, unbound
        /// Bytes that were no result (a frame cut short, garbage), kept as the device sent them.
        case skipped
    }

    /// Which device gave a result: its kind, profile and own serial or asset number (calibration
    /// records name it).
    public struct Device: Sendable, Hashable {
        public var kind: DeviceKind
        public var profile: String
        public var serial: String?

        public init(kind: DeviceKind, profile: String, serial: String?) {
            self.kind = kind
            self.profile = profile
            self.serial = serial
        }
    }

    /// What a result says, as typed columns: a measurement (gauge or torque) with its exact value,
    /// unit and resolution, or a scanned text. Nil members are what the result does not carry.
    public struct Payload: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable {
            case measure, torque, scan
        }

        public var kind: Kind
        public var value: ExactDecimal?
        public var unit: MeasurementUnit?
        public var resolution: ExactDecimal?
        /// A tightening's final angle, in degrees.
        public var angle: ExactDecimal?
        /// A scan's text and its AIM symbology identifier.
        public var text: String?
        public var aim: String?
        /// What a torque controller said of a tightening besides torque and angle.
        public var tightening: TighteningContext?

        /// A gauge reading or a tightening's torque.
        public static func measurement(
            _ kind: Kind, value: ExactDecimal, unit: MeasurementUnit, resolution: ExactDecimal, angle: ExactDecimal?,
            tightening: TighteningContext? = nil
        ) -> Payload {
            Payload(kind: kind, value: value, unit: unit, resolution: resolution, angle: angle, text: nil, aim: nil, tightening: tightening)
        }

        /// A scanned text.
        public static func scan(text: String, aim: String?) -> Payload {
            Payload(kind: .scan, value: nil, unit: nil, resolution: nil, angle: nil, text: text, aim: aim, tightening: nil)
        }
    }

    /// What a torque controller said of a tightening besides torque and angle (Open Protocol
    /// MID 0061, and the tool of MID 0041): the members `result.record` takes for the record to
    /// judge against the point (program, identifier, batch) and keep beside the result. Kept in
    /// the outbox's `tightening` column as those members' JSON.
    public struct TighteningContext: Sendable, Hashable {
        public var pset: String?
        public var identifier: String?
        public var batchSize: Int64?
        public var batchCounter: Int64?
        public var batchStatus: TighteningResult.BatchStatus?
        public var tighteningID: String?
        public var tool: ToolIdentity?

        /// The context of `result` as its controller reported it, with the tool it described;
        /// nil when neither says anything of it.
        public init?(_ result: TighteningResult, tool: ToolIdentity?) {
            pset = result.parameterSet
            identifier = result.identifier
            batchSize = result.batchSize.flatMap { Int64($0.description) }
            batchCounter = result.batchCounter.flatMap { Int64($0.description) }
            batchStatus = result.batchStatus
            tighteningID = result.tighteningID
            self.tool = tool ?? result.toolSerial.map { ToolIdentity(serial: $0, tightenings: nil, calibratedOn: nil) }
            if json == [:] { return nil }
        }

        /// The members of `result.record` params, as stored in the outbox.
        public var json: JSONValue {
            var members: [String: JSONValue] = [:]
            members["pset"] = pset.map(JSONValue.string)
            members["identifier"] = identifier.map(JSONValue.string)
            members["batch_size"] = batchSize.map(JSONValue.integer)
            members["batch_counter"] = batchCounter.map(JSONValue.integer)
            members["batch_status"] = batchStatus.map { .string($0.rawValue) }
            members["tightening_id"] = tighteningID.map(JSONValue.string)
            if let tool {
                var described: [String: JSONValue] = [:]
                described["serial"] = tool.serial.map(JSONValue.string)
                described["tightenings"] = tool.tightenings.map(JSONValue.integer)
                described["calibrated_on"] = tool.calibratedOn.map(JSONValue.string)
                members["tool"] = .object(described)
            }
            return .object(members)
        }

        /// Reads the outbox column back; nil when it is not what this gateway writes.
        init?(json: JSONValue) {
            guard case .object = json else { return nil }
            pset = json["pset"]?.stringValue
            identifier = json["identifier"]?.stringValue
            batchSize = json["batch_size"]?.integerValue
            batchCounter = json["batch_counter"]?.integerValue
            batchStatus = json["batch_status"]?.stringValue.flatMap(TighteningResult.BatchStatus.init(rawValue:))
            tighteningID = json["tightening_id"]?.stringValue
            tool = json["tool"].map { ToolIdentity(serial: $0["serial"]?.stringValue, tightenings: $0["tightenings"]?.integerValue, calibratedOn: $0["calibrated_on"]?.stringValue) }
        }
    }

    /// A result to store.
    public struct Item: Sendable, Hashable {
        /// The device's identity, stable across reconnects (the station's name for it).
        public var source: String
        /// The device's own key for the result (Open Protocol tightening id), if any.
        public var sourceKey: String?
        /// What the device sent, as `floorgate decode` prints it.
        public var eventLine: String
        /// What the result says; nil for bytes that were no result, or a reading that cannot be
        /// recorded (see `reason`).
        public var payload: Payload?
        public var device: Device
        public var raw: RawBytes
        /// `unbound` for a result the normalizer could not make deliverable (no unit), `skipped`
        /// for bytes that were no result.
        public var state: State
        /// Why, for a result stored as unbound or skipped.
        public var reason: String?
        /// `CLOCK_MONOTONIC` ns when the bytes that completed the result were read.
        public var readAt: UInt64
        /// Wall-clock time the result was read (for the record's `measured_at`).
        public var measuredAt: Date

        public init(
            source: String, sourceKey: String?, eventLine: String, payload: Payload?, device: Device, raw: RawBytes,
            state: State = .pending, reason: String? = nil, readAt: UInt64, measuredAt: Date = Date()
        ) {
            self.source = source
            self.sourceKey = sourceKey
            self.eventLine = eventLine
            self.payload = payload
            self.device = device
            self.raw = raw
            self.state = state
            self.reason = reason
            self.readAt = readAt
            self.measuredAt = measuredAt
        }
    }

    /// One stored result: the item as it was stored (`entry.source`, `entry.payload`, … read
    /// through to it), with its row, key, commit time and where it is now.
    @dynamicMemberLookup
    public struct Entry: Sendable, Hashable {
        public var sequence: Int64
        /// The idempotency key (a UUIDv7) the result travels to the record with.
        public var id: String
        /// What was stored (its `measuredAt` to the millisecond, as the file keeps it).
        public var item: Item
        public var committedAt: UInt64?
        public var state: State
        /// The record's answer (delivered) or its reason (unbound, skipped).
        public var outcome: String?

        public subscript<Value>(dynamicMember member: KeyPath<Item, Value>) -> Value { item[keyPath: member] }

        /// The record's `result.record` params for this result, without the build, operator,
        /// station, time and key, which are added at delivery.
        public var result: JSONValue {
            var members: [String: JSONValue] = [
                "device": ["kind": .string(item.device.kind.rawValue), "profile": .string(item.device.profile), "serial": item.device.serial.map(JSONValue.string) ?? .null],
                "raw_hex": .string(item.raw.description),
            ]
            guard let payload = item.payload else { return .object(members) }
            members["kind"] = .string(payload.kind.rawValue)
            if payload.kind == .scan {
                members["text"] = .string(payload.text ?? "")
                members["aim"] = payload.aim.map(JSONValue.string) ?? .null
                return .object(members)
            }
            if let value = payload.value { members["value"] = .string(value.description) }
            if let unit = payload.unit { members["unit"] = .string(unit.code) }
            if let resolution = payload.resolution { members["resolution"] = .string(resolution.description) }
            if let angle = payload.angle { members["angle"] = .string(angle.description) }
            if case .object(let context)? = payload.tightening?.json {
                members.merge(context) { current, _ in current }
            }
            return .object(members)
        }
    }
}

extension Outbox.Entry {
    /// The entry of `item`, just stored as row `sequence` under `id`.
    init(_ item: Outbox.Item, id: String, sequence: Int64, committedAt: UInt64?) {
        var stored = item
        stored.measuredAt = Date(timeIntervalSince1970: Double(Outbox.milliseconds(item.measuredAt)) / 1000)
        self.init(sequence: sequence, id: id, item: stored, committedAt: committedAt, state: item.state, outcome: item.reason)
    }
}

/// The outbox file holds something this gateway cannot read: named with the row, so the
/// technician can look at it.
public struct OutboxFileError: Error, CustomStringConvertible, Sendable, Hashable {
    public var sequence: Int64
    public var column: String
    public var found: String

    public var description: String {
        "outbox row \(sequence): column '\(column)' holds '\(found)', which this gateway does not know"
    }
}
