public import FloorgateCore
import RecordProtocol
/// The device history record as a printable HTML page (no scripts, no external resources):
/// what `floorgate dhr SERIAL --format html` writes. Built from the `dhr.export` JSON, so the
/// page and the JSON never disagree.
public enum DeviceHistoryPage {
    /// The page for a `dhr.export` result.
    public static func html(_ dhr: JSONValue) -> String {
        var page = PageBuilder()
        let serial = dhr["serial"]?.stringValue ?? "?"
        page.raw("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <title>Device history record \(HTMLText.escaped(serial))</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2em;color:#111}
            table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}
            th,td{border:1px solid #999;padding:.25em .5em;text-align:left;vertical-align:top;font-size:.9em}
            th{background:#eee}.fail{font-weight:bold}.mono{font-family:monospace;word-break:break-all}
            @media print{body{margin:0}h2{page-break-after:avoid}}
            </style></head><body>
            """)
        page.element("h1", "Device history record — serial \(serial)")
        let part = dhr["part"], order = dhr["work_order"]
        page.table(
            headers: ["Part", "Part revision", "Description", "Work order", "Quantity", "Work order status", "Released"],
            rows: [[
                part?["number"], part?["revision"], part?["description"], order?["number"], order?["quantity"], order?["status"],
                order?["released_at"],
            ].map(PageBuilder.cell)])
        if let udi = dhr["udi"], !udi.isNull {
            page.element("h2", "Unique device identification")
            page.table(
                headers: ["UDI (human-readable)", "UDI-DI (GTIN)", "Date of manufacture (11)", "Lot (10)", "Serial (21)"],
                rows: [[udi["text"], udi["di"], udi["pi"]?["11"], udi["pi"]?["10"], udi["pi"]?["21"]].map(PageBuilder.cell)])
        }
        let counts = order?["counts"]
        page.element("h2", "Quantities of work order \(order?["number"]?.stringValue ?? "?") and this unit's release")
        let release = dhr["release"]
        page.table(
            headers: ["Quantity", "Units started", "Completed", "Accepted", "Scrapped", "Rejected", "Released for distribution", "This unit released"],
            rows: [[
                order?["quantity"], counts?["started"], counts?["completed"], counts?["accepted"], counts?["scrapped"], counts?["rejected"],
                counts?["released"],
                release.flatMap { $0.isNull ? nil : .string("\($0["released_at"]?.stringValue ?? "") (signature \($0["signature_id"]?.text ?? ""))") } ?? "not released",
            ].map(PageBuilder.cell)])
        // The route: each operation in order, who may do it, and where and by whom it was done.
        let builds = dhr["builds"]?.arrayValue ?? []
        page.element("h2", "Route")
        page.table(
            headers: ["Operation", "Optional", "Stations", "Done at", "By", "Revision", "Status"],
            rows: (order?["route"]?.arrayValue ?? []).map { step in
                let build = builds.last { $0["operation"] == step["operation"] }
                let stations: JSONValue = .string((step["stations"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "))
                return [
                    step["operation"], step["optional"] == .bool(true) ? "yes" : "no", stations, build?["station"], build?["opened_by"],
                    build?["current_revision"], build?["outcome"] ?? "not started",
                ].map(PageBuilder.cell)
            })
        for build in builds {
            page.element("h2", "Operation \(build["operation"]?.stringValue ?? "?") — build \(build["build_id"].map(PageBuilder.cell) ?? "")")
            page.table(
                headers: ["Outcome", "Station", "Opened by", "Date of manufacture (opened)", "Closed", "Current revision"],
                rows: [[build["outcome"], build["station"], build["opened_by"], build["opened_at"], build["closed_at"], build["current_revision"]].map(PageBuilder.cell)])
            page.element("h3", "Instruction revisions used")
            page.table(
                headers: ["Revision", "Title", "Approval signature"],
                rows: (build["instruction_revisions"]?.arrayValue ?? []).map { [$0["revision"], $0["title"], $0["approval_signature"]].map(PageBuilder.cell) })
            let pictures = (build["instruction_revisions"]?.arrayValue ?? []).flatMap { revision in
                (revision["pictures"]?.arrayValue ?? []).map { [revision["revision"], $0["step"], $0["caption"], $0["hash"]].map(PageBuilder.cell) }
            }
            if !pictures.isEmpty {
                page.element("h3", "Pictures shown (by SHA-256 of their bytes)")
                page.table(headers: ["Revision", "Step", "Caption", "SHA-256"], rows: pictures)
            }
            page.element("h3", "Steps performed")
            page.table(
                headers: ["Step", "Performed on revision", "Completed", "Signature"],
                rows: (build["steps"]?.arrayValue ?? []).map { [$0["key"], $0["instruction_revision"], $0["completed_at"], $0["signature_id"]].map(PageBuilder.cell) })
            page.element("h3", "Acceptance records: results")
            page.table(
                headers: [
                    "#", "Step", "Point", "Value", "Unit", "Limits", "Verdict", "Revision", "Device", "Calibration then", "Operator", "Measured",
                    "Recorded", "Corrects", "Raw bytes",
                ],
                rows: (build["results"]?.arrayValue ?? []).map { result in
                    let device = result["device"]
                    let deviceText = [device?["kind"], device?["profile"], device?["serial"]].compactMap { $0?.stringValue }.joined(separator: " / ")
                    let calibration = result["calibration"].flatMap { $0.isNull ? nil : $0 }
                    let calibrationText = calibration.map { entry in
                        [entry["status"]?.stringValue, entry["due_on"]?.stringValue.map { "due \($0)" }, entry["certificate"]?.stringValue.map { "certificate \($0)" }]
                            .compactMap { $0 }.joined(separator: ", ")
                    } ?? ""
                    let limits = result["limits"].flatMap { $0.isNull ? nil : $0 }
                    let limitsText = limits.map { limits in
                        let range = "\(limits["lower"]?.stringValue ?? "−∞") … \(limits["upper"]?.stringValue ?? "+∞") \(limits["unit"]?.stringValue ?? "")"
                        let angle = limits["angle_min"]?.stringValue != nil || limits["angle_max"]?.stringValue != nil
                            ? ", angle \(limits["angle_min"]?.stringValue ?? "−∞") … \(limits["angle_max"]?.stringValue ?? "+∞")°" : ""
                        return range + angle
                    } ?? ""
                    // A verdict's reason, a correction's reason, a late result's note: beside what they explain.
                    let reason = result["reason"]?.stringValue.map { "<br><small>\(HTMLText.escaped($0))</small>" } ?? ""
                    let timeNote = result["time_note"]?.stringValue.map { "<br><small>\(HTMLText.escaped($0))</small>" } ?? ""
                    let correction = result["correction_reason"]?.stringValue.map { "<br><small>\(HTMLText.escaped($0))</small>" } ?? ""
                    return [
                        PageBuilder.cell(result["result_id"]), PageBuilder.cell(result["step"]), PageBuilder.cell(result["point"]),
                        PageBuilder.cell(result["value"]), PageBuilder.cell(result["unit"]), HTMLText.escaped(limitsText),
                        PageBuilder.verdict(result["verdict"]) + reason,
                        PageBuilder.cell(result["instruction_revision"]), HTMLText.escaped(deviceText), HTMLText.escaped(calibrationText),
                        PageBuilder.cell(result["operator"]),
                        PageBuilder.cell(result["measured_at"]), PageBuilder.cell(result["recorded_at"]) + timeNote,
                        PageBuilder.cell(result["corrects"]) + correction,
                        "<span class=\"mono\">\(HTMLText.escaped(result["raw_hex"]?.stringValue ?? ""))</span>",
                    ]
                })
            page.element("h3", "Components (as built)")
            page.table(
                headers: ["Step", "Point", "Part", "Lot", "Serial", "Expiry", "Quantity", "Recorded"],
                rows: (build["components"]?.arrayValue ?? []).map {
                    [$0["step"], $0["point"], $0["part"], $0["lot"], $0["serial"], $0["expiry"], $0["quantity"], $0["recorded_at"]].map(PageBuilder.cell)
                })
            page.element("h3", "Nonconformances and dispositions")
            page.table(
                headers: ["NC", "Step", "Point", "Description", "Raised", "Disposition", "Comment", "Signature"],
                rows: (build["nonconformances"]?.arrayValue ?? []).map {
                    [$0["nc_id"], $0["step"], $0["point"], $0["description"], $0["raised_at"], $0["disposition"], $0["disposition_comment"], $0["disposition_signature"]].map(PageBuilder.cell)
                })
            page.element("h3", "Redlines acknowledged")
            page.table(
                headers: ["Redline", "From", "To", "Reason", "Published", "Acknowledged", "Acknowledgement signature"],
                rows: (build["redlines"]?.arrayValue ?? []).map {
                    [$0["redline_id"], $0["from_revision"], $0["to_revision"], $0["reason"], $0["published_at"], $0["acknowledged_at"], $0["acknowledge_signature"]].map(PageBuilder.cell)
                })
        }
        page.element("h2", "Labels and control numbers scanned")
        page.table(
            headers: ["Step", "Point", "Content", "Scanned"],
            rows: (dhr["labels"]?.arrayValue ?? []).map { [$0["step"], $0["point"], $0["value"], $0["measured_at"]].map(PageBuilder.cell) })
        page.element("h2", "Electronic signatures")
        page.table(
            headers: ["#", "Printed name", "User", "Meaning", "Date and time (UTC)", "Signed", "Reason"],
            rows: (dhr["signatures"]?.arrayValue ?? []).map {
                [$0["signature_id"], $0["printed_name"], $0["user"], $0["meaning"], $0["signed_at"], $0["subject"], $0["reason"]].map(PageBuilder.cell)
            })
        page.element("h2", "Audit trail")
        page.raw("<p>Audit chain head (SHA-256) after \(PageBuilder.cell(dhr["audit_entries"])) entries: <span class=\"mono\">\(PageBuilder.cell(dhr["audit_head"]))</span>. ")
        page.raw("Check it with <code>floorgate verify --db RECORD</code>. Generated \(PageBuilder.cell(dhr["generated_at"])).</p>\n</body></html>\n")
        return page.text
    }
}

/// HTML built with every piece of record data escaped.
struct PageBuilder {
    var text = ""

    mutating func raw(_ html: String) { text += html }

    mutating func element(_ tag: String, _ content: String) {
        text += "<\(tag)>\(HTMLText.escaped(content))</\(tag)>\n"
    }

    /// A table; `rows` hold cells already escaped.
    mutating func table(headers: [String], rows: [[String]]) {
        guard !rows.isEmpty else {
            text += "<p>None.</p>\n"
            return
        }
        text += "<table><tr>" + headers.map { "<th>\(HTMLText.escaped($0))</th>" }.joined() + "</tr>\n"
        for row in rows {
            text += "<tr>" + row.map { "<td>\($0)</td>" }.joined() + "</tr>\n"
        }
        text += "</table>\n"
    }

    static func cell(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: ""
        case .string(let text)?: HTMLText.escaped(text)
        case .integer(let number)?: String(number)
        case let other?: HTMLText.escaped(other.text)
        }
    }

    /// A verdict in words; a failure also in bold, so it shows in black-and-white print.
    static func verdict(_ value: JSONValue?) -> String {
        let code = value?.stringValue ?? ""
        let words = ["pass": "pass", "fail_low": "FAIL (low)", "fail_high": "FAIL (high)", "invalid": "invalid"][code] ?? code
        return code.hasPrefix("fail") ? "<span class=\"fail\">\(HTMLText.escaped(words))</span>" : HTMLText.escaped(words)
    }
}
