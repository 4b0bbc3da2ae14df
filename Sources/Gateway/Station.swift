import Barcodes
public import DeviceIO
public import FloorgateCore
public import HostClock
import Foundation
public import Logging
public import RecordProtocol

/// What happens at the station, for the operator's views (the terminal, the station page).
public enum StationEvent: Sendable, Hashable {
    /// A device's link came up or went away.
    case device(name: String, state: DeviceState, message: String)
    /// A build is open (or was read again after a reconnection): the record's build view.
    case build(JSONValue)
    /// The active step changed (null step: every step is done).
    case step(buildID: Int64, step: JSONValue)
    /// The record took a result: the record's answer with the result's source and value.
    case recorded(source: String, summary: String, answer: JSONValue)
    /// A result no open point takes, or taken while no build is open; kept in the outbox.
    case unbound(source: String, summary: String, reason: String)
    /// A measuring device's standing in the record's calibration register: a warning in words
    /// (overdue, out of service, due soon, unknown to the register), or nil when it is in order.
    case calibration(device: String, warning: CalibrationWarning?)
    /// A commanded tool's state (locked and why, ready with its program and batch, batch done).
    case tool(device: String, status: ToolStatus)
    /// Something to tell the operator, in words, and who says it: the record (NC raised, redline
    /// published, build closed) or the gateway itself (the clock).
    case notice(String, from: String = "record")
}

/// The station's build context and the one place results are delivered from.
///
/// A scan whose content names a unit serial (the station's `SerialPattern`) opens that unit's
/// build on the approved instruction revision, unless the active step waits for a component's
/// or the unit's label; every other result goes to the open build's
/// active step, where the record binds it to the first open point that admits it and keeps its
/// verdict. A result that no build or point takes is settled as `unbound` with the record's
/// reason: kept and shown, never dropped. The record's notifications keep the context current.
public actor Station {
    /// Who and where: sent with every write.
    public struct Identity: Sendable {
        public var station: String
        public var operatorLogin: String
        public var serialPattern: SerialPattern

        public init(station: String, operatorLogin: String, serialPattern: SerialPattern) {
            self.station = station
            self.operatorLogin = operatorLogin
            self.serialPattern = serialPattern
        }
    }

    /// What became of a delivery attempt.
    public enum Delivery: Sendable, Hashable {
        case settled(Outbox.State, outcome: String)
        /// The record is unreachable (or failed internally): try again later, same key.
        case retryLater(String)
    }

    public let identity: Identity
    private let record: RecordClient
    private let logger: Logger
    /// The open build as the record last showed it; every change is a new order for the
    /// commanded tools.
    private var openBuild: JSONValue? {
        didSet { orderTools() }
    }
    /// Whether the record's notifications are followed now (a commanded tool is locked while not).
    private var recordReachable = false {
        didSet { orderTools() }
    }
    /// The commanded tools, by device name: their profile, torque unit and orders.
    private var tools: [String: (profile: String, unit: MeasurementUnit?, orders: ToolOrders)] = [:]
    private let eventStream: (stream: AsyncStream<StationEvent>, continuation: AsyncStream<StationEvent>.Continuation)

    private let remember: @Sendable (Int64?) async -> Void

    /// `openBuildID` is the build a previous run left open here (the station goes on with it);
    /// `remember` keeps the open build across restarts.
    public init(
        identity: Identity, record: RecordClient, logger: Logger, openBuildID: Int64? = nil,
        remember: @escaping @Sendable (Int64?) async -> Void = { _ in }
    ) {
        self.identity = identity
        self.record = record
        self.logger = logger
        self.remember = remember
        openBuild = openBuildID.map { ["build_id": .integer($0)] }
        eventStream = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(10_000))
    }

    /// The station's events, for one view.
    public nonisolated var events: AsyncStream<StationEvent> { eventStream.stream }

    /// The open build's view as the record last gave it.
    public var build: JSONValue? { openBuild }

    /// Reports a change of the host clock's synchronization to the views.
    public func clockChanged(_ state: ClockSynchronization) {
        eventStream.continuation.yield(.notice(
            state.isSynchronized ? "the clock is synchronized again" : "the clock is \(state): results and signatures carry this PC's time",
            from: "clock"))
    }

    /// Reports a device's link state to the views.
    public func deviceChanged(name: String, status: DeviceStatus) {
        eventStream.continuation.yield(.device(name: name, state: status.state, message: status.message))
    }

    /// Commands tool `name` from now on: `orders` follows the open build (``ToolOrderRule``).
    public func command(tool name: String, profile: String, unit: MeasurementUnit?, orders: ToolOrders) {
        tools[name] = (profile, unit, orders)
        orderTools()
    }

    /// Reports a commanded tool's state to the views.
    public func toolChanged(name: String, state: ToolState) {
        eventStream.continuation.yield(.tool(device: name, status: ToolStatus(state)))
    }

    private func orderTools() {
        for tool in tools.values {
            tool.orders.set(ToolOrderRule.order(build: openBuild, profile: tool.profile, unit: tool.unit, recordReachable: recordReachable))
        }
    }

    /// Reports what the calibration register says of each measuring device to the views.
    public func calibrationReviewed(_ warnings: [(device: String, warning: CalibrationWarning?)]) {
        for (device, warning) in warnings {
            eventStream.continuation.yield(.calibration(device: device, warning: warning))
        }
    }

    /// Delivers outbox entries to the record, in order; returns what became of each (fewer than
    /// given when delivery stopped early: the first one not returned is to be tried again).
    ///
    /// A scan that names a unit serial opens a build and is delivered alone, since what follows
    /// depends on it; the results after it are sent to the record together (pipelined on one
    /// connection, committed together there).
    public func deliver(_ entries: [Outbox.Entry]) async -> [Delivery] {
        var deliveries: [Delivery] = []
        var index = entries.startIndex
        while index < entries.endIndex {
            if let serial = unitSerial(in: entries[index]) {
                let delivery = await openBuild(serial: serial, entry: entries[index])
                deliveries.append(delivery)
                if case .retryLater = delivery { return deliveries }
                index += 1
                continue
            }
            let run = entries[index...].prefix { unitSerial(in: $0) == nil }
            let delivered = await record(Array(run))
            deliveries += delivered
            // A tightening fills a place of a commanded tool's point: its order follows the build.
            if !tools.isEmpty, run.contains(where: { $0.payload?.kind == .torque }), let buildID = openBuild?["build_id"] {
                await refresh(buildID)
            }
            if delivered.count < run.count || delivered.contains(where: { if case .retryLater = $0 { true } else { false } }) {
                return deliveries
            }
            index += run.count
        }
        return deliveries
    }

    /// Delivers one outbox entry to the record.
    public func deliver(_ entry: Outbox.Entry) async -> Delivery {
        await deliver([entry]).first ?? .retryLater("not delivered")
    }

    private func unitSerial(in entry: Outbox.Entry) -> String? {
        guard let payload = entry.payload, payload.kind == .scan, let text = payload.text, !awaitsLabel else { return nil }
        let content = ScannedContent(parsing: (payload.aim ?? "") + text)
        return identity.serialPattern.serial(in: content.fields)
    }

    /// Whether the open build's active step waits for a component's label or the unit's own: a
    /// scan then goes to that point, even one carrying a serial the station's pattern matches
    /// (a serialized component's label, the unit's UDI label).
    private var awaitsLabel: Bool {
        openBuild?["active_step"]?["points"]?.arrayValue?.contains { point in
            ["component", "label"].contains(point["kind"]?.stringValue) && (point["open"]?.integerValue ?? 0) > 0
        } == true
    }

    /// Records results on the open build's active step, all in one pipeline; stops at the first
    /// one the record could not be reached for (returned as `retryLater`).
    private func record(_ entries: [Outbox.Entry]) async -> [Delivery] {
        guard let build = openBuild, let buildID = build["build_id"] else {
            let reason = "no build is open at \(identity.station): scan the unit's serial first"
            for entry in entries {
                eventStream.continuation.yield(.unbound(source: entry.source, summary: Self.summary(of: entry.payload), reason: reason))
            }
            return entries.map { _ in .settled(.unbound, outcome: reason) }
        }
        let calls = entries.map { entry -> (method: RecordMethod, params: JSONValue) in
            guard case .object(var params) = entry.result else { return (.resultRecord, entry.result) }
            params["build_id"] = buildID
            params["operator"] = .string(identity.operatorLogin)
            params["station"] = .string(identity.station)
            params["measured_at"] = .string(entry.measuredAt.formatted(Self.timestamp))
            params["idempotency_key"] = .string(entry.id)
            return (.resultRecord, .object(params))
        }
        var deliveries: [Delivery] = []
        for (entry, answer) in zip(entries, await record.pipeline(calls)) {
            let summary = Self.summary(of: entry.payload)
            switch answer {
            case .success(let answer):
                eventStream.continuation.yield(.recorded(source: entry.source, summary: Self.summary(of: answer["component"]) ?? summary, answer: answer))
                deliveries.append(.settled(.delivered, outcome: answer.text))
            case .failure(let error) where error.code == .idempotencyKeyReused:
                // The key is this entry's own: the record holds it from an earlier delivery whose
                // answer was lost, sent while another build was open. Delivered, not unbound.
                let outcome = "recorded by an earlier delivery whose answer was lost (\(error))"
                logger.notice("result already recorded under its key", metadata: ["key": "\(entry.id)", "source": "\(entry.source)"])
                deliveries.append(.settled(.delivered, outcome: outcome))
            case .failure(let error):
                let delivery = refusal(error, source: entry.source, summary: summary)
                deliveries.append(delivery)
                if case .retryLater = delivery { return deliveries }
            }
        }
        return deliveries
    }

    private func openBuild(serial: String, entry: Outbox.Entry) async -> Delivery {
        let params: JSONValue = [
            "serial": .string(serial), "station": .string(identity.station), "operator": .string(identity.operatorLogin),
            "idempotency_key": .string(entry.id),
        ]
        do {
            let build = try await record.call(.buildOpen, params)
            openBuild = build
            await remember(build["build_id"]?.integerValue)
            eventStream.continuation.yield(.build(build))
            logger.info("build open", metadata: ["serial": "\(serial)", "build": "\(build["build_id"]?.text ?? "?")"])
            return .settled(.delivered, outcome: build.text)
        } catch {
            return refusal(error, source: entry.source, summary: "serial \(serial)")
        }
    }

    private func refusal(_ error: RecordCallError, source: String, summary: String) -> Delivery {
        if error.isTransient { return .retryLater(error.description) }
        eventStream.continuation.yield(.unbound(source: source, summary: summary, reason: error.description))
        return .settled(.unbound, outcome: error.description)
    }

    /// Follows the record's notifications for this station's build until the stream ends.
    public func follow(_ events: AsyncStream<RecordNotification>) async {
        for await event in events {
            await handle(event)
        }
    }

    private func handle(_ event: RecordNotification) async {
        let buildID = openBuild?["build_id"]
        switch event.method {
        case RecordNotification.connected:
            recordReachable = true
            if let buildID { await refresh(buildID) }
        case RecordNotification.disconnected:
            recordReachable = false
        case RecordNotification.stepChanged where event.params["build_id"] == buildID:
            if let buildID { await refresh(buildID) }
            eventStream.continuation.yield(.step(buildID: buildID?.integerValue ?? 0, step: event.params["step"] ?? .null))
        case RecordNotification.ncRaised where event.params["build_id"] == buildID:
            let point = event.params["point"]?.stringValue ?? "?"
            eventStream.continuation.yield(.notice("nonconformance \(event.params["nc_id"]?.text ?? "?") raised on '\(point)': quality must disposition it"))
            if let buildID { await refresh(buildID) }  // the build's open NCs, for the views
        case RecordNotification.redlinePublished where event.params["build_id"] == buildID:
            let revisions = "\(event.params["from_revision"]?.stringValue ?? "?") → \(event.params["to_revision"]?.stringValue ?? "?")"
            let reason = event.params["reason"]?.stringValue ?? ""
            eventStream.continuation.yield(.notice("REDLINE \(revisions): \(reason) — read and acknowledge it to continue"))
            // The tool locks now, not once the build is read again: no tightening under the old revision meanwhile.
            if case .object(var view) = openBuild {
                view["pending_redline"] = .object(["to_revision": event.params["to_revision"] ?? .null])
                openBuild = .object(view)
            }
            if let buildID { await refresh(buildID) }
        case RecordNotification.buildClosed where event.params["build_id"] == buildID:
            eventStream.continuation.yield(.notice("build \(buildID?.text ?? "?") closed"))
            openBuild = nil
            await remember(nil)
        default:
            break
        }
    }

    /// Reads the open build again (after a reconnection or a change).
    private func refresh(_ buildID: JSONValue) async {
        do {
            let build = try await record.call(.buildGet, ["build_id": buildID])
            guard build["build_id"] == openBuild?["build_id"] else { return }  // another build opened meanwhile
            openBuild = build["status"] == "open" ? build : nil
            if openBuild == nil { await remember(nil) }
            eventStream.continuation.yield(.build(build))
        } catch {
            logger.warning("cannot read the open build", metadata: ["reason": "\(error)"])
        }
    }

    /// `12.031 mm`, `1.25 N.m 41°`, `scan SN-1`.
    static func summary(of payload: Outbox.Payload?) -> String {
        guard let payload else { return "no result" }
        if payload.kind == .scan {
            // GS1 data in its human-readable form: (01)09506000117843(10)LOT-B-7731.
            let content = ScannedContent(parsing: (payload.aim ?? "") + (payload.text ?? ""))
            let elements = content.gs1Elements.map { "(\($0.ai))\($0.value)" }
            return "scan \(content.scheme == .gs1 && content.isValid && !elements.isEmpty ? elements.joined() : payload.text ?? "")"
        }
        let angle = payload.angle.map { " \($0)°" } ?? ""
        return "\(payload.value?.description ?? "?") \(payload.unit?.code ?? "")\(angle)"
    }

    /// A component the record accepted, as the operator reads it: `SB-40 lot LOT-B-7731`.
    static func summary(of component: JSONValue?) -> String? {
        guard let component, let part = component["part"]?.stringValue else { return nil }
        let identity = [component["lot"]?.stringValue.map { "lot \($0)" }, component["serial"]?.stringValue.map { "serial \($0)" }].compactMap { $0 }
        return ([part] + identity).joined(separator: " ")
    }

    private static let timestamp = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
