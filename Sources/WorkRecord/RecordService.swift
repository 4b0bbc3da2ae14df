import Crypto
public import FloorgateCore
public import RecordProtocol
import Synchronization

/// One request to the record, as the socket or a command hands it over.
public struct RecordCall: Sendable {
    public var method: RecordMethod
    public var params: JSONValue?
    /// The caller as the audit trail names it: peer credentials, or `local` for a command that
    /// opened the file itself.
    public var peer: String
    /// Whether the caller may write (the server checks peer credentials against its allow list).
    public var mayWrite: Bool
    /// Whether the caller administers the record's host: root or the record server's own user
    /// on the socket, or a command that opened the record's file itself. It may unlock a user
    /// without an admin's signature.
    public var isHostAdministrator: Bool
    /// The caller's user as failed signatures are paced per peer (`uid=1000`; by default the
    /// whole `peer`).
    public var peerUser: String
    /// The signature's password, checked before the call's turn at the writer.
    var passwordCheck: PasswordCheck?
    /// Calls with the same key are served in the order submitted, even while one waits for its
    /// signature's check: the server's calls are keyed by their connection, others by peer.
    var orderingKey: String

    public init(
        method: RecordMethod, params: JSONValue?, peer: String, peerUser: String? = nil, mayWrite: Bool = true, isHostAdministrator: Bool = false
    ) {
        self.method = method
        self.params = params
        self.peer = peer
        self.peerUser = peerUser ?? peer
        self.mayWrite = mayWrite
        self.isHostAdministrator = isHostAdministrator
        orderingKey = peer
    }
}

/// What a request produced: its result and the notifications to push once committed.
public struct RecordOutcome: Sendable {
    public var result: JSONValue
    public var notifications: [RecordNotification]

    init(_ result: JSONValue, notifications: [RecordNotification] = []) {
        self.result = result
        self.notifications = notifications
    }
}

/// The record's methods over one database connection: each runs inside the caller's
/// transaction, checks the domain rules and writes through the audit chain.
public final class RecordService: Sendable {
    let passwords: PasswordHasher
    /// The stored password hashes last read, for checking signatures before the writer's turn.
    let knownHashes = KnownPasswordHashes()
    /// Failed signatures with logins the record does not hold.
    let unknownLogins = UnknownLoginFailures()
    /// Failed signatures slow the next attempts, per login and per peer user.
    let throttle: SignatureThrottle
    /// Whether signing waits for a synchronized clock.
    let signingClock: SigningClock
    /// How far ahead a result's time may be, and after how long it is late.
    let resultTimes: ResultTimePolicy
    /// The record server's key: it signs every audit entry this writer appends.
    let serverKey: RecordServerKey?
    private let instructionCache = Mutex<[Int64: InstructionContent]>([:])

    /// `passwordRounds` is the PBKDF2 work factor for passwords set from now on; `pacing`, how
    /// failed signatures slow the next attempts; `signingClock`, whether signing waits for a
    /// synchronized clock; `resultTimes`, how results' times are held; `serverKey`, what signs
    /// the audit entries.
    public init(
        passwordRounds: Int = PasswordHasher.defaultRounds, pacing: SignaturePacing = .standard, signingClock: SigningClock = .unchecked,
        resultTimes: ResultTimePolicy = ResultTimePolicy(), serverKey: RecordServerKey? = nil
    ) {
        self.serverKey = serverKey
        passwords = PasswordHasher(rounds: passwordRounds)
        throttle = SignatureThrottle(pacing: pacing)
        self.signingClock = signingClock
        self.resultTimes = resultTimes
    }

    /// The password check to run for `call` before its turn at the writer: none when the call
    /// carries no signature, its user's hash is not known yet, or its attempt must still wait
    /// (it is refused in its turn, without the check's cost).
    func passwordCheckToRun(for call: RecordCall) -> (password: String, storedHash: String)? {
        guard let check = knownHashes.checkToRun(for: call) else { return nil }
        if let login = call.params?["signature"]?["user"]?.stringValue {
            do { try throttle.admit(login: login, peerUser: call.peerUser) } catch { return nil }
        }
        return check
    }

    /// Authenticates `call`'s signer, paced: an attempt that comes too soon after failed ones is
    /// refused unchecked; a failure lengthens the login's and the peer user's wait, a success ends it.
    private func authenticate(_ params: Parameters, _ call: RecordCall, writer: AuditedWriter) async throws -> AuthenticatedUser {
        let input = try SignatureInput(params)
        if let refusal = signingClock.refusal() {
            RecordMetrics.signatureAttempt("clock")
            throw refusal
        }
        do {
            try throttle.admit(login: input.login, peerUser: call.peerUser)
        } catch {
            RecordMetrics.signatureAttempt("slowed")
            throw error
        }
        do {
            let user = try await Signer.authenticate(input, writer: writer, checked: call.passwordCheck, known: knownHashes, unknown: unknownLogins)
            throttle.succeeded(login: input.login, peerUser: call.peerUser)
            RecordMetrics.signatureAttempt("accepted")
            return user
        } catch let error as WorkRecordError where error.code == .signatureRejected || error.code == .userLocked {
            throttle.failed(login: input.login, peerUser: call.peerUser)
            RecordMetrics.signatureAttempt(error.code == .userLocked ? "locked" : "rejected")
            throw error
        }
    }

    /// Every method the record serves, for help and errors.
    public static var methodNames: [RecordMethod] { methods.keys.sorted() }

    /// Runs one call inside the current transaction. A write whose idempotency key was seen
    /// before returns the first answer and writes nothing.
    public func execute(_ transaction: any RecordTransaction, _ call: RecordCall) async throws(WorkRecordError) -> RecordOutcome {
        guard let method = Self.methods[call.method] else {
            throw WorkRecordError(.methodNotFound, "no method '\(call.method)'; methods: \(Self.methodNames.map(\.rawValue).joined(separator: ", "))")
        }
        let params = try Parameters(call.params)
        let writer = AuditedWriter(transaction: transaction, actor: Actor(user: try Self.claimedActor(params), peer: call.peer), key: serverKey)
        do {
            guard call.method.isWrite else {
                return try await method.run(MethodContext(transaction: transaction, params: params, service: self, writer: writer, authenticated: nil))
            }
            guard call.mayWrite else {
                throw WorkRecordError(.peerNotAllowed, "\(call.peer) may read the record but not write to it")
            }
            // Only a result keeps what the writer remembers of builds up to date; after any
            // other write they are reread.
            defer { if call.method != .resultRecord { transaction.memory?.forgetBuilds() } }
            let key = try params.string("idempotency_key")
            guard key.utf8.count <= 128 else { throw WorkRecordError(.invalidParams, "params.idempotency_key is longer than 128 bytes") }
            let digest = Self.digest(call.method, call.params)
            if let earlier = try await transaction.row("SELECT method, response, digest FROM idempotency WHERE key = ?", key) {
                guard earlier["method"] == call.method.rawValue else {
                    throw WorkRecordError(.conflict, "idempotency key \(key) was already used for \(earlier["method"] as String)")
                }
                // A key stored before digests were kept (NULL) answers any replay, as it did then.
                if let first = earlier["digest"] as String?, first != digest {
                    throw WorkRecordError(
                        .idempotencyKeyReused,
                        "idempotency key \(key) was first used for \(call.method) with other content; a new request needs a new key")
                }
                // The digest binds the signer; the password is checked again, so a replayed key
                // gives a signed answer only to the one who can sign it.
                if params.members["signature"] != nil {
                    _ = try await authenticate(params, call, writer: writer)
                }
                return RecordOutcome(try JSONValue(recordText: Array((earlier["response"] as String).utf8)))
            }
            // The signer first, before any rule is checked or anything is written; the method's
            // writes are then attributed to the authenticated signer.
            let authenticated = try await method.needsSignature(params, call, transaction)
                ? try await authenticate(params, call, writer: writer) : nil
            let methodWriter = authenticated.map { AuditedWriter(transaction: transaction, actor: Actor(user: $0.login, peer: call.peer), key: serverKey) } ?? writer
            let context = MethodContext(transaction: transaction, params: params, service: self, writer: methodWriter, authenticated: authenticated)
            // A signed method runs in a savepoint of its own: when it refuses, its writes are
            // undone but a cleared failed-signature count stands. Without a signer there is
            // nothing to keep: the request's own savepoint undoes a refused method's writes.
            var outcome: Result<RecordOutcome, any Error> = .failure(WorkRecordError(.internalError, "not run"))
            if authenticated == nil {
                do {
                    outcome = .success(try await method.run(context))
                } catch {
                    outcome = .failure(error)
                }
            } else {
                try await transaction.savepoint("method") {
                    do {
                        outcome = .success(try await method.run(context))
                        return true
                    } catch {
                        outcome = .failure(error)
                        return false
                    }
                }
            }
            switch outcome {
            case .success(let answer):
                try await transaction.execute(
                    "INSERT INTO idempotency (key, method, response, digest) VALUES (?, ?, ?, ?)", key, call.method.rawValue,
                    answer.result.text, digest)
                return answer
            case .failure(let error):
                let refusal = Self.refusal(error, method: call.method)
                throw authenticated?.clearedFailures == true ? refusal.keepingWrites() : refusal
            }
        } catch {
            throw Self.refusal(error, method: call.method)
        }
    }

    /// What binds an idempotency key to its request: SHA-256 over the method and the params as
    /// canonical JSON (keys sorted), without the key itself and without the signature's password,
    /// which the record never keeps.
    static func digest(_ method: RecordMethod, _ params: JSONValue?) -> String {
        guard case .object(var members)? = params else { return digest(method.rawValue + "\n") }
        members["idempotency_key"] = nil
        if case .object(var signature)? = members["signature"] {
            signature["password"] = nil
            members["signature"] = .object(signature)
        }
        return digest(method.rawValue + "\n" + JSONValue.object(members).text)
    }

    private static func digest(_ text: String) -> String {
        DeviceEvent.hex(Array(SHA256.hash(data: Array(text.utf8))))
    }

    /// Any error of a method as the refusal the caller gets.
    private static func refusal(_ error: any Error, method: RecordMethod) -> WorkRecordError {
        switch error {
        case let refusal as WorkRecordError:
            refusal
        case let error as RecordStoreError where error.kind == .constraint:
            WorkRecordError(.conflict, "the record refused the change: \(error.message)")
        case let error as RecordStoreError where error.kind == .unreachable:
            WorkRecordError(.internalError, "record database unreachable: \(error.message)")
        default:
            WorkRecordError(.internalError, "the record could not complete \(method): \(error)")
        }
    }

    /// The user a write is attributed to unless a signer is authenticated: the `operator` or
    /// `user` named in the params, else `system` (never an unverified signer).
    private static func claimedActor(_ params: Parameters) throws(WorkRecordError) -> String {
        if let name = try params.optionalString("operator") { return name }
        if let name = try params.optionalString("user") { return name }
        return try params.optionalString("raised_by") ?? "system"
    }

    /// Forgets every decoded revision: after a transaction failed to commit, a row id it used may
    /// be used again for another revision.
    func forgetDecodedInstructions() {
        instructionCache.withLock { $0.removeAll() }
    }

    /// The steps of instruction revision `id`, decoded once (approved revisions never change).
    func content(ofInstruction id: Int64, _ transaction: any RecordTransaction) async throws -> InstructionContent {
        if let cached = instructionCache.withLock({ $0[id] }) { return cached }
        guard let row = try await transaction.row("SELECT content, status FROM instruction WHERE id = ?", id) else {
            throw WorkRecordError(.notFound, "no instruction revision with id \(id)")
        }
        let content = try InstructionContent(storedText: row["content"])
        if row["status"] as String != "draft" {
            instructionCache.withLock { $0[id] = content }
        }
        return content
    }
}

/// What a method body works with.
struct MethodContext {
    let transaction: any RecordTransaction
    let params: Parameters
    let service: RecordService
    let writer: AuditedWriter
    /// The request's signer, authenticated before the method runs (nil without a signature).
    let authenticated: AuthenticatedUser?

    var signer: Signer { Signer(writer: writer, authenticated: authenticated) }
}

/// How the record serves one method of its protocol (whether it writes is the method's own
/// fact: `RecordMethod.isWrite`).
struct MethodHandler: Sendable {
    /// When a method's request must carry an electronic signature.
    enum Signing: Sendable {
        /// Never: a `signature` in its params is refused.
        case never
        /// Always.
        case always
        /// When the request adds users to a record that already has an admin, or calibrations
        /// (`record.import`).
        case whenAddingUsersOrCalibrations
        /// Unless the caller administers the record's host and sends no signature (`user.unlock`).
        case unlessHostAdministrator
    }

    var signing: Signing = .never
    var run: @Sendable (MethodContext) async throws -> RecordOutcome

    /// Whether this request's signer must be authenticated before the method runs.
    func needsSignature(_ params: Parameters, _ call: RecordCall, _ transaction: any RecordTransaction) async throws -> Bool {
        switch signing {
        case .never:
            guard params.members["signature"] == nil else {
                throw WorkRecordError(.invalidParams, "params.signature: this method takes no signature")
            }
            return false
        case .always:
            return true
        case .unlessHostAdministrator:
            return !call.isHostAdministrator || params.members["signature"] != nil
        case .whenAddingUsersOrCalibrations:
            guard try params.array("calibrations").isEmpty else { return true }
            guard try !params.array("users").isEmpty else { return false }
            return try await transaction.integer(#"SELECT COUNT(*) FROM "user" WHERE ',' || roles || ',' LIKE '%,admin,%'"#) ?? 0 > 0
        }
    }
}

extension RecordService {
    static let methods: [RecordMethod: MethodHandler] = [
        .recordInfo: MethodHandler(run: RecordInfo.run),
        .recordImport: MethodHandler(signing: .whenAddingUsersOrCalibrations, run: RecordImport.run),
        .userGet: MethodHandler(run: UserMethods.get),
        .userUnlock: MethodHandler(signing: .unlessHostAdministrator, run: UserMethods.unlock),
        .userAuthenticate: MethodHandler(signing: .always, run: UserMethods.authenticate),
        .instructionGet: MethodHandler(run: InstructionMethods.get),
        .instructionApprove: MethodHandler(signing: .always, run: InstructionMethods.approve),
        .redlinePublish: MethodHandler(signing: .always, run: RedlineMethods.publish),
        .redlineAcknowledge: MethodHandler(signing: .always, run: RedlineMethods.acknowledge),
        .workOrderRelease: MethodHandler(run: WorkOrderMethods.release),
        .workOrderClose: MethodHandler(run: WorkOrderMethods.close),
        .buildOpen: MethodHandler(run: BuildMethods.open),
        .buildGet: MethodHandler(run: BuildMethods.get),
        .buildClose: MethodHandler(signing: .always, run: BuildMethods.close),
        .resultRecord: MethodHandler(run: ResultMethods.record),
        .resultCorrect: MethodHandler(signing: .always, run: ResultMethods.correct),
        .stepComplete: MethodHandler(signing: .always, run: BuildMethods.completeStep),
        .ncRaise: MethodHandler(run: NonconformanceMethods.raise),
        .ncDisposition: MethodHandler(signing: .always, run: NonconformanceMethods.disposition),
        .ncConcur: MethodHandler(signing: .always, run: NonconformanceMethods.concur),
        .userDeactivate: MethodHandler(signing: .always, run: UserMethods.deactivate),
        .sign: MethodHandler(signing: .always, run: UserMethods.sign),
        .dhrExport: MethodHandler(run: DeviceHistoryRecord.export),
        .routeSet: MethodHandler(signing: .always, run: RouteMethods.set),
        .serverKeyRegister: MethodHandler(signing: .always, run: ServerKeyMethods.register),
        .serverKeyList: MethodHandler(run: ServerKeyMethods.list),
        .auditList: MethodHandler(run: AuditMethods.list),
        .unitRelease: MethodHandler(signing: .always, run: ReleaseMethods.release),
        .spcGet: MethodHandler(run: SPCMethods.get),
        .spcFreeze: MethodHandler(signing: .always, run: SPCMethods.freeze),
        .mediaPut: MethodHandler(run: MediaMethods.put),
        .mediaGet: MethodHandler(run: MediaMethods.get),
        .calibrationRecord: MethodHandler(signing: .always, run: CalibrationMethods.record),
        .calibrationGet: MethodHandler(run: CalibrationMethods.get),
        .calibrationList: MethodHandler(run: CalibrationMethods.list),
        .traceDevice: MethodHandler(run: DeviceTrace.run),
        .traceLot: MethodHandler(run: GenealogyTrace.lot),
        .traceUnit: MethodHandler(run: GenealogyTrace.unit),
    ]
}
