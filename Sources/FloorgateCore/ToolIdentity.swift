/// The physical tool behind a torque controller, as the controller describes it (Open Protocol
/// MID 0041): recorded with every tightening so the DHR names the tool, not only the station's
/// name for its controller.
public struct ToolIdentity: Sendable, Hashable {
    /// The tool's serial number.
    public var serial: String?
    /// How many tightenings the tool has made.
    public var tightenings: Int64?
    /// The tool's last calibration day (`2026-10-01`), as the controller keeps it.
    public var calibratedOn: String?

    public init(serial: String?, tightenings: Int64?, calibratedOn: String?) {
        self.serial = serial
        self.tightenings = tightenings
        self.calibratedOn = calibratedOn
    }
}
