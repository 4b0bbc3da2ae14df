public import DeviceIO
public import FloorgateCore

/// A commanded tool's state as the operator's views show it: in words, and whether it is locked.
public struct ToolStatus: Sendable, Hashable {
    public var text: String
    public var isLocked: Bool

    public init(_ state: ToolState) {
        text = state.description
        isLocked = if case .locked = state { true } else { false }
    }
}

/// What a commanded tool should do, read from the open build as the record last showed it: run
/// the active step's torque point's program for its open places on the unit that is open, or
/// stay locked, with the reason in words.
enum ToolOrderRule {
    /// The order for the tool of device profile `profile` (its torque unit `unit`, when the
    /// profile names one) given the open build's view.
    static func order(build: JSONValue?, profile: String, unit: MeasurementUnit?, recordReachable: Bool) -> ToolOrder {
        guard recordReachable else { return .locked(reason: "the record is unreachable") }
        guard let build, build["status"] == "open", let serial = build["serial"]?.stringValue else {
            return .locked(reason: "no build is open: scan the unit's serial")
        }
        if let redline = build["pending_redline"], !redline.isNull {
            return .locked(reason: "redline to revision \(redline["to_revision"]?.stringValue ?? "?") waits for acknowledgement")
        }
        guard let step = build["active_step"], !step.isNull, let key = step["key"]?.stringValue else {
            return .locked(reason: "every step is done")
        }
        let points = (step["points"]?.arrayValue ?? []).filter { point in
            point["kind"] == "torque" && point["device_kind"]?.stringValue ?? "torque" == "torque"
                && (point["device_profile"]?.stringValue).map { $0 == profile } ?? true
        }
        guard !points.isEmpty else { return .locked(reason: "step \(key) expects no tightening from this tool") }
        guard let point = points.first(where: { ($0["open"]?.integerValue ?? 0) > 0 }), let name = point["name"]?.stringValue else {
            return .locked(reason: "batch done: step \(key) has its tightenings")
        }
        let openNC = build["open_ncs"]?.arrayValue?.first { $0["step"]?.stringValue == key && $0["point"]?.stringValue == name }
        if let openNC {
            return .locked(reason: "nonconformance \(openNC["nc_id"]?.text ?? "?") on '\(name)' waits for quality's disposition")
        }
        guard let psetText = point["pset"]?.stringValue else {
            return .locked(reason: "point '\(name)' names no program (pset): the tool runs only a program the step names")
        }
        guard let program = Int(psetText), (1...999).contains(program) else {
            return .locked(reason: "point '\(name)': program '\(psetText)' is not a number from 1 to 999")
        }
        let job = point["job"]?.stringValue
        if let job, Int(job) == nil { return .locked(reason: "point '\(name)': job '\(job)' is not a number") }
        let pointUnit = point["unit"]?.stringValue.flatMap(MeasurementUnit.init(code:))
        func torque(_ key: String) -> ExactDecimal?? {
            guard let text = point[key]?.stringValue else { return .some(nil) }
            guard let value = try? ExactDecimal(parsing: text) else { return nil }
            // The controller's programs are in its unit: the point's limits are compared in it.
            guard let unit, let pointUnit, unit != pointUnit else { return .some(value) }
            return (try? FloorgateCore.Measurement(value, pointUnit).converted(to: unit, scale: 4).value).map { .some($0) }
        }
        guard let lower = torque("lower"), let upper = torque("upper") else {
            return .locked(reason: "point '\(name)': its limits cannot be stated in the controller's unit \(unit?.code ?? "?")")
        }
        let count = Int(point["count"]?.integerValue ?? 1)
        return .run(ToolProgram(
            // A redline makes the point new: its batch is commanded again under the new revision.
            point: "build \(build["build_id"]?.text ?? "?") revision \(build["instruction"]?["revision"]?.stringValue ?? "?") step \(key) '\(name)'",
            program: program, job: job.flatMap { Int($0) },
            remaining: Int(point["open"]?.integerValue ?? 0), total: count, identifier: serial,
            torqueMinimum: lower, torqueMaximum: upper,
            angleMinimum: point["angle_min"]?.stringValue.flatMap { try? ExactDecimal(parsing: $0) },
            angleMaximum: point["angle_max"]?.stringValue.flatMap { try? ExactDecimal(parsing: $0) }))
    }
}
