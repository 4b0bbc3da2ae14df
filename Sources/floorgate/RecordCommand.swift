import ArgumentParser
import FloorgateCore
import Foundation
import Glibc
import Logging
import MetricsEndpoint
import DeviceIO
import ServiceLifecycle
import UnixSignals
import NIOCore
import NIOPosix
import RecordProtocol
import WorkRecord

/// `floorgate record …`: run the work-order record and change it as people do.
struct RecordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "The work-order record: serve it, import into it, approve, redline, compare revisions, disposition, sign, route.",
        discussion: """
            The record holds parts, instructions and their revisions, work orders, builds, results, \
            nonconformances, redlines and electronic signatures, with a SHA-256 audit chain over \
            every write. It is served on a Unix socket (JSON-RPC 2.0, one object per line; \
            docs/record-protocol.md). Commands reach it through --socket (default \
            /run/floorgate/record.sock) or, when no server runs, open the file with --db.

            Every signing command asks for the signer's password at the terminal (or reads one \
            line from standard input) — both components of the signature, every time.

            A first record on a bench:
              floorgate record import examples/record-import.json --db r.sqlite
              floorgate record approve --db r.sqlite --part HX-200 \\
                  --part-revision C --operation 010 --revision A --user ada
              floorgate record serve --db r.sqlite --socket /tmp/record.sock

            A plant's record in PostgreSQL (docs/record.md), one server per station:
              floorgate record migrate --db 'postgresql:///record?host=/run/postgresql' --grant floorgate
              floorgate record serve --db 'postgresql://floorgate@db.plant/record' --socket /run/floorgate/record.sock
            """,
        subcommands: [
            RecordServeCommand.self, RecordMigrateCommand.self, RecordImportCommand.self, RecordApproveCommand.self, RecordRedlineCommand.self, RecordDiffCommand.self,
            RecordNCCommand.self, RecordSignCommand.self, RecordUnlockCommand.self, RecordRouteCommand.self, RecordMoveInCommand.self,
            RecordCalibrationCommand.self, RecordInitCommand.self, RecordKeysCommand.self, RecordReleaseCommand.self, RecordDeactivateCommand.self,
        ]
    )
}

/// `floorgate record serve`.
struct RecordServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the record on a Unix socket until SIGTERM or SIGINT.",
        discussion: """
            Opens the record and listens on the socket: a SQLite file is created and migrated if \
            needed; a PostgreSQL record must have this version's schema (`floorgate record migrate`), \
            and any number of servers, one per station, may serve it at once. \
            The socket is mode 0660 with group floorgate where that group exists, else 0600 with a \
            warning. Every connection is identified by its peer credentials; root, this user, \
            --allow-user users and --allow-group members may write, others only read. The first \
            line printed is `listening on PATH`.

            Every audit entry the server appends is signed with its key (--key; a SQLite record's \
            is beside its file, made the first time; a PostgreSQL record's servers each need one of \
            their own, made by `floorgate record init --key FILE`). An admin registers the public \
            half (`floorgate record keys register`); `verify --keys` then refuses any entry no \
            registered server signed. With --anchor-file, the server appends the chain's head \
            (sequence, hash, time) to that file every --anchor-interval seconds and when it stops: \
            keep it outside the database's directory, better on another host, for `verify --anchors`.

            Signatures carry this host's time. With --require-synchronized-clock none is taken \
            (record error 1064) while the kernel says the clock is not synchronized to a time \
            source (chrony, ntpd or systemd-timesyncd keep it so).

            The password of a PostgreSQL URL belongs in the password file (PGPASSFILE or \
            ~/.pgpass, mode 0600), never on the command line.

            Examples:
              floorgate record serve --db /var/lib/floorgate/record.sqlite --socket /run/floorgate/record.sock --allow-group floorgate
              floorgate record serve --db 'postgresql://floorgate@db.plant/record?sslmode=verify-full&sslrootcert=/etc/floorgate/plant-ca.pem'
            """
    )

    @Option(help: ArgumentHelp("The record: a SQLite file (created if missing) or a postgresql:// URL.", valueName: "path|url"))
    var db: String

    @Option(help: ArgumentHelp("The socket to listen on.", valueName: "path"))
    var socket: String = "/run/floorgate/record.sock"

    @Option(help: ArgumentHelp("A user allowed to write (repeatable).", valueName: "name"))
    var allowUser: [String] = []

    @Option(help: ArgumentHelp("A group whose members may write (repeatable).", valueName: "name"))
    var allowGroup: [String] = []

    @Option(help: ArgumentHelp("PBKDF2 rounds for passwords set by imports (default 600000; lower only for throwaway records).", valueName: "n"))
    var passwordRounds: Int = PasswordHasher.defaultRounds

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel: String = "info"

    @Flag(help: "Refuse signatures while this host's clock is not synchronized.")
    var requireSynchronizedClock = false

    @Option(help: ArgumentHelp("Refuse a result measured more than this many seconds ahead of this host's clock (record error 1041).", valueName: "seconds"))
    var futureTolerance: Int = 60

    @Option(help: ArgumentHelp("Mark a result late when it is recorded more than this many seconds after it was measured (queued, backfilled).", valueName: "seconds"))
    var lateAfter: Int = 300

    @Option(help: ArgumentHelp("This server's key, signing every audit entry it writes (default for a SQLite record: FILE.key beside it, made if missing).", valueName: "file"))
    var key: String?

    @Option(help: ArgumentHelp("Append the audit chain's head to this file, outside the database's directory, for `verify --anchors`.", valueName: "file"))
    var anchorFile: String?

    @Option(help: ArgumentHelp("Seconds between anchors written to --anchor-file (when the chain grew).", valueName: "seconds"))
    var anchorInterval: Int = 60

    @Option(help: ArgumentHelp("Serve metrics on http://ADDRESS:PORT/metrics (Prometheus's format; PORT 0: any free one).", valueName: "address:port"))
    var metrics: String?

    @OptionGroup var log: LogOptions

    func run() async throws {
        log.apply()
        guard passwordRounds >= 1_000 else { throw ValidationError("--password-rounds must be at least 1000") }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level '\(logLevel)' is not one of: trace, debug, info, notice, warning, error")
        }
        guard futureTolerance >= 0, lateAfter >= 0 else {
            throw ValidationError("--future-tolerance and --late-after are seconds, 0 or more")
        }
        guard anchorInterval >= 1 else { throw ValidationError("--anchor-interval is seconds, 1 or more") }
        let users = try Set(allowUser.map { name -> uid_t in
            guard let entry = getpwnam(name) else { throw ValidationError("--allow-user: no user '\(name)' on this machine") }
            return entry.pointee.pw_uid
        })
        let groups = try Set(allowGroup.map { name -> gid_t in
            guard let entry = getgrnam(name) else { throw ValidationError("--allow-group: no group '\(name)' on this machine") }
            return entry.pointee.gr_gid
        })
        var logger = Logger(label: "floorgate.record")
        logger.logLevel = level
        let metricsAddress = try metrics.map(Self.hostAndPort)
        if metricsAddress != nil { MetricsEndpoint.bootstrap() }  // before any metric is made
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let location = try RecordLocation(option: "--db", db)
        if case .postgres = location, key == nil {
            throw ValidationError("--key FILE: each server of a PostgreSQL record signs its audit entries with a key of its own (make one with `floorgate record init --key FILE`)")
        }
        let serverKey = try ServerKeyFile.key(for: location, option: key) { logger.notice("\($0)") }
        let server: RecordServer, store: RecordStore
        do {
            var options = RecordServer.Options(socketPath: socket, allowedUsers: users, allowedGroups: groups)
            options.serverKey = serverKey
            if requireSynchronizedClock { options.signingClock = .mustBeSynchronized() }
            options.resultTimes = ResultTimePolicy(futureTolerance: .seconds(futureTolerance), lateAfter: .seconds(lateAfter))
            (server, store) = try await RecordServer.start(location, options: options, passwordRounds: passwordRounds, group: group, logger: logger)
        } catch {
            try? await group.shutdownGracefully()
            throw CommandFailure("cannot serve the record \(location) on \(socket): \(error)")
        }
        let environment = ProcessInfo.processInfo.environment
        let manager = ServiceManager(environment: environment)
        let serving = RecordServerService(server: server, store: store, group: group, socket: socket, logger: logger) {
            // Said once the service group handles SIGTERM and SIGINT, so a supervisor that stops
            // the server as soon as it is ready gets a graceful shutdown.
            print("listening on \(socket)")
            fflush(nil)
            manager.ready(status: "record \(location) on \(socket)")
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: serving)]
        if let (host, port) = metricsAddress {
            services.append(.init(service: MetricsEndpoint(host: host, port: port, logger: logger) { port in
                print("metrics on http://\(host):\(port)/metrics")
                fflush(nil)
            }))
        }
        if let anchorFile {
            // After the server in the list: stopped first, it writes the last head while the store is open.
            services.append(.init(service: AuditAnchorService(store: store, file: anchorFile, interval: .seconds(anchorInterval), logger: logger)))
        }
        if let interval = ServiceManager.watchdogInterval(environment: environment) {
            services.append(.init(service: WatchdogService(manager: manager, interval: interval)))
        }
        try await ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
        )).run()
        manager.stopping()
    }
}

/// A running record server as a service: on graceful shutdown (SIGTERM, SIGINT) it stops taking
/// connections, lets the writer finish what is queued, and closes the store and the socket.
extension RecordServeCommand {
    /// `ADDRESS:PORT` of --metrics.
    static func hostAndPort(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port),
              colon != text.startIndex
        else { throw ValidationError("--metrics '\(text)' is not ADDRESS:PORT (e.g. 127.0.0.1:9465)") }
        return (String(text[..<colon]), port)
    }
}

struct RecordServerService: Service {
    let server: RecordServer
    let store: RecordStore
    let group: MultiThreadedEventLoopGroup
    let socket: String
    let logger: Logger
    /// Called when the service runs: the server is listening and signals are handled.
    let onRunning: @Sendable () -> Void

    func run() async throws {
        onRunning()
        try? await gracefulShutdown()
        logger.notice("stopping", metadata: ["socket": "\(socket)"])
        try await server.close()
        try await store.close()
        try await group.shutdownGracefully()
        unlink(socket)
    }
}

/// Appends the audit chain's head to an anchor file, every `interval` when the chain grew and
/// once more when the server stops. A head that cannot be written is logged, and tried again at
/// the next turn: the record goes on serving.
struct AuditAnchorService: Service {
    let store: RecordStore
    let file: String
    let interval: Duration
    let logger: Logger

    func run() async throws {
        let last = await cancelWhenGracefulShutdown {
            var written = await anchor(after: nil)
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                written = await anchor(after: written)
            }
            return written
        }
        _ = await anchor(after: last)
    }

    /// Writes the head when it is not `written`; returns the newest anchor written.
    private func anchor(after written: AuditAnchor?) async -> AuditAnchor? {
        do {
            guard let head = try await store.anchor(), head != written else { return written }
            try head.append(to: file)
            return head
        } catch {
            logger.error("cannot anchor the audit chain", metadata: ["file": "\(file)", "reason": "\(error)"])
            return written
        }
    }
}

/// `floorgate record migrate`.
struct RecordMigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Bring a record's schema to this version (a PostgreSQL record: as the database's owner).",
        discussion: """
            A PostgreSQL record is created and upgraded only by this command, run as the role that \
            owns the database; record servers never change the schema and refuse one older or newer \
            than their own. Several migrators at once are run one after the other. --grant gives a \
            role (the one record servers connect as) what the servers need and nothing more: rows \
            of results, signatures, the audit chain and the other append-only tables may be read \
            and added, never changed or removed. A SQLite file is migrated when it is opened; \
            this command does it without serving.

            Examples:
              sudo -u postgres createuser floorgate && sudo -u postgres createdb -O floorgate_owner record
              floorgate record migrate --db 'postgresql://floorgate_owner@db.plant/record' --grant floorgate
              floorgate record migrate --db /var/lib/floorgate/record.sqlite
            """
    )

    @Option(help: ArgumentHelp("The record: a SQLite file or a postgresql:// URL.", valueName: "path|url"))
    var db: String

    @Option(help: ArgumentHelp("A PostgreSQL role record servers connect as, to be given their privileges (repeatable).", valueName: "role"))
    var grant: [String] = []

    func run() async throws {
        let location = try RecordLocation(option: "--db", db)
        let outcome: RecordMigration.Outcome
        do {
            outcome = try await RecordMigration.migrate(location, grantingTo: grant)
        } catch {
            throw CommandFailure("cannot migrate the record \(location): \(error)")
        }
        let grants = grant.isEmpty ? "" : "; privileges granted to \(grant.joined(separator: ", "))"
        if outcome.from == outcome.to {
            print("\(location): schema version \(outcome.to) is current\(grants)")
        } else {
            print("\(location): schema version \(outcome.from) → \(outcome.to)\(grants)")
        }
    }
}

/// `floorgate record import FILE`.
struct RecordImportCommand: AsyncParsableCommand, PrintsJSON {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import users, parts, instruction drafts and work orders from a JSON file.",
        discussion: """
            The file is one JSON object with any of the arrays users, parts, instructions, \
            work_orders, stations and calibrations; examples/record-import.json shows the common fields, docs/genealogy.md the rest. \
            A part may carry its "gtin" (14 digits: its UDI-DI, and what component labels are \
            matched by) and "hibc" (labeler code and product number). Calibrations (the register \
            of `floorgate record calibration`) need a quality user's signature (--user). Decimal limits are \
            strings ("12.000"). Instructions arrive as drafts: approve them with \
            `floorgate record approve`. The import is one transaction: all of it or none. The \
            first import sets a record up; once the record has an admin, an import that adds \
            users needs an admin's signature (--user, password asked for).

            A step's pictures may be named by file, beside the JSON file: \
            "pictures": [{"file": "bore.png", "caption": "gauge position"}] (PNG, JPEG or SVG, at \
            most 512 KiB each). Each is put into the record first and the step refers to it by \
            the SHA-256 of its bytes.
            """
    )

    @Argument(help: ArgumentHelp("The JSON file to import.", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("The signer: an admin for an import that adds users, a quality user for calibrations.", valueName: "user"))
    var user: String?

    @OptionGroup var target: RecordTarget
    @OptionGroup var output: JSONOutput

    func run() async throws {
        let document: JSONValue
        do {
            document = try JSONValue(parsing: try Data(contentsOf: URL(fileURLWithPath: file)))
        } catch let error as JSONParseError {
            throw CommandFailure("\(file): \(error)", exitCode: FloorgateExit.badUsage)
        } catch {
            throw CommandFailure("cannot read \(file): \(error.localizedDescription)", exitCode: FloorgateExit.badUsage)
        }
        var params = try await StepPictureFiles(directory: URL(fileURLWithPath: file).deletingLastPathComponent(), target: target)
            .resolve(document: document)
        if let user, case .object(var members) = params {
            members["signature"] = try SignerOptions.signature(user: user, reason: nil, meaning: "approved")
            params = .object(members)
        }
        printJSON(try await target.call(.recordImport, params))
    }
}

/// The part, part revision and operation an instruction belongs to.
struct InstructionSelector: ParsableArguments {
    @Option(help: "The part number.") var part: String
    @Option(help: "The part's revision.") var partRevision: String
    @Option(help: "The operation (e.g. 010).") var operation: String

    var params: [String: JSONValue] {
        ["part": .string(part), "part_revision": .string(partRevision), "operation": .string(operation)]
    }
}

/// `floorgate record approve`.
struct RecordApproveCommand: AsyncParsableCommand, PrintsJSON {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a draft instruction revision (approver's signature); the previous one is superseded.")

    @OptionGroup var instruction: InstructionSelector
    @Option(help: "The draft revision to approve.") var revision: String
    @OptionGroup var signer: SignerOptions
    @OptionGroup var target: RecordTarget
    @OptionGroup var output: JSONOutput

    func run() async throws {
        var params = instruction.params
        params["revision"] = .string(revision)
        params["signature"] = try signer.signature(meaning: "approved")
        printJSON(try await target.call(.instructionApprove, .object(params)))
    }
}

/// `floorgate record redline`.
struct RecordRedlineCommand: AsyncParsableCommand, PrintsJSON {
    static let configuration = CommandConfiguration(
        commandName: "redline",
        abstract: "Draft a change to the effective revision (engineer's signature); it takes effect when an approver approves it.",
        discussion: """
            --steps names a JSON file holding the new revision's complete `steps` array (the same \
            form as in an import file). Steps keep their keys across revisions, so completed \
            steps keep their results under the revision they were performed on.

            The redline is a draft revision with its reason until an approver who did not write \
            it approves it (`floorgate record approve --revision NEW`); then it is the effective \
            revision, and every open build on the one it changes is told and must acknowledge it.

            Example:
              floorgate record redline --part HX-200 --part-revision C --operation 010 \
                  --new-revision B --why "ECO-512: more clamp load" --steps steps-b.json --user eric
              floorgate record approve --part HX-200 --part-revision C --operation 010 --revision B --user ada
            """
    )

    @OptionGroup var instruction: InstructionSelector
    @Option(help: "The new revision's name (e.g. B).") var newRevision: String
    @Option(help: "Why the instruction changes (an ECO number and a sentence).") var why: String
    @Option(help: ArgumentHelp("JSON file with the new revision's steps array.", valueName: "file")) var steps: String
    @OptionGroup var signer: SignerOptions
    @OptionGroup var target: RecordTarget
    @OptionGroup var output: JSONOutput

    func run() async throws {
        let stepsValue: JSONValue
        do {
            stepsValue = try JSONValue(parsing: try Data(contentsOf: URL(fileURLWithPath: steps)))
        } catch {
            throw CommandFailure("--steps \(steps): not a readable JSON file (\(error))", exitCode: FloorgateExit.badUsage)
        }
        var params = instruction.params
        params["new_revision"] = .string(newRevision)
        params["reason"] = .string(why)
        params["steps"] = try await StepPictureFiles(directory: URL(fileURLWithPath: steps).deletingLastPathComponent(), target: target)
            .resolve(steps: stepsValue["steps"] ?? stepsValue, path: "steps")
        params["signature"] = try signer.signature(meaning: "approved")
        printJSON(try await target.call(.redlinePublish, .object(params)))
    }
}

/// `floorgate record nc raise|disposition`.
struct RecordNCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nc", abstract: "Raise a nonconformance or disposition one (quality's signature).",
        subcommands: [Raise.self, Disposition.self, Concur.self])

    struct Raise: AsyncParsableCommand, PrintsJSON {
        static let configuration = CommandConfiguration(abstract: "Raise a nonconformance on a build by hand.")
        @Option(help: "The build.") var buildID: Int64
        @Option(help: "What is wrong.") var description: String
        @Option(help: "Who raises it.") var raisedBy: String
        @Option(help: "The step it concerns.") var step: String?
        @OptionGroup var target: RecordTarget
        @OptionGroup var output: JSONOutput

        func run() async throws {
            printJSON(try await target.call(.ncRaise, [
                "build_id": .integer(buildID), "description": .string(description), "raised_by": .string(raisedBy),
                "step": step.map(JSONValue.string) ?? .null,
            ]))
        }
    }

    struct Disposition: AsyncParsableCommand, PrintsJSON {
        static let configuration = CommandConfiguration(
            abstract: "Disposition a nonconformance: use-as-is, rework (the point is measured again), scrap or return.",
            discussion: """
                use-as-is and return are concessions: the comment is their justification, and the \
                nonconformance stays open until another quality user concurs (`floorgate record nc concur`).
                """)
        @Option(help: "The nonconformance.") var ncID: Int64
        @Option(help: "use-as-is, rework, scrap or return.") var disposition: String
        @Option(help: "The justification.") var comment: String
        @OptionGroup var signer: SignerOptions
        @OptionGroup var target: RecordTarget
        @OptionGroup var output: JSONOutput

        func run() async throws {
            printJSON(try await target.call(.ncDisposition, [
                "nc_id": .integer(ncID), "disposition": .string(disposition), "comment": .string(comment),
                "signature": try signer.signature(meaning: "dispositioned"),
            ]))
        }
    }

    struct Concur: AsyncParsableCommand, PrintsJSON {
        static let configuration = CommandConfiguration(
            abstract: "Concur with a use-as-is or return concession (a second quality user's signature); the disposition is then recorded.",
            discussion: """
                Example:
                  floorgate record nc concur --nc-id 3 --user quinn
                """)
        @Option(help: "The nonconformance.") var ncID: Int64
        @OptionGroup var signer: SignerOptions
        @OptionGroup var target: RecordTarget
        @OptionGroup var output: JSONOutput

        func run() async throws {
            printJSON(try await target.call(.ncConcur, ["nc_id": .integer(ncID), "signature": try signer.signature(meaning: "approved")]))
        }
    }
}

/// `floorgate record sign`.
struct RecordSignCommand: AsyncParsableCommand, PrintsJSON {
    static let configuration = CommandConfiguration(
        commandName: "sign", abstract: "Sign a record row as reviewed (quality's signature), e.g. a build's DHR review.")
    @Option(help: "The table: build, result, nonconformance, instruction, …") var recordType: String
    @Option(help: "The row's id.") var recordID: Int64
    @Option(help: "What the signature is for.") var subject: String?
    @OptionGroup var signer: SignerOptions
    @OptionGroup var target: RecordTarget
    @OptionGroup var output: JSONOutput

    func run() async throws {
        printJSON(try await target.call(.sign, [
            "record_type": .string(recordType), "record_id": .integer(recordID), "subject": subject.map(JSONValue.string) ?? .null,
            "signature": try signer.signature(meaning: "reviewed"),
        ]))
    }
}

/// `floorgate record unlock`.
struct RecordUnlockCommand: AsyncParsableCommand, PrintsJSON {
    static let configuration = CommandConfiguration(
        commandName: "unlock",
        abstract: "Unlock a user locked out by failed signatures before the lockout's 15 minutes are over.",
        discussion: """
            An admin signs the unlock (--user). Without --user, the unlock is asked with no signature, which             the record grants only to root or the record server's own user on the record's host (or to a             command with --db): the way back in when the only admin is the one locked out.
            """)
    @Option(help: "The locked user's id.") var login: String
    @Option(help: ArgumentHelp("The admin signing the unlock; the password is asked for.", valueName: "user"))
    var user: String?
    @Option(help: ArgumentHelp("The reason for signing, shown with the signature.", valueName: "text"))
    var reason: String?
    @OptionGroup var target: RecordTarget
    @OptionGroup var output: JSONOutput

    func run() async throws {
        var params: [String: JSONValue] = ["login": .string(login)]
        if let user { params["signature"] = try SignerOptions.signature(user: user, reason: reason, meaning: "approved") }
        printJSON(try await target.call(.userUnlock, .object(params)))
    }
}

/// `floorgate record route`.
struct RecordRouteCommand: AsyncParsableCommand, PrintsJSON {
    static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "Set which operations a station may open (an engineer's signature).",
        discussion: """
            A unit goes through its work order's operations in order; a station opens only the \
            operations routed to it. The change applies from the next build on and is kept with \
            the routes before it. Once any station is routed, a station without a route opens \
            nothing; a record that routes no station lets every station open every operation.

            Example:
              floorgate record route --station bench-7 --operation 020 --operation 030 --user eric
            """)
    @Option(help: ArgumentHelp("The station, as its gateway names itself.", valueName: "name")) var station: String
    @Option(name: .customLong("operation"), help: ArgumentHelp("An operation the station may open (repeat for each).", valueName: "code"))
    var operations: [String] = []
    @OptionGroup var signer: SignerOptions
    @OptionGroup var target: RecordTarget
    @OptionGroup var output: JSONOutput

    func run() async throws {
        printJSON(try await target.call(.routeSet, [
            "station": .string(station), "operations": .array(operations.map(JSONValue.string)),
            "signature": try signer.signature(meaning: "approved"),
        ]))
    }
}

/// `floorgate record move-in`.
struct RecordMoveInCommand: AsyncParsableCommand, PrintsJSON {
    static let configuration = CommandConfiguration(
        commandName: "move-in",
        abstract: "Copy a station's SQLite record into the plant's record, in one transaction.",
        discussion: """
            The station's file must verify first; it is only read, and verifies afterwards as \
            before. Users, parts, instruction revisions, redlines, work orders and serials the \
            plant already holds are used as they are, provided they agree; the rest is copied. \
            Every build, result, step completion, nonconformance, disposition, acknowledgement, \
            component built in and the signatures they carry are copied with new ids, as are the \
            parts' label identifiers and the calibration entries the plant lacks (the register \
            orders entries by when they were recorded), each a new entry of the plant's \
            audit chain naming the station's file and its audit head. A unit whose build of an \
            operation the plant already holds is refused, and then nothing is moved.

            Stop the station's gateway and let its outbox drain first: idempotency keys and the \
            station's routes stay behind.

            Example:
              floorgate record move-in --from /var/lib/floorgate/record.sqlite \\
                  --to 'postgresql://floorgate_owner@db.plant/record'
            """)
    @Option(help: ArgumentHelp("The station's SQLite record (no server may be writing to it).", valueName: "path"))
    var from: String
    @Option(help: ArgumentHelp("The record to move it into: a postgresql:// URL (or another SQLite file).", valueName: "url|path"))
    var to: String
    @Option(help: ArgumentHelp("Who moves it, as the plant's audit chain names them.", valueName: "name"))
    var by: String = "move-in"
    @Option(help: ArgumentHelp("The record server key that signs the entries the move appends (a PostgreSQL record: a registered server's).", valueName: "file"))
    var key: String?
    @OptionGroup var output: JSONOutput

    func run() async throws {
        let target = try RecordLocation(option: "--to", to)
        guard FileManager.default.fileExists(atPath: from) else { throw ValidationError("--from: no file \(from)") }
        let outcome: RecordMoveIn.Outcome
        do {
            outcome = try await RecordMoveIn.move(from: from, to: target, mover: by, key: try ServerKeyFile.key(for: target, option: key))
        } catch let error as WorkRecordError {
            throw CommandFailure("cannot move \(from) in: \(error.message) (record error \(error.code.rawValue))")
        } catch {
            throw CommandFailure("cannot move \(from) in: \(error)")
        }
        printJSON([
            "from": .string(from), "to": .string(target.description), "source_audit_head": .string(outcome.sourceHead),
            "serials": .array(outcome.serials.map(JSONValue.string)),
            "copied": .object(outcome.copied.mapValues { .integer(Int64($0)) }),
        ])
    }
}

/// `floorgate record init`.
struct RecordInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Make a record server's key, which signs every audit entry the server writes.",
        discussion: """
            Run it on the server's host as the record's service user: the key file is made mode \
            0600 and must stay readable by that user only (`record serve` refuses it otherwise). \
            A SQLite record's key is FILE.key beside it unless --key says where; each server of a \
            PostgreSQL record has a key of its own. It prints the public half, which an admin \
            registers; keep a copy of the exported keys away from the database's host.

            Examples:
              floorgate record init --db /var/lib/floorgate/record.sqlite
              floorgate record init --key /etc/floorgate/record-server.key
              floorgate record keys register --public-key HEX --name bench-3 --user root-admin
            """)
    @Option(help: ArgumentHelp("A SQLite record whose key (FILE.key) to make.", valueName: "path")) var db: String?
    @Option(help: ArgumentHelp("Where to make the key.", valueName: "file")) var key: String?

    func run() async throws {
        let path: String
        if let key {
            path = key
        } else if let db, case .sqlite(let file) = try RecordLocation(option: "--db", db) {
            path = RecordServerKey.defaultPath(sqlite: file)
        } else {
            throw ValidationError("say where the key goes: --key FILE, or --db with a SQLite record")
        }
        do {
            let made = try RecordServerKey.create(path: path)
            print("made the record server key \(path) (key \(made.keyID))")
            print("public key: \(made.publicKey)")
            print("register it: floorgate record keys register --public-key \(made.publicKey) --name NAME --user ADMIN")
        } catch {
            throw CommandFailure(error.description)
        }
    }
}

/// `floorgate record keys register|export`.
struct RecordKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Register a record server's public key (an admin's signature), or export the registered keys for `verify --keys`.",
        subcommands: [Register.self, Export.self])

    struct Register: AsyncParsableCommand, PrintsJSON {
        static let configuration = CommandConfiguration(
            abstract: "Register a record server's public key, signed by an admin.",
            discussion: """
                The public half comes from --public-key (as `record init` printed it) or from the \
                key file itself (--key-file, which only its owner can read).

                Example:
                  floorgate record keys register --key-file /var/lib/floorgate/record.sqlite.key --name bench-3 --user root-admin
                """)
        @Option(help: ArgumentHelp("The public key, 64 hex digits.", valueName: "hex")) var publicKey: String?
        @Option(help: ArgumentHelp("A server key file whose public half to register.", valueName: "file")) var keyFile: String?
        @Option(help: ArgumentHelp("The server the key belongs to: its host or station.", valueName: "name")) var name: String
        @OptionGroup var signer: SignerOptions
        @OptionGroup var target: RecordTarget
        @OptionGroup var output: JSONOutput

        func run() async throws {
            let key: String
            switch (publicKey, keyFile) {
            case (let hex?, nil): key = hex
            case (nil, let file?):
                do { key = try RecordServerKey.load(path: file).publicKey } catch { throw CommandFailure(error.description) }
            default: throw ValidationError("give the key as --public-key HEX or --key-file FILE (one of them)")
            }
            printJSON(try await target.call(.serverKeyRegister, [
                "public_key": .string(key), "name": .string(name), "signature": try signer.signature(meaning: "approved"),
            ]))
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the registered servers' public keys as a keys file for `verify --keys`.",
            discussion: """
                Keep the file where the database's administrators cannot change it (the quality \
                system, another host): a key added to the database later is not in it.

                Example:
                  floorgate record keys export > /mnt/qa/record-keys
                """)
        @OptionGroup var target: RecordTarget

        func run() async throws {
            let keys = try await target.call(.serverKeyList, [:])["keys"]?.arrayValue ?? []
            guard !keys.isEmpty else { throw CommandFailure("no record server key is registered: `floorgate record keys register` first") }
            print(Self.keysFile(keys), terminator: "")
        }

        /// The keys file of `keys` as `server_key.list` gives them.
        static func keysFile(_ keys: [JSONValue]) -> String {
            var text = "# Floorgate record servers' public keys, exported \(Date().formatted(.iso8601))\n"
            for key in keys {
                text += "# \(key["key_id"]?.stringValue ?? "") registered \(key["registered_at"]?.stringValue ?? "") by \(key["registered_by"]?.stringValue ?? "")\n"
                text += "ed25519 \(key["public_key"]?.stringValue ?? "") \(key["name"]?.stringValue ?? "")\n"
            }
            return text
        }
    }
}

/// `floorgate record release`.
struct RecordReleaseCommand: AsyncParsableCommand, PrintsJSON {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Release a unit for distribution (quality's signature) once its route is accepted.",
        discussion: """
            Every required operation of the unit's route must be closed (accepted), no build of it \
            scrapped or rejected, every nonconformance dispositioned; a unit is released once. The \
            DHR then shows the release, and its work order's count of units released.

            Example:
              floorgate record release --serial SN-0001 --user quinn
            """)
    @Option(help: ArgumentHelp("The unit's serial.", valueName: "serial")) var serial: String
    @OptionGroup var signer: SignerOptions
    @OptionGroup var target: RecordTarget
    @OptionGroup var output: JSONOutput

    func run() async throws {
        printJSON(try await target.call(.unitRelease, ["serial": .string(serial), "signature": try signer.signature(meaning: "approved")]))
    }
}

/// `floorgate record deactivate`.
struct RecordDeactivateCommand: AsyncParsableCommand, PrintsJSON {
    static let configuration = CommandConfiguration(
        commandName: "deactivate",
        abstract: "Deactivate a user (an admin's signature): never deleted, their signatures stay valid, they sign nothing more.",
        discussion: """
            Example:
              floorgate record deactivate --login olga --why "left the company 2026-12-04" --user root-admin
            """)
    @Option(help: "The user's id.") var login: String
    @Option(help: "Why (shown in the audit trail).") var why: String
    @OptionGroup var signer: SignerOptions
    @OptionGroup var target: RecordTarget
    @OptionGroup var output: JSONOutput

    func run() async throws {
        printJSON(try await target.call(.userDeactivate, [
            "login": .string(login), "reason": .string(why), "signature": try signer.signature(meaning: "approved"),
        ]))
    }
}
