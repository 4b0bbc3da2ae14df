import ArgumentParser
import FloorgateCore
import Foundation
import Gateway
import Glibc
import RecordProtocol
import WorkRecord

/// Where a command finds the record: the running record's socket (the default), or the
/// record's file opened directly when no record server runs (a bench, a test, an audit copy).
struct RecordTarget: ParsableArguments {
    @Option(help: ArgumentHelp("The record's socket.", valueName: "path"))
    var socket: String = "/run/floorgate/record.sock"

    @Option(help: ArgumentHelp("Work on the record directly instead of through the socket: a SQLite file (refused while a record server writes it) or a postgresql:// URL (the plant's record, beside its servers).", valueName: "path|url"))
    var db: String?

    @Option(help: ArgumentHelp("PBKDF2 rounds for passwords set through --db (default 600000; lower only for throwaway records).", valueName: "n"))
    var passwordRounds: Int = PasswordHasher.defaultRounds

    @Option(help: ArgumentHelp("The record server key that signs what is written through --db (default: a SQLite file's, FILE.key beside it).", valueName: "file"))
    var key: String?

    func validate() throws {
        guard passwordRounds >= 1_000 else { throw ValidationError("--password-rounds must be at least 1000") }
    }

    /// Calls `method` on the record and returns its result.
    func call(_ method: RecordMethod, _ params: JSONValue) async throws -> JSONValue {
        let params = params.withIdempotencyKey(for: method)
        do {
            if let db {
                let location = try RecordLocation(option: "--db", db)
                let serverKey = method.isWrite ? try ServerKeyFile.key(for: location, option: key) : nil
                let store = try await RecordStore.open(location, passwordRounds: passwordRounds, serverKey: serverKey)
                // Whoever opens the record's file for writing administers it.
                let call = RecordCall(method: method, params: params, peer: "local uid=\(getuid()) pid=\(getpid())", isHostAdministrator: true)
                do {
                    let result = try await store.perform(call).result
                    try await store.close()
                    return result
                } catch {
                    try? await store.close()
                    throw error
                }
            }
            // One call, then the command ends: the connection ends with the process.
            return try await RecordClient(socketPath: socket, answerTimeout: .seconds(60)).call(method, params)
        } catch RecordCallError.unreachable(let reason) {
            throw CommandFailure("\(method): cannot reach the record at \(reason); is `floorgate record serve` running?")
        } catch let error as RecordCallError {
            throw CommandFailure("\(method): \(error)")
        } catch let error as WorkRecordError {
            throw CommandFailure("\(method): \(error.message) (record error \(error.code.rawValue))")
        } catch let error as ValidationError {
            throw error
        } catch {
            throw CommandFailure("cannot open the record \(db.map { (try? RecordLocation($0).description) ?? $0 } ?? socket): \(error)")
        }
    }
}

extension RecordLocation {
    /// The record named by a command line option, or a usage error naming the option.
    init(option: String, _ text: String) throws(ValidationError) {
        do {
            try self.init(text)
        } catch {
            throw ValidationError("\(option): \(error)")
        }
    }
}

/// A signer's two components: the user id from the command line, the password typed at the
/// terminal without echo (or read as one line from standard input when it is not a terminal).
struct SignerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The signing user's id; the password is asked for (or read from standard input).", valueName: "user"))
    var user: String

    @Option(help: ArgumentHelp("The reason for signing, shown with the signature.", valueName: "text"))
    var reason: String?

    /// The `signature` params member, after asking for the password.
    func signature(meaning: String) throws -> JSONValue {
        try Self.signature(user: user, reason: reason, meaning: meaning)
    }

    /// The `signature` params member for `user`, after asking for the password.
    static func signature(user: String, reason: String?, meaning: String) throws -> JSONValue {
        let password = try readPassword(prompt: "Password for \(user) (signing: \(meaning)): ")
        return ["user": .string(user), "password": .string(password), "reason": reason.map(JSONValue.string) ?? .null]
    }

    private static func readPassword(prompt: String) throws -> String {
        guard isatty(0) == 1 else {
            guard let line = Swift.readLine(strippingNewline: true), !line.isEmpty else {
                throw CommandFailure("no password on standard input")
            }
            return line
        }
        StandardError.write(prompt)
        var original = termios()
        tcgetattr(0, &original)
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(0, TCSAFLUSH, &silent)
        defer {
            tcsetattr(0, TCSAFLUSH, &original)
            StandardError.write("\n")
        }
        guard let line = Swift.readLine(strippingNewline: true), !line.isEmpty else {
            throw CommandFailure("no password entered")
        }
        return line
    }
}

extension JSONValue {
    /// These params of `method` with a fresh idempotency key when the method writes and has none:
    /// a command is one attempt, and the record keeps its write once.
    func withIdempotencyKey(for method: RecordMethod) -> JSONValue {
        guard method.isWrite, case .object(var members) = self, members["idempotency_key"] == nil else { return self }
        members["idempotency_key"] = .string(UUIDv7.make())
        return .object(members)
    }
}

/// Prints a JSON result the way commands show them: sorted keys, one line.
func printJSON(_ value: JSONValue) {
    print(value.text)
}

/// The record server key a command writes with: `--key FILE` where given; else a SQLite
/// record's own, beside its file (made there the first time); a PostgreSQL record's writer
/// without --key writes unsigned entries, which `verify --keys` refuses, and is told so
/// (`tell`: on standard error unless the caller logs).
enum ServerKeyFile {
    static func key(
        for location: RecordLocation, option path: String?, tell: (String) -> Void = { StandardError.write("floorgate: \($0)\n") }
    ) throws -> RecordServerKey? {
        do throws(AuditKeyError) {
            if let path { return try RecordServerKey.load(path: path) }
            guard case .sqlite(let file) = location else {
                tell("no --key: the audit entries written to \(location) are not signed, and `verify --keys` will refuse them")
                return nil
            }
            let (key, created) = try RecordServerKey.loadOrCreate(path: RecordServerKey.defaultPath(sqlite: file))
            if created {
                tell("made the record server key \(RecordServerKey.defaultPath(sqlite: file)) (key \(key.keyID)); an admin registers it with `floorgate record keys register`")
            }
            return key
        } catch {
            throw CommandFailure(error.description)
        }
    }
}
