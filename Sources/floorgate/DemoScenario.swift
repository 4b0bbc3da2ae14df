import FloorgateCore
import Foundation

/// What the demo station builds: one housing assembly, serial SN-0001, on work order WO-1001,
/// through four steps measured by four devices, with one out-of-limits reading and one redline.
enum DemoScenario {
    static let serial = "SN-0001"
    /// The housing assembly's GTIN: its UDI-DI.
    static let gtin = "09506000134352"

    /// The sensor board, a lot-controlled component: its label is a GS1 DataMatrix.
    enum Board {
        static let gtin = "09506000117843"
        static let lot = "LOT-B-7731"

        /// The label of lot `lot` as the scanner sends it (AIM `]d2`): GTIN, expiry a year from
        /// `today` (UTC) and lot.
        static func label(lot: String = lot, today: Date = Date()) -> String {
            let expiry = today.addingTimeInterval(365 * 86_400).formatted(.iso8601.year().month().day().dateSeparator(.omitted))
            return "]d201\(gtin)17\(expiry.dropFirst(2))10\(lot)"
        }
    }

    /// The plant demo's stations: bench-3 assembles (operation 010), bench-7 inspects (020).
    static let assembly = (station: "bench-3", operation: "010")
    static let inspection = (station: "bench-7", operation: "020")

    /// The record's starting content: users (passwords for this throwaway record only), the
    /// part, instruction revision A (a draft until approved, its steps showing `pictures`, by
    /// step key) and the released work order. The single-station demo adds the work order of the
    /// units built before (`History`); in the plant demo the work order's route goes on to final
    /// inspection (operation 020) and each station is routed to its operation.
    static func recordImport(plant: Bool, pictures: [String: String]) -> JSONValue {
        var workOrders: [JSONValue] = [[
            "number": "WO-1001", "part": "HX-200", "part_revision": "C", "quantity": 3,
            "operations": plant ? [.string(assembly.operation), .string(inspection.operation)] : [.string(assembly.operation)],
            "serials": ["SN-0001", "SN-0002", "SN-0003"], "status": "released",
        ]]
        if !plant {
            workOrders.append([
                "number": .string(History.workOrder), "part": "HX-200", "part_revision": "C", "quantity": .integer(Int64(History.serials.count)),
                "operations": [.string(assembly.operation)], "serials": .array(History.serials.map(JSONValue.string)), "status": "released",
            ])
        }
        let assemblyInstruction: JSONValue = [
            "part": "HX-200", "part_revision": "C", "operation": .string(assembly.operation), "revision": "A",
            "title": "Housing final assembly", "steps": steps(coverScrewLower: "1.10", pictures: pictures),
        ]
        var content: [String: JSONValue] = [
            "users": users,
            "parts": [
                ["number": "HX-200", "revision": "C", "description": "Handheld pressure sensor, housing assembly", "gtin": .string(gtin)],
                ["number": "SB-40", "revision": "A", "description": "Sensor board", "gtin": .string(Board.gtin)],
            ],
            "instructions": .array([assemblyInstruction] + (plant ? [inspectionInstruction] : [])),
            "work_orders": .array(workOrders),
        ]
        if plant {
            content["stations"] = [
                ["station": .string(assembly.station), "operations": [.string(assembly.operation)]],
                ["station": .string(inspection.station), "operations": [.string(inspection.operation)]],
            ]
        }
        return .object(content)
    }

    private static let users: JSONValue = [
        ["login": "olga", "name": "Olga Operator", "roles": ["operator"], "password": "bench-olga-1"],
        ["login": "eric", "name": "Eric Engineer", "roles": ["engineer"], "password": "bench-eric-1"],
        ["login": "quinn", "name": "Quinn Quality", "roles": ["quality"], "password": "bench-quinn-1"],
        ["login": "ada", "name": "Ada Approver", "roles": ["approver"], "password": "bench-ada-1"],
        ["login": "sam", "name": "Sam Admin", "roles": ["admin"], "password": "bench-admin-1"],
    ]

    /// Operation 020, at the inspection bench: the assembled unit's overall length.
    private static let inspectionInstruction: JSONValue = [
        "part": "HX-200", "part_revision": "C", "operation": .string(inspection.operation), "revision": "A",
        "title": "Final inspection",
        "steps": [[
            "key": "10", "title": "Measure overall length",
            "text": "Measure the assembled housing's overall length with the caliper.",
            "points": [["name": "overall length", "kind": "measure", "unit": "mm", "nominal": "86.00", "minus": "0.10", "plus": "0.10"]],
        ]],
    ]

    /// The instruction's steps, each showing its picture (`pictures`: hash by step key); revision
    /// B (the redline) raises the cover screws' lower limit and shows a new drawing of them.
    static func steps(coverScrewLower: String, pictures: [String: String]) -> JSONValue {
        let steps: [JSONValue] = [
            [
                "key": "10", "title": "Check housing bore",
                "text": "Measure the bore at two places 90 degrees apart with the caliper.",
                "points": [["name": "bore diameter", "kind": "measure", "unit": "mm", "nominal": "12.000", "minus": "0.020", "plus": "0.020", "count": 2]],
            ],
            [
                "key": "20", "title": "Fit sensor board",
                "text": "Scan the board's lot label, then seat the board on its posts.",
                "points": [["name": "board lot", "kind": "component", "part": "SB-40", "control": "lot"]],
            ],
            [
                "key": "30", "title": "Torque cover screws",
                "text": "Fit the cover; tighten both M3 screws with the nutrunner (program 3).",
                "points": [[
                    "name": "cover screws", "kind": "torque", "unit": "N.m", "lower": .string(coverScrewLower), "upper": "1.30", "count": 2,
                    "pset": "3", "device_profile": "atlas-copco-pf6000",
                ]],
            ],
            [
                "key": "40", "title": "Audit cover torque",
                "text": "Check one cover screw's breakaway torque on the torque tester.",
                "points": [["name": "audit torque", "kind": "torque", "unit": "N.m", "lower": "1.10", "upper": "1.35", "device_profile": "norbar-tst"]],
            ],
        ]
        return .array(steps.map { step in
            guard case .object(var members) = step, let key = members["key"]?.stringValue, let hash = pictures[key] else { return step }
            members["pictures"] = [["hash": .string(hash), "caption": .string(Drawing.caption(step: key))]]
            return .object(members)
        })
    }

    /// The station's measuring devices in the calibration register, dated from `today` (UTC):
    /// each calibrated and in service; the torque tester falls due in ten days, so the station
    /// page warns of it.
    static func calibrations(today: Date) -> JSONValue {
        func day(_ offset: Int) -> JSONValue {
            .string(today.addingTimeInterval(Double(offset) * 86_400).formatted(.iso8601.year().month().day()))
        }
        let devices: [(asset: String, description: String, calibrated: Int, interval: Int, certificate: String)] = [
            ("CAL-0042", "caliper 0–150 mm, bench-3", -30, 180, "MET-2026-1187"),
            ("CAL-0077", "caliper 0–150 mm, bench-7", -60, 180, "MET-2026-1042"),
            ("TST-1187", "torque tester 0.5–5 N·m", -355, 365, "TQ-2025-0388"),
            ("PF6-0042", "nutrunner spindle, cover screws", -10, 365, "TQ-2026-0907"),
        ]
        return .array(devices.map { device in
            [
                "asset": .string(device.asset), "status": "calibrated", "description": .string(device.description),
                "calibrated_on": day(device.calibrated), "interval_days": .integer(Int64(device.interval)),
                "certificate": .string(device.certificate),
            ]
        })
    }

    /// The Open Protocol controller's results, in order (torque N·m, angle degrees, verdict).
    /// The nutrunner controller's programs: program 3 fits the cover screws' limits of both
    /// revisions (1.10–1.30 N·m, then 1.15–1.30 N·m), so the gateway's check passes.
    static let controllerPrograms = """
        # ID TORQUE_MIN TORQUE_MAX TORQUE_TARGET ANGLE_MIN ANGLE_MAX ANGLE_TARGET NAME
        3 1.15 1.30 1.22 30 90 60 cover screws M3
        4 2.00 2.40 2.20 30 90 60 bracket screws M4

        """

    static let controllerScript = """
        # The nutrunner's two tightenings of the cover screws.
        1.21 45 ok
        1.24 47 ok
        """

    /// The units built before the demo's: their results give the station page's charts a
    /// history (the bores drift up over the last nine, which test 2 notices).
    enum History {
        static let workOrder = "WO-0990"
        static let serials = (1...20).map { String(format: "SN-09%02d", $0) }
        static let boardLot = "LOT-2291"

        /// Unit `index`'s two bore diameters (mm), two cover screw torques and audit torque (N·m).
        static func readings(_ index: Int) -> (bores: [String], screws: [String], audit: String) {
            let bore = 11_999 + (index * 5) % 3 + (index >= 11 ? 4 : 0)
            let screw = 118 + (index * 3) % 7
            return (
                [bore, bore + (index * 7) % 5 - 2].map { String(format: "%d.%03d", $0 / 1000, $0 % 1000) },
                [screw, screw + 2].map { String(format: "1.%02d", $0 - 100) },
                String(format: "1.%02d", 20 + (index * 7) % 9))
        }
    }

    /// The drawing each step shows: simple SVG line art made here, as an engineer would export it.
    enum Drawing {
        static func caption(step: String) -> String {
            switch step {
            case "10": "Caliper jaws across the bore, then again at 90°"
            case "20": "Board lot label, read before seating"
            case "30": "Cover screws: tighten 1 then 2"
            default: "Tester on one cover screw, breakaway clockwise"
            }
        }

        /// The SVG of step `step`; revision B's drawing of the cover screws marks the new torque.
        static func svg(step: String, revisionB: Bool = false) -> String {
            let body = switch step {
            case "10":
                ##"<circle cx="100" cy="60" r="40" fill="#eef" stroke="#223" stroke-width="3"/><line x1="40" y1="60" x2="160" y2="60" stroke="#b00020" stroke-width="3" stroke-dasharray="6 4"/><line x1="100" y1="10" x2="100" y2="110" stroke="#b00020" stroke-width="3" stroke-dasharray="6 4"/><text x="100" y="118" font-size="11" text-anchor="middle">Ø12.000 ±0.020</text>"##
            case "20":
                ##"<rect x="40" y="20" width="120" height="80" rx="6" fill="#efe" stroke="#223" stroke-width="3"/><rect x="55" y="35" width="90" height="24" fill="#fff" stroke="#223"/><text x="100" y="52" font-size="12" text-anchor="middle">LOT-2291</text><text x="100" y="88" font-size="11" text-anchor="middle">scan, then seat on posts</text>"##
            case "30":
                ##"<rect x="30" y="25" width="140" height="70" rx="10" fill="#eee" stroke="#223" stroke-width="3"/><circle cx="55" cy="60" r="9" fill="#fff" stroke="#223" stroke-width="2"/><circle cx="145" cy="60" r="9" fill="#fff" stroke="#223" stroke-width="2"/><text x="55" y="45" font-size="12" text-anchor="middle">1</text><text x="145" y="45" font-size="12" text-anchor="middle">2</text>"##
                    + (revisionB ? ##"<text x="100" y="115" font-size="11" text-anchor="middle" fill="#b00020">1.15 … 1.30 N·m (ECO-512)</text>"## : ##"<text x="100" y="115" font-size="11" text-anchor="middle">1.10 … 1.30 N·m</text>"##)
            default:
                ##"<rect x="30" y="25" width="140" height="70" rx="10" fill="#eee" stroke="#223" stroke-width="3"/><circle cx="55" cy="60" r="9" fill="#fff" stroke="#b00020" stroke-width="3"/><path d="M 40 40 A 22 22 0 0 1 72 42" fill="none" stroke="#b00020" stroke-width="2"/><text x="100" y="115" font-size="11" text-anchor="middle">1.10 … 1.35 N·m</text>"##
            }
            return ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 125"><title>"## + caption(step: step) + "</title>" + body + "</svg>"
        }
    }
}
