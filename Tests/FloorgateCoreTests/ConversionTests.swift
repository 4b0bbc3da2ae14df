import FloorgateCore
import PropertyBased
import Testing

@Suite("Units and exact conversion", .timeLimit(.minutes(1)))
struct ConversionTests {
    private func measurement(_ text: String, _ unit: MeasurementUnit) throws -> Measurement {
        Measurement(try ExactDecimal(parsing: text), unit)
    }

    @Test("the table's factors are the exact products of their definitions", arguments: [
        (MeasurementUnit.poundForceFoot, "1.3558179483314004"),  // 4.4482216152605 × 0.3048
        (.poundForceInch, "0.1129848290276167"),  // 4.4482216152605 × 0.0254
        (.ounceForceInch, "0.00706155181422604375"),  // lbf·in ÷ 16
        (.kilogramForceCentimetre, "0.0980665"), (.kilogramForceMetre, "9.80665"), (.gramForceCentimetre, "0.0000980665"),
        (.newtonCentimetre, "0.01"), (.millinewtonMetre, "0.001"), (.kilonewtonMetre, "1000"),
    ])
    func torqueFactors(unit: MeasurementUnit, newtonMetres: String) throws {
        let expected = try ExactDecimal(parsing: newtonMetres)
        let one = Measurement(ExactDecimal(1, scale: 0), unit)
        #expect(try one.converted(to: .newtonMetre, scale: expected.scale).value == expected)
    }

    @Test("force, length and mass factors")
    func otherFactors() throws {
        #expect(try measurement("1", .poundForce).converted(to: .newton, scale: 13).value.description == "4.4482216152605")
        #expect(try measurement("1", .ounceForce).converted(to: .newton, scale: 17).value.description == "0.27801385095378125")
        #expect(try measurement("1", .inch).converted(to: .millimetre, scale: 1).value.description == "25.4")
        #expect(try measurement("1", .pound).converted(to: .kilogram, scale: 8).value.description == "0.45359237")
        #expect(try measurement("16", .ounce).converted(to: .pound, scale: 3).value.description == "1.000")
        #expect(try measurement("1250", .micrometre).converted(to: .millimetre, scale: 3).value.description == "1.250")
    }

    @Test("conversions into inch or lbf·ft round half-even once, at the scale asked for")
    func roundingAtTheEnd() throws {
        #expect(try measurement("1", .newtonMetre).converted(to: .poundForceFoot, scale: 6).value.description == "0.737562")
        #expect(try measurement("25.40", .millimetre).converted(to: .inch, scale: 4).value.description == "1.0000")
        #expect(try measurement("0.125", .millimetre).converted(to: .millimetre, scale: 2).value.description == "0.12")
        #expect(try measurement("0.135", .millimetre).converted(to: .millimetre, scale: 2).value.description == "0.14")
        #expect(try measurement("-0.125", .millimetre).converted(to: .millimetre, scale: 2).value.description == "-0.12")
        #expect(try measurement("0.1251", .millimetre).converted(to: .millimetre, scale: 2).value.description == "0.13")
    }

    @Test("temperature converts with its offset")
    func temperature() throws {
        #expect(try measurement("212", .fahrenheit).converted(to: .celsius, scale: 3).value.description == "100.000")
        #expect(try measurement("-40", .celsius).converted(to: .fahrenheit, scale: 0).value.description == "-40")
        #expect(try measurement("20.5", .celsius).converted(to: .fahrenheit, scale: 2).value.description == "68.90")
    }

    @Test("units of different kinds do not convert")
    func incompatible() throws {
        #expect(throws: ConversionError.incompatibleUnits(from: .newtonMetre, to: .millimetre)) {
            try measurement("1", .newtonMetre).converted(to: .millimetre, scale: 3)
        }
    }

    @Test("every unit code round-trips and has a kind")
    func codes() {
        for unit in MeasurementUnit.allCases {
            #expect(MeasurementUnit(code: unit.code) == unit)
        }
        #expect(MeasurementUnit(code: "Nm") == nil)
        #expect(MeasurementUnit.allCases.filter { $0.quantity == .torque }.count == 10)
    }

    @Test("inch → mm → inch is the identity (mm factor terminates)")
    func inchRoundTrip() async {
        await propertyCheck(count: 300, input: Gen.int64(in: -99_999_999...99_999_999), Gen.int(in: 0...6)) { digits, scale in
            // propertyCheck swallows thrown errors; make each one a recorded issue.
            #expect(throws: Never.self) {
                let inches = Measurement(ExactDecimal(digits, scale: scale), .inch)
                let millimetres = try inches.converted(to: .millimetre, scale: scale + 1)
                #expect(try millimetres.converted(to: .inch, scale: scale) == inches)
            }
        }
    }

    @Test("mm → inch with two guard digits → mm recovers the reading")
    func millimetreRoundTrip() async {
        await propertyCheck(count: 300, input: Gen.int64(in: -99_999_999...99_999_999), Gen.int(in: 0...6)) { digits, scale in
            // propertyCheck swallows thrown errors; make each one a recorded issue.
            #expect(throws: Never.self) {
                let millimetres = Measurement(ExactDecimal(digits, scale: scale), .millimetre)
                let inches = try millimetres.converted(to: .inch, scale: scale + 2)
                #expect(try inches.converted(to: .millimetre, scale: scale) == millimetres)
            }
        }
    }

    @Test("any torque unit → N·m with six guard digits → back recovers the reading")
    func torqueRoundTrip() async {
        let torqueUnits = MeasurementUnit.allCases.filter { $0.quantity == .torque }
        await propertyCheck(
            count: 300,
            input: Gen.element(of: torqueUnits), Gen.int64(in: -9_999_999...9_999_999), Gen.int(in: 0...4)
        ) { unit, digits, scale in
            // propertyCheck swallows thrown errors; make each one a recorded issue.
            #expect(throws: Never.self) {
                let unit = try #require(unit)
                let original = Measurement(ExactDecimal(digits, scale: scale), unit)
                let newtonMetres = try original.converted(to: .newtonMetre, scale: scale + 6)
                #expect(try newtonMetres.converted(to: unit, scale: scale) == original)
            }
        }
    }
}
