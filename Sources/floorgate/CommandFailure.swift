import Glibc

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

/// Unbuffered writes to standard error.
enum StandardError {
    static func write(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                Glibc.write(2, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }
}
