public import FloorgateCore
import Foundation
import RecordProtocol

/// A point's control chart as inline SVG, drawn by the server from an `spc.get` answer: the
/// plotted subgroups on both panes, the centre lines and control limits, and the points that
/// tripped a test drawn as numbered diamonds (the shape and the number say it, not the colour
/// alone). No script is needed to see it.
public enum SPCChart {
    /// How many of the latest subgroups a chart shows.
    static let subgroupsShown: Int64 = 50
    static let width = 640.0, plotRight = 540.0, plotLeft = 12.0
    static let locationPane = (top: 14.0, bottom: 204.0), dispersionPane = (top: 236.0, bottom: 326.0)

    /// The chart, what its special causes say in words, and the point's capability.
    public static func figure(_ report: JSONValue) -> String {
        let name = PageHTML.text(report["point"])
        let notices = (report["special_causes"]?.arrayValue ?? []).map { cause in
            "<li>Test \(PageHTML.text(cause["test"])), \(PageHTML.text(cause["serial"])): \(PageHTML.text(cause["notice"]))</li>"
        }
        let warnings = ((report["warnings"]?.arrayValue ?? []) + (report["capability"]?["warnings"]?.arrayValue ?? []))
            .map { "<li>\(PageHTML.text($0))</li>" }.joined()
        return """
            <figure class="spc" data-point="\(name)">
            <figcaption><strong>\(name)</strong> · step \(PageHTML.text(report["step"])) · \(PageHTML.text(report["chart"])) · Phase \(PageHTML.text(report["phase"]))\(frozenNote(report))</figcaption>
            \(svg(report))
            <p class="capability">\(capability(report["capability"]))</p>
            \(notices.isEmpty ? "<p class=\"spc-quiet\">No special causes (tests 1–4).</p>" : "<ul class=\"spc-notices\" role=\"alert\">\(notices.joined())</ul>")
            \(warnings.isEmpty ? "" : "<ul class=\"spc-warnings\">\(warnings)</ul>")
            </figure>
            """
    }

    private static func frozenNote(_ report: JSONValue) -> String {
        guard let frozen = report["limits"]?["frozen"], !frozen.isNull else { return "" }
        return " · limits frozen by \(PageHTML.text(frozen["printed_name"]))"
    }

    /// Cp, Cpk, Pp and Ppk, and how many values they rest on.
    static func capability(_ capability: JSONValue?) -> String {
        guard let capability, !capability.isNull else { return "Capability: not enough subgroups yet." }
        let indices = ["cp": "Cp", "cpk": "Cpk", "pp": "Pp", "ppk": "Ppk"].sorted { $0.key < $1.key }
            .map { key, label in "\(label) <strong>\(PageHTML.text(capability[key], or: "—"))</strong>" }
        return "Capability from \(PageHTML.text(capability["values"])) values in \(PageHTML.text(capability["subgroups"])) subgroups: \(indices.joined(separator: " · "))"
    }

    /// Both panes as one SVG image.
    static func svg(_ report: JSONValue) -> String {
        let subgroups = report["subgroups"]?.arrayValue ?? []
        let chart = report["chart"]?.stringValue ?? ""
        let names = ControlChartPanes.names(chart: chart)
        let location = subgroups.map { number($0["location"]) }
        let dispersion = subgroups.map { number($0["dispersion"]) }
        // Each pane marks only the tests tripped on it (test 1 may trip on the dispersion pane alone).
        func tests(on pane: String) -> [[Int64]] {
            let causes = (report["special_causes"]?.arrayValue ?? []).filter { $0["pane"]?.stringValue == pane }
            return subgroups.map { subgroup in
                causes.filter { $0["build_id"] == subgroup["build_id"] }.compactMap { $0["test"]?.integerValue }
            }
        }
        let title = "\(chart) chart of \(report["point"]?.stringValue ?? "the point"): \(subgroups.count) subgroups, \(report["special_causes"]?.arrayValue?.count ?? 0) special causes"
        let panes = [
            pane(names.0, values: location, limits: report["limits"]?["location"], tests: tests(on: "location"), serials: subgroups, area: locationPane),
            pane(names.1, values: dispersion, limits: report["limits"]?["dispersion"], tests: tests(on: "dispersion"), serials: subgroups, area: dispersionPane),
        ]
        return """
            <svg class="spc-chart" viewBox="0 0 \(format(width)) 340" role="img" aria-label="\(HTMLText.escaped(title))" xmlns="http://www.w3.org/2000/svg">\
            <title>\(HTMLText.escaped(title))</title>\(panes.joined())</svg>
            """
    }

    /// One pane: limit lines with their labels, the plotted line, and a mark per subgroup.
    private static func pane(
        _ name: String, values: [Double?], limits: JSONValue?, tests: [[Int64]], serials: [JSONValue], area: (top: Double, bottom: Double)
    ) -> String {
        let lines = [("UCL", limits?["upper"]), (name, limits?["centre"]), ("LCL", limits?["lower"])].compactMap { label, value in
            number(value).map { (label, $0) }
        }
        let span = (values.compactMap { $0 } + lines.map(\.1))
        guard let low = span.min(), let high = span.max() else {
            return "<text x=\"\(format(plotLeft))\" y=\"\(format(area.top + 20))\" font-size=\"14\">\(HTMLText.escaped(name)): no subgroups yet</text>"
        }
        let pad = high > low ? (high - low) * 0.08 : max(abs(high) * 0.01, 1e-6)
        func y(_ value: Double) -> Double { area.bottom - (value - (low - pad)) / ((high + pad) - (low - pad)) * (area.bottom - area.top) }
        func x(_ index: Int) -> Double {
            values.count < 2 ? (plotLeft + plotRight) / 2 : plotLeft + Double(index) * (plotRight - plotLeft) / Double(values.count - 1)
        }
        var parts = ["<rect x=\"\(format(plotLeft))\" y=\"\(format(area.top))\" width=\"\(format(plotRight - plotLeft))\" height=\"\(format(area.bottom - area.top))\" fill=\"#fafafa\" stroke=\"#ccc\"/>"]
        for (label, value) in lines {
            let centre = label == name
            parts.append(
                "<line x1=\"\(format(plotLeft))\" x2=\"\(format(plotRight))\" y1=\"\(format(y(value)))\" y2=\"\(format(y(value)))\" stroke=\"\(centre ? "#0a7d22" : "#b00020")\" stroke-width=\"1.5\"\(centre ? "" : " stroke-dasharray=\"6 4\"")/>")
            parts.append("<text x=\"\(format(plotRight + 6))\" y=\"\(format(y(value) + 5))\" font-size=\"13\">\(HTMLText.escaped(label)) \(HTMLText.escaped(shortNumber(value)))</text>")
        }
        let plotted = values.enumerated().compactMap { index, value in value.map { (index, $0) } }
        let path = plotted.map { "\(format(x($0.0))),\(format(y($0.1)))" }.joined(separator: " ")
        parts.append("<polyline points=\"\(path)\" fill=\"none\" stroke=\"#1d2a38\" stroke-width=\"1.5\"/>")
        for (index, value) in plotted {
            let label = "\(serials[index]["serial"]?.stringValue ?? "?"): \(shortNumber(value))"
            if tests[index].isEmpty {
                parts.append("<circle cx=\"\(format(x(index)))\" cy=\"\(format(y(value)))\" r=\"3.5\" fill=\"#1d2a38\"><title>\(HTMLText.escaped(label))</title></circle>")
            } else {
                let numbers = tests[index].map(String.init).joined(separator: ",")
                let (cx, cy) = (x(index), y(value))
                parts.append(
                    "<g class=\"flagged\"><path d=\"M\(format(cx)) \(format(cy - 7))L\(format(cx + 7)) \(format(cy))L\(format(cx)) \(format(cy + 7))L\(format(cx - 7)) \(format(cy))Z\" fill=\"#b00020\"><title>\(HTMLText.escaped("\(label), tests \(numbers)"))</title></path><text x=\"\(format(cx))\" y=\"\(format(cy - 10))\" font-size=\"12\" font-weight=\"700\" text-anchor=\"middle\">\(numbers)</text></g>")
            }
        }
        return parts.joined()
    }

    static func number(_ value: JSONValue?) -> Double? {
        switch value {
        case .number(let number)?: number
        case .integer(let number)?: Double(number)
        default: nil
        }
    }

    /// A coordinate with two decimals.
    private static func format(_ value: Double) -> String { String(format: "%.2f", value) }

    /// A limit's label: the record's figure as it sent it.
    private static func shortNumber(_ value: Double) -> String { "\(value)" }

    /// A measured point of the open build's instruction and its `spc.get` answer (nil when the
    /// record could not give it).
    struct CapabilityRow {
        var step: String
        var point: String
        var report: JSONValue?

        var cpk: Double? { SPCChart.number(report?["capability"]?["cpk"]) }
    }

    /// The points with their capability, worst Cpk first (those without one last), each linking
    /// to its chart.
    static func capabilityTable(_ rows: [CapabilityRow]) -> String {
        guard !rows.isEmpty else { return "<p class=\"hint\">The instruction measures nothing.</p>" }
        let sorted = rows.enumerated().sorted { left, right in
            switch (left.element.cpk, right.element.cpk) {
            case let (l?, r?): l < r || (l == r && left.offset < right.offset)
            case (.some, nil): true
            case (nil, .some): false
            case (nil, nil): left.offset < right.offset
            }
        }.map(\.element)
        let body = sorted.map { row in
            let capability = row.report?["capability"]
            let link = "/spc/chart?step=\(query(row.step))&point=\(query(row.point))"
            let causes = row.report?["special_causes"]?.arrayValue?.count
            return """
                <tr><td>\(HTMLText.escaped(row.step))</td><td><a href="\(HTMLText.escaped(link))">\(HTMLText.escaped(row.point))</a></td><td>\(PageHTML.text(row.report?["chart"], or: "—"))</td><td>\(PageHTML.text(capability?["subgroups"], or: "0"))</td><td class="index">\(PageHTML.text(capability?["cpk"], or: "—"))</td><td class="index">\(PageHTML.text(capability?["ppk"], or: "—"))</td><td>\(causes.map { $0 == 0 ? "none" : "\($0)" } ?? "—")</td></tr>
                """
        }.joined()
        return "<table class=\"listing capability\"><thead><tr><th>Step</th><th>Point</th><th>Chart</th><th>Subgroups</th><th>Cpk</th><th>Ppk</th><th>Special causes (last)</th></tr></thead><tbody>\(body)</tbody></table>"
    }

    /// A query parameter's value, percent-encoded.
    private static func query(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }
}
