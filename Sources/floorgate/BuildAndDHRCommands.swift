import ArgumentParser
import FloorgateCore
import Foundation
import RecordProtocol
import WorkRecord

/// `floorgate build show SERIAL`.
struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build", abstract: "Look at a unit's build in the record.", subcommands: [Show.self])

    struct Show: AsyncParsableCommand, PrintsJSON {
        static let configuration = CommandConfiguration(
            abstract: "The build of a serial: revision, active step with its points and results, pending redline, open NCs (JSON).")
        @Argument(help: ArgumentHelp("The unit's serial.", valueName: "serial")) var serial: String
        @Option(help: "The operation, when the serial has several builds.") var operation: String?
        @OptionGroup var target: RecordTarget
        @OptionGroup var output: JSONOutput

        func run() async throws {
            printJSON(try await target.call(.buildGet, ["serial": .string(serial), "operation": operation.map(JSONValue.string) ?? .null]))
        }
    }
}

/// `floorgate dhr SERIAL`.
struct DHRCommand: AsyncParsableCommand, PrintsJSON {
    static let configuration = CommandConfiguration(
        commandName: "dhr",
        abstract: "The device history record of a serial, as JSON or a printable HTML page.",
        discussion: """
            Holds every 21 CFR 820.184 item the record keeps: dates of manufacture, quantity, \
            acceptance records (results with verdicts, devices and raw bytes), labels and control \
            numbers scanned, the instruction revisions used, redlines acknowledged, \
            nonconformances and dispositions, signatures (printed name, time, meaning) and the \
            audit chain's head hash.

            Examples:
              floorgate dhr SN-0001 --socket /run/floorgate/record.sock
              floorgate dhr SN-0001 --db record.sqlite --format html --output SN-0001.html
            """
    )
    @Argument(help: ArgumentHelp("The unit's serial.", valueName: "serial")) var serial: String
    @Option(help: "json or html.") var format: String = "json"
    @Option(name: .customLong("output"), help: ArgumentHelp("Write to this file instead of standard output.", valueName: "path")) var outputFile: String?
    @OptionGroup var target: RecordTarget
    @OptionGroup var output: JSONOutput

    func run() async throws {
        guard ["json", "html"].contains(format) else { throw ValidationError("--format '\(format)' is not one of: json, html") }
        guard !(output.json && format == "html") else { throw ValidationError("--json and --format html ask for two forms: give one") }
        let dhr = try await target.call(.dhrExport, ["serial": .string(serial)])
        try CommandOutput.write(format == "html" ? DeviceHistoryPage.html(dhr) : dhr.text + "\n", to: outputFile)
    }
}

/// Where a command's document goes: the file `--output` names (written whole, atomically), or
/// standard output.
enum CommandOutput {
    static func write(_ text: String, to file: String?) throws {
        guard let file else { return print(text, terminator: "") }
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
        } catch {
            throw CommandFailure("cannot write \(file): \(error.localizedDescription)")
        }
    }
}

/// `floorgate verify --db PATH|URL`.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a record against its audit chain; exit 3 naming the first broken entry or row.",
        discussion: """
            Recomputes every audit entry's SHA-256 from its content and its predecessor (stored \
            hashes are never trusted), then checks that every row of every record table is exactly \
            what its newest audit entry recorded, that no recorded row is missing, that entries \
            never go back in time, and that the triggers keeping rows append-only are in place, \
            each exactly as the schema made it. A SQLite file is opened read-only (run it on a copy \
            or while the server runs); a PostgreSQL record is read in one snapshot while its \
            servers go on writing.

            Against an insider who can write the database, check it with what is kept outside it: \
            --keys, the registered servers' public keys (`floorgate record keys export`, kept off \
            the database's host): every entry must be signed by one of them, so entries rewritten \
            or appended with recomputed hashes fail; --anchors, a server's anchor file \
            (`record serve --anchor-file`): the chain must still hold every anchored entry \
            unchanged at its place, so a rewrite before an anchor or a cut tail fails.

            Exit codes: 0 the record verifies; 3 it does not (the first problem is printed); 1 the \
            record cannot be read.

            Examples:
              floorgate verify --db /var/lib/floorgate/record.sqlite
              floorgate verify --db 'postgresql://quality@db.plant/record'
              floorgate verify --db record.sqlite --keys /mnt/qa/record-keys --anchors /mnt/qa/bench-3.anchors
            """
    )
    @Option(help: ArgumentHelp("The record: a SQLite file, or a postgresql:// URL.", valueName: "path|url")) var db: String
    @Option(help: ArgumentHelp("A head hash kept outside the record (a DHR's audit head, a log line): the chain must pass through it.", valueName: "sha256"))
    var expectHead: String?
    @Option(help: ArgumentHelp("The registered record servers' public keys (`floorgate record keys export`): every entry must be signed by one.", valueName: "file"))
    var keys: String?
    @Option(help: ArgumentHelp("An anchor file a record server wrote (repeatable): the chain must hold every anchored head unchanged.", valueName: "file"))
    var anchors: [String] = []

    func run() async throws {
        let location = try RecordLocation(option: "--db", db)
        if case .sqlite(let path) = location, !FileManager.default.fileExists(atPath: path) {
            throw CommandFailure("no record file at \(path)")
        }
        var evidence = AuditVerifier.Evidence(expectedHead: expectHead)
        do {
            if let keys { evidence.keys = try AuditPublicKeys(parsing: try Self.read(keys), file: keys) }
            for file in anchors { evidence.anchors += try AuditAnchor.parse(try Self.read(file), file: file) }
        } catch let error as AuditKeyError {
            throw CommandFailure(error.description)
        }
        let report: AuditVerifier.Report
        do {
            report = try await RecordStore.verify(location, evidence)
        } catch let error as RecordStoreError where error.kind == .damaged {
            throw CommandFailure("\(location): the file is damaged and cannot be read as a record: \(error.message)", exitCode: FloorgateExit.auditChainBroken)
        } catch {
            throw CommandFailure("cannot read \(location) as a record: \(error)")
        }
        if let problem = report.problem {
            throw CommandFailure("\(location) does not verify: \(problem)", exitCode: FloorgateExit.auditChainBroken)
        }
        let checked = [
            evidence.keys.map { "every entry signed by one of \($0.count) registered keys" },
            evidence.anchors.isEmpty ? nil : "\(evidence.anchors.count) anchors held",
        ].compactMap { $0 }
        print("\(location): \(report.entries) audit entries and \(report.rows) record rows verify\(checked.isEmpty ? "" : " (" + checked.joined(separator: ", ") + ")"); head \(report.head)")
    }

    /// A file given on the command line, as text.
    private static func read(_ path: String) throws -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch { throw CommandFailure("cannot read \(path): \(error.localizedDescription)") }
    }
}
