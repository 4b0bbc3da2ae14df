public import RecordProtocol

/// Why the record refused a request. Travels as a JSON-RPC error object whose `code` is the
/// stable number below (docs/record-protocol.md lists them) and whose `message` says what to do.
public struct WorkRecordError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stable error codes of the record protocol (one list, in RecordProtocol).
    public typealias Code = RecordErrorCode

    public let code: Code
    public let message: String

    /// Whether the writes made before this error must still be committed: a rejected signature
    /// counts towards the user's lockout, and an accepted one clears the count, even though the
    /// request fails.
    let keepsWrites: Bool

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
        keepsWrites = code == .signatureRejected || code == .userLocked
    }

    private init(_ error: WorkRecordError, keepsWrites: Bool) {
        code = error.code
        message = error.message
        self.keepsWrites = keepsWrites
    }

    /// The same refusal, committing the writes made before it (the method's own were undone).
    func keepingWrites() -> WorkRecordError { WorkRecordError(self, keepsWrites: true) }

    public var description: String { "\(message) (record error \(code.rawValue))" }
}
