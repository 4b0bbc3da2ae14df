import FloorgateCore

/// What the demo station builds: one housing assembly, serial SN-0001, on work order WO-1001,
/// through four steps measured by four devices, with one out-of-limits reading and one redline.
enum DemoScenario {
    static let serial = "SN-0001"

    /// The record's starting content: users (passwords for this throwaway record only), the
    /// part, instruction revision A (a draft until approved) and the released work order.
    static let recordImport = recordImport(plant: false)

    /// The plant demo's stations: bench-3 assembles (operation 010), bench-7 inspects (020).
    static let assembly = (station: "bench-3", operation: "010")
    static let inspection = (station: "bench-7", operation: "020")

    /// The record's starting content; in the plant demo the work order's route goes on to final
    /// inspection (operation 020) and each station is routed to its operation.
    static func recordImport(plant: Bool) -> JSONValue {
        var content: [String: JSONValue] = [
            "users": users,
            "parts": [["number": "HX-200", "revision": "C", "description": "Handheld pressure sensor, housing assembly"]],
            "instructions": .array([assemblyInstruction] + (plant ? [inspectionInstruction] : [])),
            "work_orders": [[
                "number": "WO-1001", "part": "HX-200", "part_revision": "C", "quantity": 3,
                "operations": plant ? [.string(assembly.operation), .string(inspection.operation)] : [.string(assembly.operation)],
                "serials": ["SN-0001", "SN-0002", "SN-0003"], "status": "released",
            ]],
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
    ]

    private static let assemblyInstruction: JSONValue = [
        "part": "HX-200", "part_revision": "C", "operation": .string(assembly.operation), "revision": "A",
        "title": "Housing final assembly", "steps": steps(coverScrewLower: "1.10"),
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

    /// The instruction's steps; revision B (the redline) raises the cover screws' lower limit.
    static func steps(coverScrewLower: String) -> JSONValue {
        [
            [
                "key": "10", "title": "Check housing bore",
                "text": "Measure the bore at two places 90 degrees apart with the caliper.",
                "points": [["name": "bore diameter", "kind": "measure", "unit": "mm", "nominal": "12.000", "minus": "0.020", "plus": "0.020", "count": 2]],
            ],
            [
                "key": "20", "title": "Fit sensor board",
                "text": "Scan the board's lot label, then seat the board on its posts.",
                "points": [["name": "board lot", "kind": "scan"]],
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
    }

    /// The Open Protocol controller's results, in order (torque N·m, angle degrees, verdict).
    static let controllerScript = """
        # The nutrunner's two tightenings of the cover screws.
        1.21 45 ok
        1.24 47 ok
        """
}
