import FixtureSupport
import FloorgateCore
import Foundation
import Testing
@testable import WorkRecord

/// The charts' statistics checked against the NIST/SEMATECH e-Handbook's tables and against an
/// independent computation (Tests/peers/spc_reference.py: Python's statistics module, bias
/// factors integrated from the normal distribution, special causes checked window by window).
@Suite("SPC statistics", .timeLimit(.minutes(3)))
struct SPCStatisticsTests {
    /// The handbook's table of control chart factors (§6.3.2, as Montgomery's Appendix VI):
    /// n: A₂, D₃, D₄, c₄, A₃, B₃, B₄, to the places printed there.
    static let handbook: [Int: (a2: Double, d3: Double, d4: Double, c4: Double, a3: Double, b3: Double, b4: Double)] = [
        2: (1.880, 0, 3.267, 0.7979, 2.659, 0, 3.267),
        3: (1.023, 0, 2.574, 0.8862, 1.954, 0, 2.568),
        4: (0.729, 0, 2.282, 0.9213, 1.628, 0, 2.266),
        5: (0.577, 0, 2.114, 0.9400, 1.427, 0, 2.089),
        6: (0.483, 0, 2.004, 0.9515, 1.287, 0.030, 1.970),
        7: (0.419, 0.076, 1.924, 0.9594, 1.182, 0.118, 1.882),
        8: (0.373, 0.136, 1.864, 0.9650, 1.099, 0.185, 1.815),
        9: (0.337, 0.184, 1.816, 0.9693, 1.032, 0.239, 1.761),
    ]

    /// The handbook rounds some factors and truncates others: each must be within one unit of
    /// the last place printed.
    @Test("the chart factors are the handbook's, to the places it prints", arguments: 2...9)
    func factors(n: Int) throws {
        let table = try #require(Self.handbook[n])
        let root = Double(n).squareRoot()
        let computed = [
            ControlChartConstants.d2(n).map { 3 / ($0 * root) }, ControlChartConstants.rangeChartLowerFactor(n),
            ControlChartConstants.rangeChartUpperFactor(n), ControlChartConstants.c4(n), ControlChartConstants.c4(n).map { 3 / ($0 * root) },
            ControlChartConstants.deviationChartLowerFactor(n), ControlChartConstants.deviationChartUpperFactor(n),
        ]
        let printed = [table.a2, table.d3, table.d4, table.c4, table.a3, table.b3, table.b4]
        let places = [3, 3, 3, 4, 3, 3, 3]
        for (index, value) in computed.enumerated() {
            let value = try #require(value)
            let step = pow(10, -Double(places[index]))
            #expect(abs(value - printed[index]) <= step + 1e-12, "n = \(n), factor \(index): \(value) against \(printed[index])")
        }
    }

    /// Deterministic data for subgroups of `size`: noise, then a shift of ten subgroups, a
    /// trend of seven, fourteen alternating and one outlier, so that every test has work.
    static func planted(size: Int) -> [[Double]] {
        var state: UInt64 = 0x5EED_0000 + UInt64(size)
        func noise() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double((state >> 33) % 1000) / 1000 * 0.06 - 0.03
        }
        return (0..<60).map { index in
            let offset: Double = switch index {
            case 10..<20: 0.05
            case 24..<31: 0.02 * Double(index - 24) - 0.06
            case 36..<50: index % 2 == 0 ? 0.035 : -0.035
            case 55: 0.3
            default: 0
            }
            // A trend and an alternation are made of subgroup averages that move one way each step.
            let quiet = (24..<31).contains(index) || (36..<50).contains(index)
            return (0..<size).map { _ in 10 + offset + (quiet ? noise() / 10 : noise()) }
        }
    }

    static func reference(_ given: JSONValue) async throws -> JSONValue {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("peers/spc_reference.py").path
        let output = try await offThePool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = [script]
            let input = Pipe(), output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            try process.run()
            input.fileHandleForWriting.write(Data(given.text.utf8))
            try input.fileHandleForWriting.close()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return data
        }
        return try JSONValue(parsing: output)
    }

    static func close(_ value: Double?, _ expected: JSONValue?, relative: Double = 1e-9, _ what: String) {
        guard case .number(let reference)? = expected ?? .null, let value else {
            #expect(value == nil && (expected == nil || expected == .null), "\(what): \(String(describing: value)) against \(String(describing: expected))")
            return
        }
        #expect(abs(value - reference) <= relative * max(abs(reference), 1e-6), "\(what): \(value) against \(reference)")
    }

    @Test("limits, special causes and capability agree with the independent computation", arguments: [1, 2, 5, 9, 10, 12])
    func againstReference(size: Int) async throws {
        let subgroups = Self.planted(size: size)
        let lower = 9.85, upper = 10.2
        let reference = try await Self.reference([
            "subgroups": .array(subgroups.map { .array($0.map(JSONValue.number)) }), "lower": .number(lower), "upper": .number(upper),
        ])
        let chart = ControlChart(subgroups: subgroups, subgroupSize: size)
        #expect(chart.kind.rawValue == reference["chart"]?.stringValue)
        let baseline = try #require(chart.baseline())
        // d₂ is kept to six places: the limits agree to about 1e-7 of their value.
        Self.close(baseline.location.centre, reference["limits"]?["centre"], "centre")
        Self.close(baseline.location.lower, reference["limits"]?["lower"], relative: 1e-7, "lower control limit")
        Self.close(baseline.location.upper, reference["limits"]?["upper"], relative: 1e-7, "upper control limit")
        Self.close(baseline.sigmaWithin, reference["sigma_within"], relative: 1e-6, "sigma within")
        // The reference integrates d₃ on a grid: its dispersion limits are good to about 1e-4.
        Self.close(baseline.dispersion.centre, reference["dispersion_limits"]?["centre"], "dispersion centre")
        Self.close(baseline.dispersion.upper, reference["dispersion_limits"]?["upper"], relative: 5e-4, "dispersion upper limit")
        Self.close(baseline.dispersion.lower, reference["dispersion_limits"]?["lower"], relative: 5e-4, "dispersion lower limit")
        if (2...9).contains(size) {
            Self.close(ControlChartConstants.d2(size), reference["constants"]?["d2"], relative: 1e-6, "d2")
            Self.close(ControlChartConstants.d3(size), reference["constants"]?["d3"], relative: 1e-4, "d3")
        }
        if size >= 2 { Self.close(ControlChartConstants.c4(size), reference["constants"]?["c4"], "c4") }

        let causes = (SpecialCause.location(chart.plotted.map(\.location), limits: baseline.location)
            + SpecialCause.dispersion(chart.plotted.map(\.dispersion), limits: baseline.dispersion))
            .map { "\($0.index) \($0.test.rawValue) \($0.pane.rawValue)" }.sorted()
        let expected = (reference["special_causes"]?.arrayValue ?? []).map { flag in
            (flag.arrayValue ?? []).map { $0.integerValue.map(String.init) ?? $0.stringValue ?? "?" }.joined(separator: " ")
        }.sorted()
        #expect(causes == expected)
        // The planted data trips every test on the location pane.
        let tripped = Set(causes.map { $0.split(separator: " ")[1] })
        #expect(tripped.isSuperset(of: ["1", "2", "3", "4"]), "tests tripped: \(tripped.sorted())")

        let every = subgroups.flatMap { $0 }
        let capability = ProcessCapability(values: every, subgroups: subgroups.count, sigmaWithin: baseline.sigmaWithin, lower: lower, upper: upper)
        for (name, value) in [("mean", capability.mean), ("sigma_overall", capability.sigmaOverall)] {
            Self.close(value, reference["capability"]?[name], name)
        }
        for (name, value) in [("cp", capability.cp), ("cpk", capability.cpk), ("pp", capability.pp), ("ppk", capability.ppk)] {
            Self.close(value, reference["capability"]?[name], relative: 1e-6, name)
        }
    }

    @Test("a one-sided specification has no Cp or Pp, and its Cpk and Ppk are that side's")
    func oneSided() async throws {
        let subgroups = Self.planted(size: 4)
        let reference = try await Self.reference(["subgroups": .array(subgroups.map { .array($0.map(JSONValue.number)) }), "lower": .null, "upper": .number(10.25)])
        let baseline = try #require(ControlChart(subgroups: subgroups, subgroupSize: 4).baseline())
        let capability = ProcessCapability(
            values: subgroups.flatMap { $0 }, subgroups: subgroups.count, sigmaWithin: baseline.sigmaWithin, lower: nil, upper: 10.25)
        #expect(capability.cp == nil && capability.pp == nil)
        Self.close(capability.cpk, reference["capability"]?["cpk"], relative: 1e-6, "cpk")
        Self.close(capability.ppk, reference["capability"]?["ppk"], relative: 1e-6, "ppk")
        let upperOnly = (10.25 - capability.mean) / (3 * baseline.sigmaWithin)
        #expect(abs((capability.cpk ?? 0) - upperOnly) < 1e-12)
    }

    @Test("too few subgroups: no limits from one, and a warning below 25")
    func tooFew() {
        #expect(ControlChart(subgroups: [[1, 2, 3]], subgroupSize: 3).baseline() == nil)
        #expect(ControlChart(subgroups: [[1]], subgroupSize: 1).baseline() == nil)
        let two = ControlChart(subgroups: [[1, 2], [2, 4]], subgroupSize: 2)
        let baseline = two.baseline()
        #expect(baseline?.subgroups == 2)
        let capability = ProcessCapability(values: [1, 2, 2, 4], subgroups: 2, sigmaWithin: baseline?.sigmaWithin ?? 0, lower: 0, upper: 5)
        #expect(capability.warnings.contains { $0.contains("only 2 subgroups") })
        let flat = ProcessCapability(values: [3, 3, 3, 3], subgroups: 2, sigmaWithin: 0, lower: 0, upper: 5)
        #expect(flat.cp == nil && flat.ppk == nil && flat.warnings.count == 3)
    }

    @Test("runs are counted as they go: a point on the centre line ends a run of test 2, a tie ends tests 3 and 4")
    func runEnds() {
        let limits = ControlChart.Limits(centre: 0, lower: -10, upper: 10)
        let eight = Array(repeating: 1.0, count: 8)
        #expect(SpecialCause.location(eight + [1], limits: limits).map(\.test) == [.nineOnOneSide])
        #expect(SpecialCause.location(eight + [0, 1], limits: limits).isEmpty)
        #expect(SpecialCause.location([1, 2, 3, 4, 5, 6], limits: limits).map(\.run) == [6])
        #expect(SpecialCause.location([1, 2, 3, 3, 4, 5, 6], limits: limits).isEmpty)
        let zigzag = (0..<14).map { $0 % 2 == 0 ? -1.0 : 1.0 }
        #expect(SpecialCause.location(zigzag, limits: limits).map(\.test) == [.fourteenAlternating])
        #expect(SpecialCause.location(Array(zigzag.prefix(7)) + [zigzag[6]] + Array(zigzag.dropFirst(7)), limits: limits).isEmpty)
    }
}
