/// A torque tool's result for one joint, with the fields a controller reports (INTERFACES.md
/// `tightening`). A field the frame does not carry is nil; ids and names are kept as the device
/// sent them (leading zeros kept, padding spaces trimmed).
public struct TighteningResult: Sendable, Hashable {
    public var resultType: ResultType?
    public var status: OkOrNotOk?
    public var torque: ExactDecimal?
    /// The torque unit the frame states, or nil where the frame carries none (the profile
    /// supplies it).
    public var torqueUnit: MeasurementUnit?
    public var torqueMinimum: ExactDecimal?
    public var torqueMaximum: ExactDecimal?
    public var torqueTarget: ExactDecimal?
    public var torqueStatus: LimitStatus?
    /// The final angle, in degrees.
    public var angle: ExactDecimal?
    public var angleMinimum: ExactDecimal?
    public var angleMaximum: ExactDecimal?
    public var angleTarget: ExactDecimal?
    public var angleStatus: LimitStatus?
    public var tighteningID: String?
    public var parameterSet: String?
    public var batchSize: ExactDecimal?
    public var batchCounter: ExactDecimal?
    public var batchStatus: BatchStatus?
    /// The VIN or part identifier the controller holds.
    public var identifier: String?
    public var cellID: String?
    public var channelID: String?
    public var controllerName: String?
    public var toolSerial: String?
    /// The controller's timestamp, as it sent it.
    public var timestamp: String?

    public init() {}

    /// Whether the joint was tightened or loosened.
    public enum ResultType: String, Sendable, Hashable {
        case tightening, loosening
    }

    /// The controller's overall judgement.
    public enum OkOrNotOk: String, Sendable, Hashable {
        case ok, nok
    }

    /// Where a value fell against the controller's own limits.
    public enum LimitStatus: String, Sendable, Hashable {
        case low, ok, high
    }

    /// The state of the batch the result belongs to.
    public enum BatchStatus: String, Sendable, Hashable {
        case ok, nok
        case notUsed = "not_used"
        case running
    }
}
