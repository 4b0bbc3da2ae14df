import ArgumentParser
import FloorgateCore
import Foundation
import RecordProtocol

/// `floorgate spc`: a measurement point's control chart and capability, and freezing its limits.
struct SPCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spc",
        abstract: "Statistical process control of a measurement point: its chart, special causes and capability.",
        subcommands: [Show.self, Freeze.self],
        defaultSubcommand: Show.self)

    /// Which point: the options both subcommands take.
    struct PointSelector: ParsableArguments {
        @Option(help: "The part number.") var part: String
        @Option(help: ArgumentHelp("The point's name, as the instruction gives it.", valueName: "name")) var point: String
        @Option(help: ArgumentHelp("The step's key, when the point's name is in several steps.", valueName: "key")) var step: String?
        @Option(help: ArgumentHelp("The operation, when the point's name is in several operations.", valueName: "code")) var operation: String?

        var params: [String: JSONValue] {
            [
                "part": .string(part), "point": .string(point), "step": step.map(JSONValue.string) ?? .null,
                "operation": operation.map(JSONValue.string) ?? .null,
            ]
        }
    }

    struct Show: AsyncParsableCommand, PrintsJSON {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "A point's control chart, special causes (tests 1–4) and capability (Cp, Cpk, Pp, Ppk).",
            discussion: """
                A subgroup is one build's readings of the point; a corrected reading, or a \
                failed one measured again after rework, is left out for the one that replaced it. \
                One reading per build makes an individuals and \
                moving-range chart (I-MR), 2 to 9 averages and ranges (Xbar-R), 10 or more averages \
                and standard deviations (Xbar-S). Until a quality engineer freezes them \
                (`floorgate spc freeze`), the limits come from every subgroup (Phase I); after, \
                from the frozen baseline (Phase II). Cp and Cpk use the within-subgroup sigma, Pp \
                and Ppk the overall one; a one-sided specification gives only that side's Cpk and Ppk.

                --format text is a summary for a terminal; csv is one row per reading with its \
                subgroup, for Minitab or a spreadsheet; json is the record's answer \
                (docs/record-protocol.md, spc.get). Without --format: text on a terminal, else JSON.

                Examples:
                  floorgate spc --part HX-200 --point "bore diameter"
                  floorgate spc --db record.sqlite --part HX-200 --point "bore diameter" --format csv > bore.csv
                """)

        @OptionGroup var selector: PointSelector
        @Option(help: ArgumentHelp("List only the last N subgroups (the limits and indices use them all).", valueName: "n")) var last: Int?
        @Option(help: ArgumentHelp("text, csv or json.", valueName: "format")) var format: String?
        @OptionGroup var target: RecordTarget
        @OptionGroup var output: JSONOutput

        func validate() throws {
            if let format, !["text", "csv", "json"].contains(format) { throw ValidationError("--format '\(format)' is not one of: text, csv, json") }
            if let format, format != "json", output.json { throw ValidationError("--json and --format \(format) ask for two forms: give one") }
            if let last, last < 1 { throw ValidationError("--last must be at least 1") }
        }

        func run() async throws {
            var params = selector.params
            params["last"] = last.map { .integer(Int64($0)) } ?? .null
            let report = try await target.call(.spcGet, .object(params))
            switch format ?? (output.isWanted ? "json" : "text") {
            case "csv": print(SPCText.csv(report), terminator: "")
            case "text": SPCText.summary(report).forEach { print(TerminalText.escaped($0)) }
            default: printJSON(report)
            }
        }
    }

    struct Freeze: AsyncParsableCommand, PrintsJSON {
        static let configuration = CommandConfiguration(
            commandName: "freeze",
            abstract: "Freeze a point's control limits from a baseline of subgroups (a quality signature).",
            discussion: """
                The limits are computed from the first N complete subgroups (--baseline; all to \
                date without it) and kept, with who froze them and when: from then on the point's \
                subgroups are judged against them (Phase II). Freezing again replaces them for what \
                follows; earlier freezes stay in the record.

                Example:
                  floorgate spc freeze --part HX-200 --point "bore diameter" --baseline 25 --user quinn
                """)

        @OptionGroup var selector: PointSelector
        @Option(help: ArgumentHelp("How many of the first complete subgroups the limits come from.", valueName: "n")) var baseline: Int?
        @OptionGroup var signer: SignerOptions
        @OptionGroup var target: RecordTarget
        @OptionGroup var output: JSONOutput

        func validate() throws {
            if let baseline, baseline < 2 { throw ValidationError("--baseline must be at least 2 subgroups") }
        }

        func run() async throws {
            var params = selector.params
            params["baseline"] = baseline.map { .integer(Int64($0)) } ?? .null
            params["signature"] = try signer.signature(meaning: "approved")
            let frozen = try await target.call(.spcFreeze, .object(params))
            if output.isWanted {
                printJSON(frozen)
            } else {
                SPCText.summary(frozen).forEach { print(TerminalText.escaped($0)) }
            }
        }
    }
}

/// The text and CSV forms of an `spc.get` answer.
enum SPCText {
    /// A terminal's summary: the point, its limits, capability and special causes.
    static func summary(_ report: JSONValue) -> [String] {
        func text(_ value: JSONValue?) -> String {
            switch value {
            case .number(let number)?: "\(number)"
            case .integer(let number)?: "\(number)"
            case .string(let text)?: text
            default: "—"
            }
        }
        let unit = text(report["unit"])
        var lines = [
            "\(text(report["part"])) operation \(text(report["operation"])) step \(text(report["step"])) '\(text(report["point"]))' (revision \(text(report["instruction_revision"]))), \(unit)",
            "specification \(text(report["specification"]?["lower"])) … \(text(report["specification"]?["upper"])) \(unit)",
        ]
        let chart = text(report["chart"]), size = text(report["subgroup_size"])
        if let limits = report["limits"], !limits.isNull {
            let frozen = limits["frozen"].flatMap { $0.isNull ? nil : $0 }
            lines.append(
                "\(chart), subgroups of \(size); Phase \(text(report["phase"])): limits from \(text(limits["baseline_subgroups"])) subgroups"
                    + (frozen.map { ", frozen by \(text($0["printed_name"])) (\(text($0["by"]))) at \(text($0["frozen_at"]))" } ?? ""))
            let panes = ControlChartPanes.names(chart: chart)
            for (name, pane) in [(panes.location, limits["location"]), (panes.dispersion, limits["dispersion"])] {
                lines.append("  \(name): centre \(text(pane?["centre"])), limits \(text(pane?["lower"])) … \(text(pane?["upper"]))")
            }
        } else {
            lines.append("\(chart), subgroups of \(size): no limits yet")
        }
        if let capability = report["capability"], !capability.isNull {
            lines.append(
                "capability from \(text(capability["values"])) values in \(text(capability["subgroups"])) subgroups: mean \(text(capability["mean"])), σ within \(text(capability["sigma_within"])), σ overall \(text(capability["sigma_overall"]))")
            lines.append(
                "  Cp \(text(capability["cp"]))  Cpk \(text(capability["cpk"]))  Pp \(text(capability["pp"]))  Ppk \(text(capability["ppk"]))")
            lines += (capability["warnings"]?.arrayValue ?? []).map { "  note: \(text($0))" }
        }
        lines += (report["warnings"]?.arrayValue ?? []).map { "note: \(text($0))" }
        let causes = report["special_causes"]?.arrayValue ?? []
        lines.append(causes.isEmpty ? "no special causes (tests 1–4)" : "special causes:")
        lines += causes.map { "  \(text($0["serial"])) (build \(text($0["build_id"]))): test \(text($0["test"])): \(text($0["notice"]))" }
        return lines
    }

    /// One row per reading, with its subgroup's statistics and the tests it tripped (RFC 4180).
    static func csv(_ report: JSONValue) -> String {
        var rows = [["subgroup", "build_id", "serial", "result_id", "value", "unit", "subgroup_location", "subgroup_dispersion", "tests"]]
        let unit = report["unit"]?.stringValue ?? ""
        for (index, subgroup) in (report["subgroups"]?.arrayValue ?? []).enumerated() {
            let values = subgroup["values"]?.arrayValue ?? [], ids = subgroup["result_ids"]?.arrayValue ?? []
            let tests = (subgroup["tests"]?.arrayValue ?? []).compactMap(\.integerValue).map(String.init).joined(separator: " ")
            for (value, id) in zip(values, ids) {
                rows.append([
                    "\(index + 1)", subgroup["build_id"].map(\.text) ?? "", subgroup["serial"]?.stringValue ?? "", id.text,
                    value.stringValue ?? "", unit, subgroup["location"].map(\.text) ?? "", subgroup["dispersion"].map(\.text) ?? "", tests,
                ])
            }
        }
        return rows.map { $0.map(field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    /// A CSV field, quoted when it holds a comma, quote or line break.
    private static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
