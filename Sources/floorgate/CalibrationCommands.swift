import ArgumentParser
import FloorgateCore
import Foundation
import RecordProtocol

/// `floorgate record calibration`: the register of measuring devices' calibrations.
struct RecordCalibrationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibration",
        abstract: "The calibration register: which measuring devices may feed the record, and until when.",
        discussion: """
            A device is known by its asset number: the `serial` its station's configuration gives \
            it, which every result it gives carries. Once the register holds any entry, the record \
            refuses a measurement or tightening from a device it does not know, that failed \
            calibration or was withdrawn, or whose due date passed before the reading was \
            measured (dates are compared in UTC); the gateway keeps such a result as unbound, with \
            the reason. A point with "allow_uncalibrated": true admits an uncalibrated reference \
            device. Scans are never gated. Each entry is signed by a quality user; none is ever \
            changed: a new entry follows it. Entries can also be imported (the `calibrations` \
            array of `floorgate record import`, signed with --user).

            Examples:
              floorgate record calibration add --asset CAL-0042 --status calibrated \\
                  --calibrated-on 2026-11-02 --interval-days 180 --certificate MET-2026-1187 --user quinn
              floorgate record calibration add --asset CAL-0042 --status failed --calibrated-on 2026-12-01 \\
                  --assessment "reads 0.03 mm long above 100 mm; re-measure bores" --user quinn
              floorgate record calibration list --due-within 14
              floorgate trace --device CAL-0042 --since 2026-11-02
            """,
        subcommands: [Add.self, Show.self, List.self])

    struct Add: AsyncParsableCommand, PrintsJSON {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add an entry for a device: calibrated, failed or out-of-service (a quality signature).",
            discussion: """
                calibrated needs --calibrated-on, --certificate and the due date (--due-on, or \
                --interval-days from the calibration date). failed needs --calibrated-on (when it \
                was found out of tolerance) and --assessment; its answer lists every result the \
                device gave since its last good calibration, the units to assess.
                """)

        @Option(help: ArgumentHelp("The device's asset number (its serial in the station's configuration).", valueName: "id")) var asset: String
        @Option(help: ArgumentHelp("calibrated, failed or out-of-service.", valueName: "status")) var status: String
        @Option(help: ArgumentHelp("What the device is (e.g. \"caliper 0–150 mm\").", valueName: "text")) var description: String?
        @Option(help: ArgumentHelp("The date it was calibrated (YYYY-MM-DD).", valueName: "date")) var calibratedOn: String?
        @Option(help: ArgumentHelp("The date it falls due (YYYY-MM-DD).", valueName: "date")) var dueOn: String?
        @Option(help: ArgumentHelp("The calibration interval in days (gives the due date when --due-on is absent).", valueName: "days"))
        var intervalDays: Int?
        @Option(help: ArgumentHelp("The calibration certificate's reference.", valueName: "ref")) var certificate: String?
        @Option(help: ArgumentHelp("For a failed calibration: what it means for the results given since the last good one.", valueName: "text"))
        var assessment: String?
        @OptionGroup var signer: SignerOptions
        @OptionGroup var target: RecordTarget
        @OptionGroup var output: JSONOutput

        func validate() throws {
            let statuses = ["calibrated", "failed", "out-of-service"]
            guard statuses.contains(status) else { throw ValidationError("--status '\(status)' is not one of: \(statuses.joined(separator: ", "))") }
        }

        func run() async throws {
            let entry = try await target.call(.calibrationRecord, [
                "asset": .string(asset), "status": .string(status), "description": description.map(JSONValue.string) ?? .null,
                "calibrated_on": calibratedOn.map(JSONValue.string) ?? .null, "due_on": dueOn.map(JSONValue.string) ?? .null,
                "interval_days": intervalDays.map { .integer(Int64($0)) } ?? .null, "certificate": certificate.map(JSONValue.string) ?? .null,
                "assessment": assessment.map(JSONValue.string) ?? .null, "signature": try signer.signature(meaning: "approved"),
            ])
            guard !output.isWanted else { return printJSON(entry) }
            print(TerminalText.escaped(CalibrationText.line(entry)))
            if let affected = entry["affected"] {
                CalibrationText.trace(affected).forEach { print(TerminalText.escaped($0)) }
            }
        }
    }

    struct Show: AsyncParsableCommand, PrintsJSON {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "A device's state and every entry of its history.")

        @Argument(help: ArgumentHelp("The device's asset number.", valueName: "asset")) var asset: String
        @OptionGroup var target: RecordTarget
        @OptionGroup var output: JSONOutput

        func run() async throws {
            let device = try await target.call(.calibrationGet, ["asset": .string(asset)])
            guard !output.isWanted else { return printJSON(device) }
            print(TerminalText.escaped(CalibrationText.line(device["current"] ?? .null)))
            for entry in device["history"]?.arrayValue ?? [] {
                print(TerminalText.escaped("  #\(entry["calibration_id"]?.text ?? "?") \(CalibrationText.line(entry)) — recorded \(entry["recorded_at"]?.stringValue ?? "?")"))
            }
        }
    }

    struct List: AsyncParsableCommand, PrintsJSON {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "Every device's state; with --due-within, those due by then, overdue or out of service.")

        @Option(help: ArgumentHelp("Only devices due within this many days from today (UTC), overdue or out of service.", valueName: "days"))
        var dueWithin: Int?
        @OptionGroup var target: RecordTarget
        @OptionGroup var output: JSONOutput

        func run() async throws {
            let list = try await target.call(.calibrationList, ["due_within_days": dueWithin.map { .integer(Int64($0)) } ?? .null])
            guard !output.isWanted else { return printJSON(list) }
            let devices = list["devices"]?.arrayValue ?? []
            if devices.isEmpty { print(dueWithin == nil ? "The calibration register is empty." : "No device falls due within \(dueWithin ?? 0) days.") }
            devices.forEach { print(TerminalText.escaped(CalibrationText.line($0))) }
        }
    }
}

/// `floorgate trace`: what a measuring device measured, where a lot went, what a unit is made of.
struct TraceCommand: AsyncParsableCommand, PrintsJSON {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Trace a measuring device, a component lot or a unit: the evidence for a calibration failure or a recall.",
        discussion: """
            Give one of:
              --device ASSET   every result the device gave (on or after --since): unit, work \
            order, operation, step, point, value and verdict; what a calibration failure's \
            investigation assesses.
              --lot LOT        forward: every unit a component lot went into (--part to name \
            the component when lot numbers repeat across parts), with work order, station and \
            date, and every unit those went into in turn.
              --serial SERIAL  backward: what the unit is made of (components with lots and \
            serials, and what each built component is made of), the devices that measured it \
            with their calibration then, the operators and the instruction revisions.

            On a terminal a summary; --json (or a pipe) gives the record's answer \
            (docs/record-protocol.md: trace.device, trace.lot, trace.unit).

            Examples:
              floorgate trace --device CAL-0042 --since 2026-11-02
              floorgate trace --lot B-7731
              floorgate trace --serial SN-0001 --json
            """)

    @Option(help: ArgumentHelp("A measuring device's asset number.", valueName: "asset")) var device: String?
    @Option(help: ArgumentHelp("With --device: only results measured on or after this date (YYYY-MM-DD, UTC).", valueName: "date")) var since: String?
    @Option(help: ArgumentHelp("A component lot, traced forward.", valueName: "lot")) var lot: String?
    @Option(help: ArgumentHelp("With --lot: the component's part number.", valueName: "part")) var part: String?
    @Option(help: ArgumentHelp("A unit's serial, traced backward.", valueName: "serial")) var serial: String?
    @OptionGroup var target: RecordTarget
    @OptionGroup var output: JSONOutput

    func validate() throws {
        guard [device, lot, serial].compactMap({ $0 }).count == 1 else { throw ValidationError("give one of --device, --lot and --serial") }
        if since != nil, device == nil { throw ValidationError("--since goes with --device") }
        if part != nil, lot == nil { throw ValidationError("--part goes with --lot") }
    }

    func run() async throws {
        if let device {
            let found = try await target.call(.traceDevice, ["asset": .string(device), "since": since.map(JSONValue.string) ?? .null])
            guard !output.isWanted else { return printJSON(found) }
            if let calibration = found["calibration"], !calibration.isNull { print(TerminalText.escaped(CalibrationText.line(calibration))) }
            CalibrationText.trace(found).forEach { print(TerminalText.escaped($0)) }
        } else if let lot {
            let found = try await target.call(.traceLot, ["lot": .string(lot), "part": part.map(JSONValue.string) ?? .null])
            guard !output.isWanted else { return printJSON(found) }
            GenealogyText.forward(found).forEach { print(TerminalText.escaped($0)) }
        } else if let serial {
            let found = try await target.call(.traceUnit, ["serial": .string(serial)])
            guard !output.isWanted else { return printJSON(found) }
            GenealogyText.backward(found).forEach { print(TerminalText.escaped($0)) }
        }
    }
}

/// The terminal's forms of the genealogy traces: an indented tree.
enum GenealogyText {
    static func forward(_ found: JSONValue) -> [String] {
        let units = found["units"]?.arrayValue ?? []
        var lines = ["lot \(found["lot"]?.stringValue ?? "?") (\((found["parts"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "))): \(units.count) unit\(units.count == 1 ? "" : "s")"]
        func add(_ unit: JSONValue, depth: Int) {
            let indent = String(repeating: "  ", count: depth)
            lines.append("\(indent)\(unit["serial"]?.stringValue ?? "?") (\(unit["part"]?.stringValue ?? "?"), work order \(unit["work_order"]?.stringValue ?? "?"), "
                + "operation \(unit["operation"]?.stringValue ?? "?") at \(unit["station"]?.stringValue ?? "?"), \(unit["recorded_at"]?.stringValue ?? "?"))")
            (unit["contained_in"]?.arrayValue ?? []).forEach { add($0, depth: depth + 1) }
        }
        units.forEach { add($0, depth: 1) }
        return lines
    }

    static func backward(_ unit: JSONValue, depth: Int = 0) -> [String] {
        let indent = String(repeating: "  ", count: depth)
        var lines = ["\(indent)\(unit["serial"]?.stringValue ?? "?") (\(unit["part"]?["number"]?.stringValue ?? "?"), work order \(unit["work_order"]?.stringValue ?? "?"))"
            + (unit["udi"]?["text"]?.stringValue.map { " UDI \($0)" } ?? "")]
        for build in unit["builds"]?.arrayValue ?? [] {
            let revisions = (build["instruction_revisions"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")
            lines.append("\(indent)  operation \(build["operation"]?.stringValue ?? "?") at \(build["station"]?.stringValue ?? "?"), revision \(revisions), \(build["status"]?.stringValue ?? "?")")
        }
        for component in unit["components"]?.arrayValue ?? [] {
            let identity = [component["lot"]?.stringValue.map { "lot \($0)" }, component["serial"]?.stringValue.map { "serial \($0)" }].compactMap { $0 }
            lines.append("\(indent)  component \(component["part"]?.stringValue ?? "?") × \(component["quantity"]?.text ?? "?") \(identity.joined(separator: ", "))")
            if let built = component["unit"], !built.isNull { lines += backward(built, depth: depth + 2) }
        }
        for device in unit["devices"]?.arrayValue ?? [] {
            let calibration = device["calibration"].flatMap { $0.isNull ? nil : "calibrated \($0["calibrated_on"]?.stringValue ?? "?"), due \($0["due_on"]?.stringValue ?? "?")" }
            lines.append("\(indent)  device \(device["asset"]?.stringValue ?? "?") (\(device["kind"]?.stringValue ?? "?")): \(calibration ?? "not in the calibration register then")")
        }
        lines.append("\(indent)  operators: \((unit["operators"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "))")
        return lines
    }
}

/// The terminal's forms of the register's answers.
enum CalibrationText {
    /// One device's entry in a line: `CAL-0042 calibrated 2026-11-02, due 2027-05-01 (145 days), certificate MET-1`.
    static func line(_ entry: JSONValue) -> String {
        var parts = ["\(entry["asset"]?.stringValue ?? "?") \(entry["status"]?.stringValue ?? "?")"
            + (entry["calibrated_on"]?.stringValue.map { " \($0)" } ?? "")]
        if let due = entry["due_on"]?.stringValue {
            parts.append("due \(due)" + (entry["days_until_due"]?.integerValue.map { days in days < 0 ? " (overdue \(-days) days)" : " (\(days) days)" } ?? ""))
        }
        if let certificate = entry["certificate"]?.stringValue { parts.append("certificate \(certificate)") }
        if let description = entry["description"]?.stringValue, !description.isEmpty { parts.append(description) }
        if let assessment = entry["assessment"]?.stringValue { parts.append("assessment: \(assessment)") }
        return parts.joined(separator: ", ")
    }

    /// A `trace.device` answer (or a failed calibration's `affected`) as a summary and a table.
    static func trace(_ found: JSONValue) -> [String] {
        let results = found["results"]?.arrayValue ?? []
        var lines = ["\(found["result_count"]?.text ?? "0") results on \(found["unit_count"]?.text ?? "0") units"
            + (found["since"]?.stringValue.map { " since \($0)" } ?? "") + ":"]
        let columns = ["measured", "serial", "work order", "op", "step", "point", "value", "verdict", "station"]
        let rows = results.map { result in
            [
                result["measured_at"]?.stringValue ?? "", result["serial"]?.stringValue ?? "", result["work_order"]?.stringValue ?? "",
                result["operation"]?.stringValue ?? "", result["step"]?.stringValue ?? "", result["point"]?.stringValue ?? "",
                "\(result["value"]?.stringValue ?? "") \(result["unit"]?.stringValue ?? "")", result["verdict"]?.stringValue ?? "",
                result["station"]?.stringValue ?? "",
            ]
        }
        let widths = columns.indices.map { column in ([columns[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0 }
        func format(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        guard !rows.isEmpty else { return lines }
        lines.append(format(columns))
        lines += rows.map(format)
        return lines
    }
}
