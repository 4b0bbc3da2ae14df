/// The meanings of MID 0004 error codes, for messages an operator reads (Open Protocol
/// specification R2.17 table 21; PROTOCOLS.md §4.3 has the session's selection).
public enum OpenProtocolErrors {
    /// The code's meaning in words; "unknown error" for a code the specification does not name.
    public static func meaning(_ code: Int) -> String {
        names[code] ?? ((900...999).contains(code) ? "application-specific error" : "unknown error")
    }

    private static let names: [Int: String] = [
        0: "no error", 1: "invalid data", 2: "parameter set ID not present", 3: "parameter set cannot be set",
        4: "parameter set not running", 6: "VIN upload subscription already exists", 7: "VIN upload subscription does not exist",
        8: "VIN input source not granted", 9: "last tightening result subscription already exists",
        10: "last tightening result subscription does not exist", 11: "alarm subscription already exists",
        12: "alarm subscription does not exist", 13: "parameter set selection subscription already exists",
        14: "parameter set selection subscription does not exist", 15: "tightening ID requested not found",
        16: "connection rejected, protocol busy", 17: "job ID not present", 18: "job info subscription already exists",
        19: "job info subscription does not exist", 20: "job cannot be set", 21: "job not running",
        22: "dynamic job request not possible", 23: "job batch decrement failed", 24: "parameter set cannot be created",
        25: "programming control not granted", 26: "wrong tool type for the parameter set", 27: "tool is inaccessible",
        28: "job abortion is in progress", 29: "tool does not exist", 30: "controller is not a sync master",
        35: "another master client is already connected", 36: "lock type not supported", 52: "IO device not connected",
        58: "no alarm present", 59: "tool currently in use", 69: "unsupported extra data revision", 70: "calibration failed",
        71: "subscription already exists", 72: "subscription does not exist", 73: "subscribed MID unsupported",
        74: "subscribed MID revision unsupported", 75: "requested MID unsupported", 76: "requested MID revision unsupported",
        77: "request on specific data not supported", 78: "subscription on specific data not supported", 79: "command failed",
        92: "Open Protocol commands disabled", 93: "commands-disabled subscription already exists",
        94: "commands-disabled subscription does not exist", 95: "controller is in manual mode",
        96: "client already connected", 97: "MID revision unsupported", 98: "controller internal request timeout", 99: "unknown MID",
        100: "illegal parameter id", 101: "tightening in progress", 102: "object cannot be deleted", 103: "illegal program ID",
        104: "illegal node type",
    ]
}
