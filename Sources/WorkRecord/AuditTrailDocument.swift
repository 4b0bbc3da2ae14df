public import FloorgateCore
import Foundation

/// The audit trail as a document an inspector reads without Floorgate: CSV (RFC 4180, one
/// entry a line), JSON, or a printable HTML page. Written a page of entries at a time.
public struct AuditTrailDocument: Sendable {
    public enum Format: String, CaseIterable, Sendable {
        case csv, json, html
    }

    public let format: Format
    private var written = 0

    public init(format: Format) {
        self.format = format
    }

    /// What comes before the entries; `title` says which record and which times.
    public func opening(title: String) -> String {
        switch format {
        case .csv:
            return "seq,at,actor,peer,action,table,row,changes,hash,key_id,signature\r\n"
        case .json:
            var text = "{\"title\":"
            JSONObjectWriter.appendQuoted(title, to: &text)
            return text + ",\"entries\":[\n"
        case .html:
            return """
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8">
                <title>\(HTMLText.escaped(title))</title>
                <style>
                body{font-family:system-ui,sans-serif;margin:2em;color:#111}
                table{border-collapse:collapse;width:100%}
                th,td{border:1px solid #999;padding:.25em .5em;text-align:left;vertical-align:top;font-size:.85em}
                th{background:#eee}.mono{font-family:monospace;word-break:break-all}
                </style></head><body>
                <h1>\(HTMLText.escaped(title))</h1>
                <table><tr><th>#</th><th>When (UTC)</th><th>Who</th><th>From</th><th>What</th><th>Changes</th><th>Hash, key</th></tr>

                """
        }
    }

    /// The entries of one `audit.list` answer.
    public mutating func entries(_ entries: [JSONValue]) -> String {
        var text = ""
        for entry in entries {
            let changes = Self.changes(old: entry["old"], new: entry["new"])
            switch format {
            case .csv:
                let fields: [String?] = [
                    entry["seq"]?.text, entry["at"]?.stringValue, entry["actor"]?.stringValue, entry["peer"]?.stringValue,
                    entry["action"]?.stringValue, entry["table"]?.stringValue, entry["row"]?.text, changes.joined(separator: "\n"),
                    entry["hash"]?.stringValue, entry["key_id"]?.stringValue, entry["signature"]?.stringValue,
                ]
                text += fields.map { Self.csvField($0 ?? "") }.joined(separator: ",") + "\r\n"
            case .json:
                text += (written > 0 ? ",\n" : "") + entry.text
            case .html:
                let what = "\(entry["action"]?.stringValue ?? "") — \(entry["table"]?.stringValue ?? "") \(entry["row"]?.text ?? "")"
                let cells = [
                    entry["seq"]?.text ?? "", entry["at"]?.stringValue ?? "", entry["actor"]?.stringValue ?? "", entry["peer"]?.stringValue ?? "", what,
                ].map(HTMLText.escaped)
                let changed = changes.map(HTMLText.escaped).joined(separator: "<br>")
                let seal = "<span class=\"mono\">\(HTMLText.escaped(entry["hash"]?.stringValue ?? ""))<br>key \(HTMLText.escaped(entry["key_id"]?.stringValue ?? "none"))</span>"
                text += "<tr>" + (cells + [changed, seal]).map { "<td>\($0)</td>" }.joined() + "</tr>\n"
            }
            written += 1
        }
        return text
    }

    /// What comes after the entries.
    public func closing() -> String {
        switch format {
        case .csv: ""
        case .json: "\n]}\n"
        case .html: "</table>\n<p>\(written) entries.</p>\n</body></html>\n"
        }
    }

    /// An entry's change in words: each column a new row holds (`column = value`), or each column
    /// an update changed (`column: old → new`).
    static func changes(old: JSONValue?, new: JSONValue?) -> [String] {
        func shown(_ value: JSONValue?) -> String { value.map { $0.stringValue ?? $0.text } ?? "null" }
        guard case .object(let after)? = new else { return [] }
        guard case .object(let before)? = old else {
            return after.keys.sorted().filter { after[$0] != .null }.map { "\($0) = \(shown(after[$0]))" }
        }
        return after.keys.sorted().filter { before[$0] != after[$0] }.map { "\($0): \(shown(before[$0])) → \(shown(after[$0]))" }
    }

    private static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
