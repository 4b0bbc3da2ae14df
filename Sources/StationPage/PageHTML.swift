import DeviceIO
public import FloorgateCore
import Foundation
public import Gateway

/// The station page's HTML: the whole page, and each part of it that a live update replaces.
/// One renderer serves both, so a reloaded page and a live one look the same.
public enum PageHTML {
    /// Everything the station page shows.
    public struct Station: Sendable {
        public var station: String
        public var operatorLogin: String
        public var build: JSONValue?
        public var readings: [StationBoard.Reading]
        public var devices: [(name: String, state: DeviceState?, message: String)]
        /// Calibration warnings, by device name.
        public var calibration: [String: CalibrationWarning] = [:]
        /// Commanded tools' states, by device name.
        public var tools: [String: ToolStatus] = [:]
        public var notices: [String]
        /// The board's run and its last update: where the page's live channel starts.
        public var run: String
        public var lastUpdateID: Int
    }

    /// The station page: build, latest reading, what needs the operator, active step, readings,
    /// devices.
    public static func station(_ view: Station) -> String {
        document(title: "\(view.station) · station", view: view, current: "/") {
            """
            <main class="station">
            <section id="build" class="panel build">\(buildSummary(view.build))</section>
            <section id="latest" class="panel latest" aria-live="polite">\(view.readings.first.map(latest) ?? latestEmpty)</section>
            <section id="needs" class="panel needs" aria-live="assertive">\(needs(view.build))</section>
            <section id="step" class="panel step">\(step(view.build))</section>
            \(framePanel("Control chart", id: "chart", source: "/step/charts", frameClass: "chart"))
            <section class="panel readings"><h2>Readings</h2><ol id="reading-list" data-max="\(StationBoard.readingsShown)">\(view.readings.map(readingItem).joined())</ol></section>
            <section id="devices" class="panel devices">\(devices(view.devices, calibration: view.calibration, tools: view.tools))</section>
            <section id="notices" class="panel notices">\(notices(view.notices))</section>
            </main>
            \(signingDialog)
            """
        }
    }

    /// The page's frame: header with the station, the navigation and the live-link state.
    /// The login form of a page served beyond the station PC, with why the last try failed.
    static func login(station: String, message: String?) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Log in · \(HTMLText.escaped(station))</title><style>\(PageAssets.css)</style></head>
        <body><main class="login"><h1>\(HTMLText.escaped(station))</h1>
        <p>This station page is served beyond the station PC: log in with your user id and password.</p>
        \(message.map { "<p class=\"refusal\" role=\"alert\">\(HTMLText.escaped($0))</p>" } ?? "")
        <form method="post" action="/login">
        <label>User id <input name="user" autocomplete="username" required autofocus></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
        <button type="submit">Log in</button></form></main></body></html>
        """
    }

    static func document(title: String, view: Station, current: String, body: () -> String) -> String {
        let links = [("/", "Station"), ("/build", "Build"), ("/spc", "SPC"), ("/devices", "Devices")].map { path, name in
            "<a href=\"\(path)\"\(path == current ? " aria-current=\"page\"" : "")>\(name)</a>"
        }.joined()
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTMLText.escaped(title))</title><style>\(PageAssets.css)</style></head>
            <body data-run="\(HTMLText.escaped(view.run))" data-last-update="\(view.lastUpdateID)">
            <header class="bar"><strong class="station-name">\(HTMLText.escaped(view.station))</strong><span class="operator">operator \(HTMLText.escaped(view.operatorLogin))</span>
            <nav>\(links)</nav><span id="link" class="link" role="status" data-state="connecting">◌ connecting</span>
            <label class="sound"><input type="checkbox" id="sound"> sound on fail</label></header>
            \(body())
            <script>\(PageAssets.script)</script>
            </body></html>
            """
    }

    public static func buildSummary(_ build: JSONValue?) -> String {
        guard let build else {
            return "<h2>No build open</h2><p class=\"hint\">Scan the unit's serial label to open its build.</p>"
        }
        let instruction = build["instruction"]
        return """
            <h2>Build</h2>
            <dl class="facts">
            <div><dt>Serial</dt><dd id="serial" class="big">\(text(build["serial"]))</dd></div>
            <div><dt>Work order</dt><dd>\(text(build["work_order"]))</dd></div>
            <div><dt>Part</dt><dd>\(text(build["part"])) rev \(text(build["part_revision"]))</dd></div>
            <div><dt>Instruction</dt><dd>\(text(instruction?["title"])) · op \(text(build["operation"])) · <strong id="revision">revision \(text(instruction?["revision"]))</strong></dd></div>
            </dl>
            """
    }

    public static func step(_ build: JSONValue?) -> String {
        guard let build else { return "<h2>Step</h2><p class=\"hint\">No build open.</p>" }
        guard let step = build["active_step"], !step.isNull else { return "<h2>Step</h2><p class=\"hint\">Every step is done.</p>" }
        let points = (step["points"]?.arrayValue ?? []).map { point -> String in
            let taken = point["results"]?.arrayValue?.count ?? 0
            let limits: String
            if let lower = point["lower"]?.stringValue, let upper = point["upper"]?.stringValue {
                limits = "\(HTMLText.escaped(lower)) … \(HTMLText.escaped(upper))"
            } else if point["kind"] == "component" {
                limits = "scan the label of \(text(point["part"])) (\(point["control"] == "serial" ? "each piece's serial" : "its lot"))"
            } else if point["kind"] == "label" {
                limits = "scan the unit's printed UDI label"
            } else {
                limits = "—"
            }
            return """
                <tr><td>\(text(point["name"]))</td><td>\(text(point["nominal"], or: "—"))</td><td class="limits">\(limits) \(text(point["unit"], or: ""))</td><td>\(taken) of \(text(point["count"], or: "1"))</td></tr>
                """
        }.joined()
        let instructions = step["text"]?.stringValue.flatMap { $0.isEmpty ? nil : "<p class=\"instructions\">\(HTMLText.escaped($0))</p>" } ?? ""
        let pictures = (step["pictures"]?.arrayValue ?? []).compactMap { picture -> String? in
            guard let hash = picture["hash"]?.stringValue else { return nil }
            return "<figure class=\"picture\"><img src=\"/media/\(HTMLText.escaped(hash))\" alt=\"\(text(picture["caption"], or: ""))\"><figcaption>\(text(picture["caption"], or: ""))</figcaption></figure>"
        }.joined()
        return """
            <h2>Step <span id="step-key">\(text(step["key"]))</span>: \(text(step["title"]))</h2>\(instructions)\(pictures.isEmpty ? "" : "<div class=\"pictures\">\(pictures)</div>")
            <table class="points"><thead><tr><th>Point</th><th>Nominal</th><th>Limits</th><th>Results</th></tr></thead><tbody>\(points)</tbody></table>
            """
    }

    static let latestEmpty = "<h2>Latest reading</h2><p class=\"hint\">Waiting for a device.</p>"

    public static func latest(_ reading: StationBoard.Reading) -> String {
        """
        <h2>Latest reading</h2>
        <div class="verdict-block verdict-\(reading.verdict.rawValue)" data-verdict="\(reading.verdict.rawValue)">
        <span class="icon" aria-hidden="true">\(reading.verdict.icon)</span><span class="verdict-words">\(reading.verdict.words)</span>
        <span class="value">\(HTMLText.escaped(reading.summary))</span></div>
        <p class="where">\(HTMLText.escaped(reading.source))\(reading.point.map { " · \(HTMLText.escaped($0))" } ?? "")\(reading.step.map { " (step \(HTMLText.escaped($0)))" } ?? "")\(reading.ncID.map { " · NC \($0) raised" } ?? "")\(reading.reason.map { " · \(HTMLText.escaped($0))" } ?? "")</p>
        """
    }

    public static func readingItem(_ reading: StationBoard.Reading) -> String {
        """
        <li class="verdict-\(reading.verdict.rawValue)" data-verdict="\(reading.verdict.rawValue)" data-value="\(HTMLText.escaped(reading.summary))"><span class="icon" aria-hidden="true">\(reading.verdict.icon)</span> <span class="verdict-words">\(reading.verdict.words)</span> <span class="value">\(HTMLText.escaped(reading.summary))</span> <span class="where">\(HTMLText.escaped(reading.source))\(reading.point.map { " · \(HTMLText.escaped($0))" } ?? "")</span></li>
        """
    }

    /// What needs someone: a redline to read and sign, nonconformances to disposition, the active
    /// step to sign complete. Each button carries what its signature is for (the step's key too,
    /// so a page that is behind cannot sign another step than the one it shows).
    public static func needs(_ build: JSONValue?) -> String {
        guard let build, let buildID = build["build_id"]?.integerValue else { return "<h2>Needs you</h2><p class=\"hint\">Nothing.</p>" }
        var items: [String] = []
        if let redline = build["pending_redline"], !redline.isNull, let redlineID = redline["redline_id"]?.integerValue {
            let subject = "Acknowledge redline \(redlineID): revision \(redline["from_revision"]?.stringValue ?? "?") → \(redline["to_revision"]?.stringValue ?? "?")"
            items.append("""
                <li class="need redline" id="redline-prompt"><strong>⚑ REDLINE \(text(redline["from_revision"])) → \(text(redline["to_revision"]))</strong>: \(text(redline["reason"]))
                \(redlineChanges(redline["changes"]))
                \(signButton("Read and sign", action: "redline-acknowledge", subject: subject, meaning: "reviewed", role: "operator", params: ["build_id": .integer(buildID), "redline_id": .integer(redlineID)]))</li>
                """)
        }
        for nc in build["open_ncs"]?.arrayValue ?? [] {
            guard let ncID = nc["nc_id"]?.integerValue else { continue }
            items.append("""
                <li class="need nc"><strong>⚠ NC \(ncID)</strong> on \(text(nc["point"], or: "the build")): \(text(nc["description"]))
                \(signButton("Disposition", action: "nc-disposition", subject: "Disposition nonconformance \(ncID)", meaning: "dispositioned", role: "quality", params: ["nc_id": .integer(ncID)]))</li>
                """)
        }
        if let step = build["active_step"], !step.isNull, let key = step["key"]?.stringValue {
            items.append("""
                <li class="need step-sign">Step \(HTMLText.escaped(key)) done?
                \(signButton("Sign step complete", action: "step-complete", subject: "Step \(key) '\(step["title"]?.stringValue ?? "")' of serial \(build["serial"]?.stringValue ?? "?") performed", meaning: "performed", role: "operator", params: ["build_id": .integer(buildID), "step": .string(key)]))</li>
                """)
        }
        return "<h2>Needs you</h2><ul class=\"need-list\">\(items.joined())</ul>"
    }

    private static func signButton(_ label: String, action: String, subject: String, meaning: String, role: String, params: JSONValue) -> String {
        """
        <button type="button" class="sign" data-action="\(action)" data-subject="\(HTMLText.escaped(subject))" data-meaning="\(meaning)" data-role="\(role)" data-params="\(HTMLText.escaped(params.text))">\(HTMLText.escaped(label))</button>
        """
    }

    public static func devices(
        _ devices: [(name: String, state: DeviceState?, message: String)], calibration: [String: CalibrationWarning] = [:],
        tools: [String: ToolStatus] = [:]
    ) -> String {
        let rows = devices.map { device -> String in
            let (mark, words, state) = switch device.state {
            case .connected?: ("●", "connected", "up")
            case .lost?: ("○", "NOT CONNECTED", "down")
            case nil: ("◌", "waiting", "unknown")
            case let other?: ("⚠", other.rawValue.replacingOccurrences(of: "_", with: " "), "warn")
            }
            return "<li class=\"device device-\(state)\" data-device=\"\(HTMLText.escaped(device.name))\"><span aria-hidden=\"true\">\(mark)</span> <strong>\(HTMLText.escaped(device.name))</strong> \(words) <span class=\"detail\">\(HTMLText.escaped(device.message))</span>\(tools[device.name].map { "<p class=\"tool-state\($0.isLocked ? " locked" : " ready")\" role=\"status\">\($0.isLocked ? "⊘" : "▶") tool \(HTMLText.escaped($0.text))</p>" } ?? "")\(calibration[device.name].map { "<p class=\"calibration-warning\($0.refusesResults ? " refused" : "")\" role=\"alert\">⚠ \(HTMLText.escaped($0.text))</p>" } ?? "")</li>"
        }.joined()
        return "<h2>Devices</h2><ul class=\"device-list\">\(rows)</ul>"
    }

    /// The build page: the build, its steps, and its device history record so far in a frame.
    static func buildPage(_ view: Station) -> String {
        document(title: "\(view.station) · build", view: view, current: "/build") {
            """
            <main class="build-page">
            <section id="build" class="panel build">\(buildSummary(view.build))</section>
            <section id="steps" class="panel">\(steps(view.build))</section>
            \(framePanel("Process capability, worst first", id: "capability", source: "/spc/table", frameClass: "capability"))
            \(framePanel("History so far (device history record)", id: "history", source: "/build/history"))
            </main>
            """
        }
    }

    /// The devices page: the station's devices, and what is plugged in in a frame.
    static func devicesPage(_ view: Station) -> String {
        document(title: "\(view.station) · devices", view: view, current: "/devices") {
            """
            <main class="devices-page">
            <section id="devices" class="panel devices">\(devices(view.devices, calibration: view.calibration, tools: view.tools))</section>
            \(framePanel("Plugged in", id: "plugged", source: "/devices/plugged"))
            </main>
            """
        }
    }

    /// A full-width panel framing a part the server renders from elsewhere; a live update
    /// naming `id` in its `refresh` reloads it.
    private static func framePanel(_ heading: String, id: String, source: String, frameClass: String = "history") -> String {
        "<section class=\"panel wide\"><h2>\(HTMLText.escaped(heading))</h2><iframe id=\"\(id)\" class=\"\(frameClass)\" src=\"\(source)\" title=\"\(HTMLText.escaped(heading))\"></iframe></section>"
    }

    /// The SPC page: the open build's measured points, worst Cpk first, each linking to its chart.
    static func spcPage(_ view: Station, table: String) -> String {
        document(title: "\(view.station) · SPC", view: view, current: "/spc") {
            """
            <main class="spc-page">
            <section class="panel wide"><h2>Process capability, worst first</h2>\(table)
            <p class="hint">Cp and Cpk from the within-subgroup sigma, Pp and Ppk from the overall one (docs/spc.md).</p></section>
            </main>
            """
        }
    }

    /// A document shown in such a frame.
    static func framedDocument(_ body: String) -> String {
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><style>\(PageAssets.css)</style></head><body>\(body)</body></html>"
    }

    /// What is plugged in, as `floorgate devices` shows it.
    static func plugged(_ devices: [PluggedDevice]) -> String {
        guard !devices.isEmpty else { return "<p>No USB serial, HID or vendor-class USB devices are plugged in.</p>" }
        return "<table class=\"listing\"><thead><tr><th>Node</th><th>Subsystem</th><th>USB</th><th>Profile</th><th>Can Floorgate open it</th></tr></thead><tbody>\(devices.map(\.row).joined())</tbody></table>"
    }

    /// The build's steps and where each stands (the build page).
    public static func steps(_ build: JSONValue?) -> String {
        let rows = (build?["steps"]?.arrayValue ?? []).map { step in
            "<tr><td>\(text(step["key"]))</td><td>\(text(step["title"]))</td><td>\(text(step["status"]))</td></tr>"
        }.joined()
        return "<h2>Steps</h2><table class=\"listing\"><thead><tr><th>Step</th><th>Title</th><th>Status</th></tr></thead><tbody>\(rows)</tbody></table>"
    }

    public static func notices(_ notices: [String]) -> String {
        notices.isEmpty ? "" : "<h2>Notices</h2><ul>\(notices.map { "<li>\(HTMLText.escaped($0))</li>" }.joined())</ul>"
    }

    /// The signing dialog: user id, then the printed name, meaning and time the signature will
    /// carry, then the password; extra fields for a disposition.
    static let signingDialog = """
        <dialog id="sign-dialog" aria-labelledby="sign-subject">
        <form method="dialog" id="sign-form">
        <h2 id="sign-subject">Sign</h2>
        <p class="meaning">Meaning: <strong id="sign-meaning"></strong> · needs role <span id="sign-role"></span></p>
        <label>User id <input name="user" id="sign-user" autocomplete="username" required></label>
        <p id="sign-signer" class="signer" aria-live="polite"></p>
        <div id="sign-disposition" hidden>
        <label>Disposition <select name="disposition"><option>rework</option><option>use-as-is</option><option>scrap</option><option>return</option></select></label>
        <label>Comment <input name="comment" id="sign-comment"></label>
        </div>
        <label>Password <input name="password" id="sign-password" type="password" autocomplete="current-password" required></label>
        <p class="when">Signed at <span id="sign-time"></span> (the record's clock stamps it)</p>
        <p id="sign-result" class="result" role="alert"></p>
        <div class="actions"><button type="button" id="sign-cancel">Cancel</button><button type="submit" id="sign-confirm" class="primary">Sign</button></div>
        </form></dialog>
        """

    /// What a redline changes, to read before signing it (`InstructionDifference`'s JSON): each
    /// step changed, added or removed; words removed struck through and added underlined
    /// (`del`, `ins`: marks, not colours), each point's fields before and after.
    static func redlineChanges(_ changes: JSONValue?) -> String {
        guard let changes, !changes.isNull else { return "" }
        var items: [String] = []
        if let title = changes["title"], !title.isNull { items.append("<li>Title: \(wordEdits(title))</li>") }
        for step in changes["steps"]?.arrayValue ?? [] {
            let change = step["change"]?.stringValue ?? "changed"
            var lines = ["<strong>Step \(text(step["key"])) '\(text(step["title"]))': \(HTMLText.escaped(change))</strong>"]
            if change != "removed" {
                if change == "changed", let title = step["title_edits"], !title.isNull { lines.append("Title: \(wordEdits(title))") }
                if let words = step["text_edits"], !words.isNull { lines.append("Text: \(wordEdits(words))") }
                for point in step["points"]?.arrayValue ?? [] {
                    let fields = (point["fields"]?.arrayValue ?? []).map { field in
                        "\(text(field["field"])) \(text(field["from"], or: "(none)")) → \(text(field["to"], or: "(none)"))"
                    }
                    let pointChange = point["change"]?.stringValue ?? "changed"
                    lines.append("Point '\(text(point["name"]))' \(HTMLText.escaped(pointChange))" + (pointChange == "removed" ? "" : ": " + fields.joined(separator: "; ")))
                }
                // A picture added is shown; a removed one named, struck through; a moved one named.
                for picture in step["pictures"]?.arrayValue ?? [] {
                    let hash = HTMLText.escaped(picture["hash"]?.stringValue ?? "")
                    let caption = text(picture["caption"], or: "")
                    switch picture["change"]?.stringValue {
                    case "added": lines.append("Picture added: <ins>\(caption)</ins><br><img class=\"redline-picture\" src=\"/media/\(hash)\" alt=\"\(caption)\">")
                    case "removed": lines.append("Picture removed: <del>\(caption)</del>")
                    default: lines.append("Picture moved: \(caption)")
                    }
                }
            }
            items.append("<li>" + lines.joined(separator: "<br>") + "</li>")
        }
        return items.isEmpty ? "" : "<ul class=\"redline-changes\" aria-label=\"What the redline changes\">\(items.joined())</ul>"
    }

    /// Word edits as text: removed words in `del`, added ones in `ins`.
    private static func wordEdits(_ edits: JSONValue) -> String {
        (edits.arrayValue ?? []).map { edit in
            if let words = edit["removed"]?.stringValue { return "<del>\(HTMLText.escaped(words))</del>" }
            if let words = edit["added"]?.stringValue { return "<ins>\(HTMLText.escaped(words))</ins>" }
            return HTMLText.escaped(edit["same"]?.stringValue ?? "")
        }.joined(separator: " ")
    }

    static func text(_ value: JSONValue?, or fallback: String = "?") -> String {
        guard let value, !value.isNull else { return HTMLText.escaped(fallback) }
        return HTMLText.escaped(value.stringValue ?? value.text)
    }
}

extension PluggedDevice {
    /// One row of the devices page's table.
    var row: String {
        let interfaces = interfaceLines.map { "<br><span class=\"detail\">interface \(HTMLText.escaped($0))</span>" }.joined()
        let canOpen = access.map { $0.canOpen ? "✔ " : "✖ " } ?? ""
        return """
            <tr><td>\(HTMLText.escaped(device.node ?? device.syspath))</td><td>\(HTMLText.escaped(device.subsystem))</td><td>\(HTMLText.escaped(usbText))\(interfaces)</td><td>\(HTMLText.escaped(profileText))</td><td>\(canOpen)\(HTMLText.escaped(accessText))</td></tr>
            """
    }
}
