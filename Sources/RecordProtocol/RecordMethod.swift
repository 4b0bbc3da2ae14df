/// The name of a record method (docs/record-protocol.md lists them with their params).
///
/// Any name can be written (`"build.explode"` is a name the record refuses with
/// `methodNotFound`); the record's own are the static members, and `isWrite` says which of
/// them change the record.
public struct RecordMethod: RawRepresentable, Hashable, Sendable, Comparable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }

    public var description: String { rawValue }

    public static func < (left: RecordMethod, right: RecordMethod) -> Bool { left.rawValue < right.rawValue }

    public static let recordInfo: RecordMethod = "record.info"
    public static let recordImport: RecordMethod = "record.import"
    public static let userGet: RecordMethod = "user.get"
    public static let userUnlock: RecordMethod = "user.unlock"
    public static let userDeactivate: RecordMethod = "user.deactivate"
    public static let userAuthenticate: RecordMethod = "user.authenticate"
    public static let instructionGet: RecordMethod = "instruction.get"
    public static let instructionApprove: RecordMethod = "instruction.approve"
    public static let redlinePublish: RecordMethod = "redline.publish"
    public static let redlineAcknowledge: RecordMethod = "redline.acknowledge"
    public static let workOrderRelease: RecordMethod = "work_order.release"
    public static let workOrderClose: RecordMethod = "work_order.close"
    public static let buildOpen: RecordMethod = "build.open"
    public static let buildGet: RecordMethod = "build.get"
    public static let buildClose: RecordMethod = "build.close"
    public static let resultRecord: RecordMethod = "result.record"
    public static let resultCorrect: RecordMethod = "result.correct"
    public static let stepComplete: RecordMethod = "step.complete"
    public static let ncRaise: RecordMethod = "nc.raise"
    public static let ncDisposition: RecordMethod = "nc.disposition"
    public static let ncConcur: RecordMethod = "nc.concur"
    public static let sign: RecordMethod = "sign"
    public static let dhrExport: RecordMethod = "dhr.export"
    public static let routeSet: RecordMethod = "route.set"
    public static let spcGet: RecordMethod = "spc.get"
    public static let spcFreeze: RecordMethod = "spc.freeze"
    public static let mediaPut: RecordMethod = "media.put"
    public static let mediaGet: RecordMethod = "media.get"
    public static let calibrationRecord: RecordMethod = "calibration.record"
    public static let calibrationGet: RecordMethod = "calibration.get"
    public static let calibrationList: RecordMethod = "calibration.list"
    public static let traceDevice: RecordMethod = "trace.device"
    public static let traceLot: RecordMethod = "trace.lot"
    public static let traceUnit: RecordMethod = "trace.unit"
    public static let serverKeyRegister: RecordMethod = "server_key.register"
    public static let serverKeyList: RecordMethod = "server_key.list"
    public static let auditList: RecordMethod = "audit.list"
    public static let unitRelease: RecordMethod = "unit.release"
    /// Asks for the record's notifications on this connection; answered by the socket itself.
    public static let subscribe: RecordMethod = "subscribe"

    /// The methods that change the record: each carries an `idempotency_key`, and only peers
    /// the record server allows may call them.
    public static let writes: Set<RecordMethod> = [
        .recordImport, .userUnlock, .userAuthenticate, .instructionApprove, .redlinePublish, .redlineAcknowledge, .workOrderRelease,
        .workOrderClose, .buildOpen, .buildClose, .resultRecord, .resultCorrect, .stepComplete, .ncRaise,
        .ncDisposition, .sign, .routeSet, .spcFreeze, .mediaPut, .calibrationRecord,
        .serverKeyRegister, .unitRelease, .ncConcur, .userDeactivate,
    ]

    /// Whether this method changes the record.
    public var isWrite: Bool { Self.writes.contains(self) }
}
