import FloorgateCore
import Testing

@Suite("Limits and verdicts", .timeLimit(.minutes(1)))
struct VerdictTests {
    private func decimal(_ text: String) throws -> ExactDecimal { try ExactDecimal(parsing: text) }

    @Test("25.40 mm against limits in inches is judged exactly, at the boundary")
    func millimetresAgainstInches() throws {
        let limits = Limits(lower: try decimal("0.9990"), upper: try decimal("1.0000"), unit: .inch)
        #expect(limits.verdict(for: Measurement(try decimal("25.40"), .millimetre)) == .pass)
        #expect(limits.verdict(for: Measurement(try decimal("25.401"), .millimetre)) == .failHigh)
        #expect(limits.verdict(for: Measurement(try decimal("25.3746"), .millimetre)) == .pass)  // 0.9990 in exactly
        #expect(limits.verdict(for: Measurement(try decimal("25.3745"), .millimetre)) == .failLow)
    }

    @Test("a boundary a Double path gets wrong: 0.007 in is exactly 0.1778 mm")
    func boundaryDoubleGetsWrong() throws {
        let limits = Limits(lower: try decimal("0.1778"), upper: nil, unit: .millimetre)
        #expect(limits.verdict(for: Measurement(try decimal("0.007"), .inch)) == .pass)
        #expect(0.007 * 25.4 < 0.1778)  // in binary floating point the reading would fail low
    }

    @Test("torque in lbf·in against N·m limits")
    func torqueUnits() throws {
        // 10 lbf·in = 1.129848290276167 N·m exactly
        let atLimit = Limits(lower: try decimal("1.129848290276167"), upper: nil, unit: .newtonMetre)
        #expect(atLimit.verdict(for: Measurement(try decimal("10"), .poundForceInch)) == .pass)
        let justAbove = Limits(lower: try decimal("1.1298482902761671"), upper: nil, unit: .newtonMetre)
        #expect(justAbove.verdict(for: Measurement(try decimal("10"), .poundForceInch)) == .failLow)
    }

    @Test("nominal ± tolerances, either side optional")
    func nominalAndTolerances() throws {
        let limits = try Limits(nominal: try decimal("12.000"), minus: try decimal("0.050"), plus: try decimal("0.020"), unit: .millimetre)
        #expect(limits.lower?.description == "11.950")
        #expect(limits.upper?.description == "12.020")
        #expect(limits.verdict(for: Measurement(try decimal("12.020"), .millimetre)) == .pass)
        #expect(limits.verdict(for: Measurement(try decimal("12.0201"), .millimetre)) == .failHigh)
        let upperOnly = try Limits(nominal: try decimal("5"), minus: nil, plus: try decimal("0.5"), unit: .newtonMetre)
        #expect(upperOnly.lower == nil)
        #expect(upperOnly.verdict(for: Measurement(try decimal("-100"), .newtonMetre)) == .pass)
    }

    @Test("a reading of the wrong kind is invalid, with a reason an operator can read")
    func wrongKind() throws {
        let limits = Limits(lower: try decimal("1"), upper: try decimal("2"), unit: .millimetre)
        let verdict = limits.verdict(for: Measurement(try decimal("1.5"), .newtonMetre))
        guard case .invalid(let reason) = verdict else {
            Issue.record("expected invalid, got \(verdict)")
            return
        }
        #expect(reason.contains("torque"))
        #expect(reason.contains("mm"))
        #expect(verdict.code == "invalid")
    }

    @Test("a torque point's angle window is judged after the torque")
    func angleWindow() throws {
        let window = AngleWindow(minimum: try decimal("30"), maximum: try decimal("60"))
        let limits = Limits(lower: try decimal("7"), upper: try decimal("9"), unit: .newtonMetre, angleWindow: window)
        let torque = Measurement(try decimal("8.00"), .newtonMetre)
        #expect(limits.verdict(for: torque, angle: try decimal("45")) == .pass)
        #expect(limits.verdict(for: torque, angle: try decimal("61")) == .failHigh)
        #expect(limits.verdict(for: torque, angle: try decimal("29")) == .failLow)
        #expect(limits.verdict(for: Measurement(try decimal("6.99"), .newtonMetre), angle: try decimal("45")) == .failLow)
        #expect(limits.verdict(for: torque, angle: nil).code == "invalid")
    }

    @Test("Fahrenheit readings against Celsius limits")
    func temperatureLimits() throws {
        let limits = Limits(lower: try decimal("20"), upper: try decimal("25"), unit: .celsius)
        #expect(limits.verdict(for: Measurement(try decimal("68"), .fahrenheit)) == .pass)  // exactly 20 °C
        #expect(limits.verdict(for: Measurement(try decimal("67.99"), .fahrenheit)) == .failLow)
        #expect(limits.verdict(for: Measurement(try decimal("77.01"), .fahrenheit)) == .failHigh)
    }
}
