import Crypto
import FloorgateCore
import Foundation
import _CryptoExtras
import RecordProtocol
import Synchronization

/// The roles a user of the record can hold; each signing action needs one of them.
public enum Role: String, Sendable, CaseIterable {
    case `operator`, engineer, quality, approver, admin
}

/// What a signature means (21 CFR 11.50: the meaning is part of the signature).
enum SignatureMeaning: String, Sendable {
    case approved, performed, reviewed, dispositioned
}

/// Passwords are kept only as PBKDF2-HMAC-SHA256 keys with a random salt:
/// `pbkdf2-sha256$ROUNDS$SALT_HEX$KEY_HEX`. The rounds travel with each hash, so raising the
/// default never locks anyone out.
public struct PasswordHasher: Sendable {
    /// The work factor for new passwords (OWASP's 2023 figure for PBKDF2-HMAC-SHA256).
    public static let defaultRounds = 600_000
    let rounds: Int

    func hash(_ password: String) throws -> String {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let key = try Self.derive(password, salt: salt, rounds: rounds)
        return "pbkdf2-sha256$\(rounds)$\(DeviceEvent.hex(salt))$\(DeviceEvent.hex(key))"
    }

    /// Whether `password` matches `stored`; false for a stored value of any other form.
    static func matches(_ password: String, stored: String) -> Bool {
        let fields = stored.split(separator: "$")
        guard fields.count == 4, fields[0] == "pbkdf2-sha256", let rounds = Int(fields[1]), rounds > 0,
              let salt = DeviceEvent.bytes(fromHex: fields[2]), let expected = DeviceEvent.bytes(fromHex: fields[3]),
              let key = try? derive(password, salt: salt, rounds: rounds)
        else { return false }
        // Compare every byte, whatever the first difference, so timing tells nothing.
        return key.count == expected.count && zip(key, expected).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private static func derive(_ password: String, salt: [UInt8], rounds: Int) throws -> [UInt8] {
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: rounds)
        return key.withUnsafeBytes { Array($0) }
    }
}

/// A signature's password checked before the request's turn at the writer, against the stored
/// hash the record last read for that user. The writer uses it only if the stored hash is still
/// the same; otherwise it checks again.
struct PasswordCheck: Sendable {
    var storedHash: String
    var matches: Bool
}

/// The stored password hash the record last read for each user, so that a signature's PBKDF2
/// (hundreds of milliseconds by design) can run before the request reaches the writer, not
/// while every request queued behind it waits.
final class KnownPasswordHashes: Sendable {
    private let hashes = Mutex<[String: String]>([:])

    func remember(_ hash: String, of login: String) {
        hashes.withLock { $0[login] = hash }
    }

    /// The check to run for `call` before its turn: the signer's login, password and last
    /// known hash; nil when the call carries no signature or the user's hash is not known yet.
    func checkToRun(for call: RecordCall) -> (password: String, storedHash: String)? {
        guard let signature = call.params?["signature"], let login = signature["user"]?.stringValue,
              let password = signature["password"]?.stringValue,
              let stored = hashes.withLock({ $0[login] })
        else { return nil }
        return (password, stored)
    }
}

/// An electronic signature as a request carries it: both components (user id and password)
/// are entered again for every signing, and an optional reason.
struct SignatureInput: Sendable {
    var login: String
    var password: String
    var reason: String?

    init(_ params: Parameters) throws(WorkRecordError) {
        let signature = try params.object("signature")
        login = try signature.string("user")
        password = try signature.string("password")
        reason = try signature.optionalString("reason")
    }
}

/// The user whose two signature components a request carried and the record accepted.
struct AuthenticatedUser: Sendable {
    var id: Int64
    var login: String
    var printedName: String
    var roles: [String]
    /// Whether authenticating wrote to the record (a failed-attempt count cleared), so that
    /// write must stand even if the request then fails.
    var clearedFailures: Bool
}

/// Electronic signatures: the signer is authenticated once per request, before any rule is
/// checked or anything is written (`authenticate`); each signing then checks the role and
/// records the printed name, time and meaning linked to the record signed (`sign`).
struct Signer {
    /// Consecutive failed signatures after which a user is locked out for `lockoutPeriod`.
    static let lockoutThreshold: Int64 = 5
    /// How long a lockout lasts (an admin, or root on the record's host, may end it sooner). A
    /// lockout that lasted for good would let anyone who can reach a signing lock every signer,
    /// the only admin included, out of the record.
    static let lockoutPeriod: Int64 = 15 * 60

    let writer: AuditedWriter
    /// The request's authenticated signer; nil when the request carried no signature.
    let authenticated: AuthenticatedUser?

    /// A signed signature's id and the signer's printed name.
    struct Signed {
        var id: Int64
        var printedName: String
        var signedAt: String
    }

    /// Checks both components. A wrong password counts towards lockout, and the count is kept
    /// even though the request fails (`WorkRecordError.keepsWrites`); a right one clears it.
    /// A login the record does not hold is answered in the same words, and locked out after as
    /// many attempts, as a held one (`unknown` counts them): the answers do not tell which logins exist.
    static func authenticate(
        _ input: SignatureInput, writer: AuditedWriter, checked: PasswordCheck?, known: KnownPasswordHashes, unknown: UnknownLoginFailures
    ) async throws -> AuthenticatedUser {
        guard let user = try await writer.transaction.row(#"SELECT * FROM "user" WHERE login = ?"#, input.login) else {
            throw unknown.refusal(for: input.login, now: Int64(Date().timeIntervalSince1970))
        }
        let stored: String = user["password"]
        known.remember(stored, of: input.login)
        let userID: Int64 = user["id"]
        // A deactivated user signs nothing more, answered in the same words as a wrong password.
        guard try await writer.transaction.row("SELECT id FROM user_deactivation WHERE user_id = ?", userID) == nil else { throw Self.wrong }
        let lockedUntil: Int64 = user["locked"]
        let now = Int64(Date().timeIntervalSince1970)
        guard lockedUntil <= now else { throw Self.locked(input.login, until: lockedUntil) }
        // A lockout served: counting starts again.
        let failed: Int64 = lockedUntil > 0 ? 0 : user["failed_attempts"]
        let matches = checked.flatMap { $0.storedHash == stored ? $0.matches : nil } ?? PasswordHasher.matches(input.password, stored: stored)
        guard matches else {
            let attempts = failed + 1
            let until = attempts >= lockoutThreshold ? now + lockoutPeriod : 0
            try await writer.update("user", id: userID, ["failed_attempts": attempts, "locked": until], action: "signature.rejected")
            if until > 0 { throw Self.lockedNow(input.login, until: until) }
            throw Self.wrong
        }
        if failed > 0 || lockedUntil > 0 {
            try await writer.update("user", id: userID, ["failed_attempts": 0, "locked": 0], action: "signature.accepted")
        }
        return AuthenticatedUser(
            id: userID, login: input.login, printedName: user["name"],
            roles: (user["roles"] as String).split(separator: ",").map(String.init), clearedFailures: failed > 0 || lockedUntil > 0)
    }

    /// The one answer to a wrong user id or password, whichever it was.
    static let wrong = WorkRecordError(.signatureRejected, "signature rejected: user id or password is wrong")

    /// The answer while `login` is locked out.
    static func locked(_ login: String, until: Int64) -> WorkRecordError {
        WorkRecordError(
            .userLocked,
            "user '\(login)' is locked until \(Lockout.time(until)) after \(lockoutThreshold) failed signatures; an admin, or root on the record's host, can unlock sooner")
    }

    /// The answer to the failed attempt that locks `login` out.
    static func lockedNow(_ login: String, until: Int64) -> WorkRecordError {
        WorkRecordError(.userLocked, "signature rejected; user '\(login)' is now locked until \(Lockout.time(until)) after \(lockoutThreshold) failed signatures")
    }

    /// Refuses the signer of an approval who performed what it approves: `performers` are the
    /// logins that did (`what` says it in words, for the message).
    func requireIndependence(_ input: SignatureInput, from performers: Set<String>, what: String) throws(WorkRecordError) {
        guard performers.contains(input.login) else { return }
        throw WorkRecordError(.separationOfDuties, "'\(input.login)' \(what): another user signs its approval")
    }

    /// Records the authenticated signer's signature on a record, if they hold `role`.
    @discardableResult
    func sign(
        _ input: SignatureInput, role: Role, meaning: SignatureMeaning, recordType: String, recordID: Int64, subject: String
    ) async throws -> Signed {
        guard let user = authenticated, user.login == input.login else {
            throw WorkRecordError(.internalError, "the signature of '\(input.login)' was not authenticated")
        }
        guard user.roles.contains(role.rawValue) else {
            throw WorkRecordError(.roleNotPermitted, "user '\(user.login)' does not hold the \(role.rawValue) role this signature needs (holds: \(user.roles.joined(separator: ", ")))")
        }
        let signedAt = RecordClock.timestamp()
        let signer = AuditedWriter(transaction: writer.transaction, actor: Actor(user: user.login, peer: writer.actor.peer), key: writer.key)
        let id = try await signer.insert(
            "signature",
            [
                "user_id": user.id, "printed_name": user.printedName, "meaning": meaning.rawValue, "record_type": recordType,
                "record_id": recordID, "subject": subject, "reason": input.reason, "signed_at": signedAt,
            ],
            action: "signature.\(meaning.rawValue)")
        return Signed(id: id, printedName: user.printedName, signedAt: signedAt)
    }
}

/// A user's lockout, as the `locked` column holds it: 0, or the Unix time (seconds) it ends.
enum Lockout {
    /// Whether a `locked` value locks the user now.
    static func isLocked(_ lockedUntil: Int64) -> Bool {
        lockedUntil > Int64(Date().timeIntervalSince1970)
    }

    /// When a lockout ends, as the record writes times.
    static func time(_ lockedUntil: Int64) -> String {
        RecordClock.timestamp(Date(timeIntervalSince1970: TimeInterval(lockedUntil)))
    }
}

/// Failed signatures with logins the record does not hold, counted in memory as a held login's
/// are counted in its row, so that they lock out alike and nobody learns from the answers which
/// logins exist. At most 4,096 are kept; one is forgotten when its lockout, or 15 minutes after
/// its last failure, is over.
final class UnknownLoginFailures: Sendable {
    private let failures = Mutex<[String: (attempts: Int64, lockedUntil: Int64, last: Int64)]>([:])

    /// The answer to one more failed attempt with unknown `login` at `now` (epoch seconds).
    func refusal(for login: String, now: Int64) -> WorkRecordError {
        failures.withLock { failures in
            failures = failures.filter { max($0.value.lockedUntil, $0.value.last + Signer.lockoutPeriod) > now }
            var entry = failures[login] ?? (0, 0, now)
            if entry.lockedUntil > now { return Signer.locked(login, until: entry.lockedUntil) }
            if entry.lockedUntil > 0 { entry = (0, 0, now) }  // a lockout served: counting starts again
            entry.attempts += 1
            entry.last = now
            if entry.attempts >= Signer.lockoutThreshold { entry.lockedUntil = now + Signer.lockoutPeriod }
            if failures.count < 4_096 || failures[login] != nil { failures[login] = entry }
            return entry.lockedUntil > 0 ? Signer.lockedNow(login, until: entry.lockedUntil) : Signer.wrong
        }
    }
}
