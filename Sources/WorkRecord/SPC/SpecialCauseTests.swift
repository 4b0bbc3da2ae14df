/// The tests for special causes, numbered as Minitab numbers them (Nelson's rules 1–4), run on
/// a chart's plotted points. A point is flagged when the run that trips a test ends on it; a run
/// that goes on flags every point it reaches.
enum SpecialCauseTest: Int, Sendable, CaseIterable, Comparable {
    /// One point more than 3σ from the centre line (beyond a control limit); on either pane.
    case beyondLimits = 1
    /// Nine points in a row on the same side of the centre line.
    case nineOnOneSide = 2
    /// Six points in a row, all increasing or all decreasing.
    case sixTrending = 3
    /// Fourteen points in a row, alternating up and down.
    case fourteenAlternating = 4

    static func < (left: Self, right: Self) -> Bool { left.rawValue < right.rawValue }

    /// How many points in a row the test needs.
    var runLength: Int {
        switch self {
        case .beyondLimits: 1
        case .nineOnOneSide: 9
        case .sixTrending: 6
        case .fourteenAlternating: 14
        }
    }
}

/// One point a test flagged, and which way it went.
struct SpecialCause: Sendable, Equatable {
    enum Direction: String, Sendable {
        case above, below, increasing, decreasing, alternating
    }

    enum Pane: String, Sendable { case location, dispersion }

    var index: Int
    var test: SpecialCauseTest
    var pane: Pane
    var direction: Direction
    /// How many points in a row the run that tripped the test holds so far (1 for test 1).
    var run: Int = 1

    /// The points of `values` (oldest first) that trip tests 1–4 against `limits`, ordered by
    /// point, then test.
    static func location(_ values: [Double], limits: ControlChart.Limits) -> [SpecialCause] {
        var flags: [SpecialCause] = []
        var side: (direction: Direction, run: Int)?
        // Runs counted in points: steps of +1 (up), −1 (down) or 0 (a tie, which ends both runs).
        var trend = (step: 0, run: 1)
        var alternation = (step: 0, run: 1)
        for (index, value) in values.enumerated() {
            if value > limits.upper {
                flags.append(SpecialCause(index: index, test: .beyondLimits, pane: .location, direction: .above))
            } else if value < limits.lower {
                flags.append(SpecialCause(index: index, test: .beyondLimits, pane: .location, direction: .below))
            }
            // Test 2: a point on the centre line ends the run.
            let here: Direction? = value > limits.centre ? .above : value < limits.centre ? .below : nil
            side = here.map { direction in (direction, side?.direction == direction ? (side?.run ?? 0) + 1 : 1) }
            if let side, side.run >= SpecialCauseTest.nineOnOneSide.runLength {
                flags.append(SpecialCause(index: index, test: .nineOnOneSide, pane: .location, direction: side.direction, run: side.run))
            }
            guard index > 0 else { continue }
            let step = value > values[index - 1] ? 1 : value < values[index - 1] ? -1 : 0
            // Test 3: steps all the same way.
            trend = (step, step == 0 ? 1 : step == trend.step ? trend.run + 1 : 2)
            if trend.run >= SpecialCauseTest.sixTrending.runLength {
                flags.append(SpecialCause(index: index, test: .sixTrending, pane: .location, direction: step > 0 ? .increasing : .decreasing, run: trend.run))
            }
            // Test 4: each step the other way from the one before.
            alternation = (step, step == 0 ? 1 : step == -alternation.step ? alternation.run + 1 : 2)
            if alternation.run >= SpecialCauseTest.fourteenAlternating.runLength {
                flags.append(SpecialCause(index: index, test: .fourteenAlternating, pane: .location, direction: .alternating, run: alternation.run))
            }
        }
        return flags
    }

    /// The points of the dispersion pane beyond its limits (test 1; a lower limit of zero
    /// flags nothing).
    static func dispersion(_ values: [Double?], limits: ControlChart.Limits) -> [SpecialCause] {
        values.enumerated().compactMap { index, value in
            guard let value else { return nil }
            if value > limits.upper { return SpecialCause(index: index, test: .beyondLimits, pane: .dispersion, direction: .above) }
            if limits.lower > 0, value < limits.lower {
                return SpecialCause(index: index, test: .beyondLimits, pane: .dispersion, direction: .below)
            }
            return nil
        }
    }
}
