import ArgumentParser
import FloorgateCore
import Foundation
import GRDB
import WorkRecord

/// `floorgate build show SERIAL`.
struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build", abstract: "Look at a unit's build in the record.", subcommands: [Show.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The build of a serial: revision, active step with its points and results, pending redline, open NCs (JSON).")
        @Argument(help: ArgumentHelp("The unit's serial.", valueName: "serial")) var serial: String
        @Option(help: "The operation, when the serial has several builds.") var operation: String?
        @OptionGroup var target: RecordTarget

        func run() async throws {
            printJSON(try await target.call("build.get", ["serial": .string(serial), "operation": operation.map(JSONValue.string) ?? .null]))
        }
    }
}

/// `floorgate dhr SERIAL`.
struct DHRCommand: AsyncParsableCommand {
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
    @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "path")) var output: String?
    @OptionGroup var target: RecordTarget

    func run() async throws {
        guard ["json", "html"].contains(format) else { throw ValidationError("--format '\(format)' is not one of: json, html") }
        let dhr = try await target.call("dhr.export", ["serial": .string(serial)])
        let text = format == "html" ? DeviceHistoryPage.html(dhr) : dhr.text + "\n"
        if let output {
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
            } catch {
                throw CommandFailure("cannot write \(output): \(error.localizedDescription)")
            }
        } else {
            print(text, terminator: "")
        }
    }
}

/// `floorgate verify --db PATH`.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a record file against its audit chain; exit 3 naming the first broken entry or row.",
        discussion: """
            Recomputes every audit entry's SHA-256 from its content and its predecessor (stored \
            hashes are never trusted), then checks that every row of every record table is exactly \
            what its newest audit entry recorded, and that no recorded row is missing. Opens the \
            file read-only; run it on a copy or while the server runs.

            Exit codes: 0 the record verifies; 3 it does not (the first problem is printed); 1 the \
            file cannot be read as a record.
            """
    )
    @Option(help: ArgumentHelp("The record's SQLite file.", valueName: "path")) var db: String
    @Option(help: ArgumentHelp("A head hash kept outside the record (a DHR's audit head, a log line): the chain must pass through it.", valueName: "sha256"))
    var expectHead: String?

    func run() throws {
        guard FileManager.default.fileExists(atPath: db) else { throw CommandFailure("no record file at \(db)") }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        let report: AuditVerifier.Report
        do {
            let queue = try DatabaseQueue(path: db, configuration: configuration)
            report = try queue.read { try AuditVerifier.verify($0, expectedHead: expectHead) }
        } catch let error as DatabaseError where [.SQLITE_CORRUPT, .SQLITE_NOTADB].contains(error.resultCode.primaryResultCode) {
            throw CommandFailure("\(db): the file is damaged and cannot be read as a record: \(error.message ?? "\(error)")", exitCode: FloorgateExit.auditChainBroken)
        } catch {
            throw CommandFailure("cannot read \(db) as a record: \(error)")
        }
        if let problem = report.problem {
            throw CommandFailure("\(db) does not verify: \(problem)", exitCode: FloorgateExit.auditChainBroken)
        }
        print("\(db): \(report.entries) audit entries and \(report.rows) record rows verify; head \(report.head)")
    }
}
