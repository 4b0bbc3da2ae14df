/// The stable error codes of the record protocol (docs/record-protocol.md): JSON-RPC's own
/// (negative) and the record's (1001 and up). An answer's `error.code` is one of these.
public enum RecordErrorCode: Int, Sendable, Hashable, CaseIterable {
    case parseError = -32700
    case invalidRequest = -32600
    case methodNotFound = -32601
    case invalidParams = -32602
    /// The record failed inside, or its database is unreachable: the request may be tried again
    /// (a write with the same idempotency key is recorded once).
    case internalError = -32603
    /// No work order holds the scanned serial.
    case unknownSerial = 1001
    /// The serial's work order exists but is not released (or is closed).
    case workOrderNotReleased = 1002
    /// Every operation of the serial's work order is already complete.
    case serialComplete = 1003
    /// The named build, instruction, work order, NC, redline or user does not exist.
    case notFound = 1004
    /// The part and operation have no approved instruction revision.
    case noApprovedRevision = 1005
    /// No open data point of the active step admits this result.
    case noOpenPoint = 1006
    /// The user id or password is wrong.
    case signatureRejected = 1007
    /// The user is locked out after repeated failed signatures.
    case userLocked = 1008
    /// The user lacks the role this signature needs.
    case roleNotPermitted = 1009
    /// The record is not in a state that allows this (e.g. approving a non-draft revision).
    case invalidState = 1010
    /// The build has an open nonconformance.
    case openNonconformance = 1011
    /// A published redline must be acknowledged before the next step completes.
    case redlinePending = 1012
    /// The step still has required points without a passing or dispositioned result.
    case stepIncomplete = 1013
    /// The connecting process's user is not allowed to write to the record.
    case peerNotAllowed = 1014
    /// The data would break a uniqueness or immutability rule of the record.
    case conflict = 1015
    /// The unit's build of that operation is open at another station: it is finished there.
    case openElsewhere = 1016
    /// The unit's route does not let this station open that operation now (out of order, or
    /// another station's): the message names where the unit goes next.
    case notOnRoute = 1017
    /// The result's measuring device is not in the calibration register (or the result names no
    /// device serial) while the register keeps calibrations.
    case deviceNotInRegister = 1020
    /// The device's calibration fell due before the result was measured.
    case calibrationOverdue = 1021
    /// The device failed calibration or was withdrawn: it is out of service.
    case deviceOutOfService = 1022
    /// A component label that is not the point's part (another part, a product the record does
    /// not know, a plain-text label the point does not read, no lot or serial): the message says which.
    case componentRefused = 1023
    /// The component's lot expired before the day it was scanned.
    case componentExpired = 1024
    /// The serialized component is already built into another unit (or this one).
    case componentInAnotherUnit = 1025
    /// The result's `measured_at` is not a time the record reads (ISO 8601 with its zone:
    /// `2026-12-07T10:15:00.000Z`).
    case timeUnreadable = 1040
    /// The result's `measured_at` is ahead of the record's clock by more than it allows (1 minute
    /// by default): a station's or device's clock runs ahead.
    case timeInFuture = 1041
    /// The signer of an approval performed what it approves (a step of the build, a result, the
    /// nonconformance): another user of the role signs it.
    case separationOfDuties = 1042
    /// The point's name is in more than one step or operation of the part: the request must
    /// name the step (and the operation).
    case ambiguousPoint = 1030
    /// The point has too few complete subgroups for what was asked (limits are frozen from 2
    /// or more).
    case tooFewSubgroups = 1031
    /// A step's picture is larger than the record takes (512 KiB).
    case pictureTooLarge = 1032
    /// A step's picture is not what its type says, or an SVG holds something not allowed
    /// (scripts, foreign objects, event attributes, outside links): the message names it.
    case pictureRefused = 1033
    /// The idempotency key was first used with other content (other params, another signer): a
    /// new request needs a new key, and the first answer is not given for it.
    case idempotencyKeyReused = 1060
    /// The record serves as many connections as it takes: this one is closed; try again later.
    case tooManyConnections = 1061
    /// A request line was begun but not finished in time: the connection is closed.
    case requestTimedOut = 1062
    /// Signature attempts by this login or this peer user failed just before: this one came
    /// before its wait was over and was not checked (nor counted towards lockout).
    case signatureAttemptsSlowed = 1063
    /// The record was told to sign only on a synchronized clock (`--require-synchronized-clock`)
    /// and its host's clock is not: no signature is taken until it is.
    case clockNotSynchronized = 1064

    /// Whether asking again later may succeed: the record failed inside or could not reach its
    /// database. Every other code is the record's considered answer to this request.
    public var isTransient: Bool { self == .internalError }
}
