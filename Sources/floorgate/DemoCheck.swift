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

    private static let expectations: [Expectation] = [
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
        Expectation(description: "the board lot scanned") { dhr in
            results(dhr, point: "board lot").contains { $0["value"] == "LOT-B-7731" }
        },
        Expectation(description: "two cover-screw tightenings from the nutrunner, passing revision B's limits") { dhr in
            verdicts(dhr, point: "cover screws") == ["pass", "pass"]
                && fromDevice(dhr, point: "cover screws", profile: "atlas-copco-pf6000")
                && results(dhr, point: "cover screws").allSatisfy { $0["instruction_revision"] == "B" }
        },
        Expectation(description: "the torque tester's audit") { dhr in
            verdicts(dhr, point: "audit torque") == ["pass"] && fromDevice(dhr, point: "audit torque", profile: "norbar-tst")
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
        Expectation(description: "signatures meaning approved, performed, dispositioned and reviewed") { dhr in
            Set((dhr["signatures"]?.arrayValue ?? []).compactMap { $0["meaning"]?.stringValue })
                .isSuperset(of: ["approved", "performed", "dispositioned", "reviewed"])
        },
    ]

    /// The expectations the DHR does not meet.
    static func missing(in dhr: JSONValue) -> [String] {
        expectations.filter { !$0.holds(dhr) }.map(\.description)
    }

    /// One line per expectation, ticked or not.
    static func summary(of dhr: JSONValue) -> String {
        "\nDevice history record of SN-0001:\n" + expectations.map { ($0.holds(dhr) ? "  ✔ " : "  ✘ ") + $0.description }.joined(separator: "\n")
    }
}
