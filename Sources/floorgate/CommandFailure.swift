/// Floorgate's exit codes (INTERFACES.md "Exit codes").
enum FloorgateExit {
    static let success: Int32 = 0
    /// The operation failed: device, record or data.
    static let operationFailed: Int32 = 1
    /// Bad usage or bad configuration.
    static let badUsage: Int32 = 2
    /// The record's audit chain does not verify.
    static let auditChainBroken: Int32 = 3
}

/// A command failed for a reason the user can act on; `message` says what and where.
struct CommandFailure: Error {
    let message: String
    let exitCode: Int32

    init(_ message: String, exitCode: Int32 = FloorgateExit.operationFailed) {
        self.message = message
        self.exitCode = exitCode
    }
}
