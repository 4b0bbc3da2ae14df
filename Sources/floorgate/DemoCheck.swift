import FloorgateCore

/// What the demo's device history record must hold, checked entry by entry.
enum DemoCheck {
    private struct Expectation: Sendable {
        let description: String
        let holds: @Sendable (JSONValue) -> Bool
    }

    private static func build(_ dhr: JSONValue) -> JSONValue { dhr["builds"]?.arrayValue?.first ?? .null }

    private static func results(_ dhr: JSONValue, point: String) -> [JSONValue] {
        (build(dhr)["results"]?.arrayValue ?? []).filter { $0["point"]?.stringValue == point }
    }

    private static func verdicts(_ dhr: JSONValue, point: String) -> [String] {
        results(dhr, point: point).compactMap { $0["verdict"]?.stringValue }
    }

    private static func fromDevice(_ dhr: JSONValue, point: String, profile: String) -> Bool {
        results(dhr, point: point).allSatisfy { $0["device"]?["profile"]?.stringValue == profile && !($0["raw_hex"]?.stringValue ?? "").isEmpty }
    }

    /// What the plant demo's DHR holds besides the assembly: the final inspection at the other
    /// station, in route order after it.
    private static let inspection: [Expectation] = [
        Expectation(description: "assembly (010) at bench-3, then final inspection (020) at bench-7, in route order") { dhr in
            (dhr["builds"]?.arrayValue ?? []).map { [$0["operation"], $0["station"]] } == [["010", "bench-3"], ["020", "bench-7"]]
        },
        Expectation(description: "the final inspection, closed by quality, with the overall length measured at bench-7 and passing") { dhr in
            guard let inspection = dhr["builds"]?.arrayValue?.last else { return false }
            let lengths = (inspection["results"]?.arrayValue ?? []).filter { $0["point"] == "overall length" }
            return inspection["status"] == "complete" && lengths.map { $0["verdict"] } == ["pass"]
                && lengths.allSatisfy { $0["device"]?["serial"] == "CAL-0077" && $0["station"] == "bench-7" }
        },
    ]

    private static func expectations(plant: Bool) -> [Expectation] { assembly + (plant ? inspection : []) }

    private static let assembly: [Expectation] = [
        Expectation(description: "the build of SN-0001, complete and closed by quality") { dhr in
            dhr["serial"] == "SN-0001" && build(dhr)["status"] == "complete" && !(build(dhr)["closed_at"]?.isNull ?? true)
        },
        Expectation(description: "instruction revisions A and B (the redline)") { dhr in
            Set((build(dhr)["instruction_revisions"]?.arrayValue ?? []).compactMap { $0["revision"]?.stringValue }) == ["A", "B"]
        },
        Expectation(description: "three bore readings from the caliper: pass, fail high, pass after rework") { dhr in
            verdicts(dhr, point: "bore diameter") == ["pass", "fail_high", "pass"]
                && fromDevice(dhr, point: "bore diameter", profile: "mitutoyo-dp1va-rs232")
        },
        Expectation(description: "the sensor board's lot label matched to its part, in the as-built list") { dhr in
            (build(dhr)["components"]?.arrayValue ?? []).map { [$0["part"], $0["lot"], $0["quantity"]] }
                == [["SB-40", .string(DemoScenario.Board.lot), 1]]
        },
        Expectation(description: "the unit's UDI: the housing's GTIN, its date of manufacture, work order and serial") { dhr in
            dhr["udi"]?["di"] == .string(DemoScenario.gtin) && dhr["udi"]?["pi"]?["21"] == "SN-0001" && dhr["udi"]?["pi"]?["10"] == "WO-1001"
        },
        Expectation(description: "two cover-screw tightenings from the nutrunner, passing revision B's limits") { dhr in
            verdicts(dhr, point: "cover screws") == ["pass", "pass"]
                && fromDevice(dhr, point: "cover screws", profile: "atlas-copco-pf6000")
                && results(dhr, point: "cover screws").allSatisfy { $0["instruction_revision"] == "B" }
        },
        Expectation(description: "both tightenings with the commanded program 3, the unit's serial and a batch of 2, from the tool the controller named") { dhr in
            let contexts = results(dhr, point: "cover screws").compactMap { $0["tightening"] }
            return contexts.count == 2 && contexts.allSatisfy { context in
                context["pset"]?.stringValue.flatMap { Int($0) } == 3 && context["identifier"] == .string(DemoScenario.serial)
                    && context["batch_size"] == 2 && context["tool"]?["serial"]?.stringValue != nil
            } && contexts.last?["batch_status"] == "ok"
        },
        Expectation(description: "the torque tester's audit") { dhr in
            verdicts(dhr, point: "audit torque") == ["pass"] && fromDevice(dhr, point: "audit torque", profile: "norbar-tst")
        },
        Expectation(description: "every measurement and tightening from a device the calibration register held calibrated, with its due date") { dhr in
            let measured = (build(dhr)["results"]?.arrayValue ?? []).filter { !($0["unit"]?.isNull ?? true) }
            return !measured.isEmpty && measured.allSatisfy { result in
                result["calibration"]?["status"] == "calibrated" && result["calibration"]?["asset"] == result["device"]?["serial"]
                    && result["calibration"]?["due_on"]?.stringValue != nil
            }
        },
        Expectation(description: "one nonconformance, dispositioned rework") { dhr in
            (build(dhr)["nonconformances"]?.arrayValue ?? []).map { $0["disposition"]?.stringValue } == ["rework"]
        },
        Expectation(description: "the redline, acknowledged") { dhr in
            (build(dhr)["redlines"]?.arrayValue ?? []).count == 1
                && (build(dhr)["redlines"]?.arrayValue ?? []).allSatisfy { !($0["acknowledge_signature"]?.isNull ?? true) }
        },
        Expectation(description: "four steps signed as performed") { dhr in
            (build(dhr)["steps"]?.arrayValue ?? []).filter { !($0["signature_id"]?.isNull ?? true) }.count == 4
        },
        Expectation(description: "the build accepted after rework; the unit released for distribution; its work order: 1 unit started, completed, accepted and released") { dhr in
            build(dhr)["outcome"] == "reworked" && !(dhr["release"]?["signature_id"]?.isNull ?? true)
                && ["started", "completed", "accepted", "released"].allSatisfy { dhr["work_order"]?["counts"]?[$0] == 1 }
                && dhr["work_order"]?["counts"]?["scrapped"] == 0
        },
        Expectation(description: "signatures meaning approved, performed, dispositioned and reviewed") { dhr in
            Set((dhr["signatures"]?.arrayValue ?? []).compactMap { $0["meaning"]?.stringValue })
                .isSuperset(of: ["approved", "performed", "dispositioned", "reviewed"])
        },
    ]

    /// The expectations the DHR does not meet.
    static func missing(in dhr: JSONValue, plant: Bool = false) -> [String] {
        expectations(plant: plant).filter { !$0.holds(dhr) }.map(\.description)
    }

    /// One line per expectation, ticked or not.
    static func summary(of dhr: JSONValue, plant: Bool = false) -> String {
        "\nDevice history record of SN-0001:\n" + expectations(plant: plant).map { ($0.holds(dhr) ? "  ✔ " : "  ✘ ") + $0.description }.joined(separator: "\n")
    }
}
