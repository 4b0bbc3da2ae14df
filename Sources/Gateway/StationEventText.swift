import FloorgateCore

extension StationEvent {
    /// One line for the terminal view, words first and never colour alone:
    /// `caliper-1  12.031 mm  FAIL HIGH  bore diameter (step 10)  NC 1`. Control characters a
    /// device or the record sent are shown escaped (`TerminalText`).
    public var line: String {
        TerminalText.escaped(text)
    }

    private var text: String {
        switch self {
        case .device(let name, let state, let message):
            return "\(Self.column(name))  \(state == .connected ? "connected" : "NOT CONNECTED")  \(message)"
        case .build(let build):
            let serial = build["serial"]?.stringValue ?? "?"
            let instruction = build["instruction"]
            let step = build["active_step"]
            let status = build["status"]?.stringValue ?? "?"
            return "\(Self.column("build"))  \(serial) \(status) · work order \(build["work_order"]?.stringValue ?? "?") · part "
                + "\(build["part"]?.stringValue ?? "?") rev \(build["part_revision"]?.stringValue ?? "?") · instruction "
                + "\(instruction?["revision"]?.stringValue ?? "?") '\(instruction?["title"]?.stringValue ?? "")'"
                + (step.flatMap { $0.isNull ? nil : $0 }.map { " · step \($0["key"]?.stringValue ?? "?") '\($0["title"]?.stringValue ?? "")'" } ?? "")
        case .step(_, let step):
            guard !step.isNull else { return "\(Self.column("step"))  all steps done: the build can be closed" }
            let points = step["points"]?.arrayValue?.map { point in
                "\(point["name"]?.stringValue ?? "?") [\(Self.limits(point))]"
            } ?? []
            return "\(Self.column("step"))  \(step["key"]?.stringValue ?? "?") '\(step["title"]?.stringValue ?? "")': \(points.joined(separator: ", "))"
        case .recorded(let source, let summary, let answer):
            let verdict = answer["verdict"]?.stringValue ?? "?"
            let word = switch verdict {
            case "pass": "PASS"
            case "fail_low": "FAIL LOW"
            case "fail_high": "FAIL HIGH"
            default: "INVALID"
            }
            let nc = answer["nc_id"].flatMap { $0.isNull ? nil : "  NC \($0.text) raised" } ?? ""
            let time = answer["time_note"]?.stringValue.map { "  (\($0))" } ?? ""
            return "\(Self.column(source))  \(summary)  \(word)  \(answer["point"]?.stringValue ?? "?") (step \(answer["step"]?.stringValue ?? "?"))\(nc)\(time)"
        case .unbound(let source, let summary, let reason):
            return "\(Self.column(source))  \(summary)  NOT BOUND  \(reason)"
        case .calibration(let device, let warning):
            return "\(Self.column(device))  \(warning?.text ?? "calibration in order")"
        case .tool(let device, let status):
            return "\(Self.column(device))  tool \(status.text)"
        case .notice(let text, let source):
            return "\(Self.column(source))  \(text)"
        }
    }

    private static func column(_ text: String) -> String {
        text.count >= 14 ? text : text + String(repeating: " ", count: 14 - text.count)
    }

    /// `11.980–12.020 mm`, `≥ 1.10 N.m`.
    private static func limits(_ point: JSONValue) -> String {
        let unit = point["unit"]?.stringValue ?? ""
        switch (point["lower"]?.stringValue, point["upper"]?.stringValue) {
        case (let lower?, let upper?): return "\(lower)–\(upper) \(unit)"
        case (let lower?, nil): return "≥ \(lower) \(unit)"
        case (nil, let upper?): return "≤ \(upper) \(unit)"
        case (nil, nil): return unit.isEmpty ? "any" : unit
        }
    }
}
