import ArgumentParser
import FloorgateCore
import Foundation
import RecordProtocol
import WorkRecord

/// `floorgate audit export`: the audit trail for an inspector.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The record's audit trail, for an inspector.",
        subcommands: [Export.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export the audit trail between two times as CSV, JSON or a printable HTML page.",
            discussion: """
                Every entry, oldest first: its number, when (UTC), who (the user, and the process \\
                or station that wrote it), what (the action, the table and row), and the values \\
                before and after: each column of a new row, or each column an update changed, as \\
                `column: old → new`. Each entry's hash and the key of the server that signed it \\
                close the line. Users' password keys are withheld. The file reads without \\
                Floorgate (a spreadsheet, a browser); whether the record it came from is intact is \\
                `floorgate verify --keys --anchors`'s to say.

                --from and --to take a day (2026-12-08; --to includes the whole day) or a time \\
                with its zone (2026-12-08T14:30:00Z).

                Examples:
                  floorgate audit export --from 2026-12-01 --to 2026-12-07 --format csv --output week-49.csv
                  floorgate audit export --db record.sqlite --format html --output audit.html
                """)
        @Option(help: ArgumentHelp("The first day or time to include.", valueName: "time")) var from: String?
        @Option(help: ArgumentHelp("The last day or time to include.", valueName: "time")) var to: String?
        @Option(help: ArgumentHelp("csv, json or html.", valueName: "format")) var format: String = "csv"
        @Option(name: .customLong("output"), help: ArgumentHelp("Write to this file instead of standard output.", valueName: "path"))
        var outputFile: String?
        @OptionGroup var target: RecordTarget

        func run() async throws {
            guard let format = AuditTrailDocument.Format(rawValue: format) else {
                throw ValidationError("--format '\(format)' is not one of: csv, json, html")
            }
            var document = AuditTrailDocument(format: format)
            let span = "\(from ?? "the first entry") to \(to ?? "the last")"
            var text = document.opening(title: "Audit trail of \(target.db ?? target.socket), \(span)")
            var params: [String: JSONValue] = ["limit": .integer(5_000)]
            if let from { params["from"] = .string(from) }
            if let to { params["to"] = .string(to) }
            while true {
                let page = try await target.call(.auditList, .object(params))
                text += document.entries(page["entries"]?.arrayValue ?? [])
                guard let next = page["next_after"], !next.isNull else { break }
                params["after"] = next
            }
            text += document.closing()
            try CommandOutput.write(text, to: outputFile)
        }
    }
}
