import DeviceIO
import FloorgateCore
@testable import Gateway
import Testing

/// What a commanded tool is told, read from build views as the record gives them.
@Suite("A commanded tool's order follows the build", .timeLimit(.minutes(1)))
struct ToolOrderRuleTests {
    /// A build view at the torque step: two cover screws, program 3, `open` places still open.
    static func build(open: Int = 2, pset: String? = "3", redline: Bool = false, nc: Bool = false, profile: String? = "atlas-copco-pf6000") throws -> JSONValue {
        let point = """
            {"name":"cover screws","kind":"torque","device_kind":"torque","count":2,"open":\(open),"unit":"N.m","lower":"1.10","upper":"1.30"\
            \(pset.map { ",\"pset\":\"\($0)\"" } ?? "")\(profile.map { ",\"device_profile\":\"\($0)\"" } ?? "")}
            """
        let text = """
            {"build_id":7,"serial":"SN-0001","status":"open","instruction":{"revision":"A"},"active_step":{"key":"30","title":"Torque cover screws","points":[\(point)]},
             "pending_redline":\(redline ? "{\"to_revision\":\"B\"}" : "null"),
             "open_ncs":[\(nc ? "{\"nc_id\":4,\"step\":\"30\",\"point\":\"cover screws\"}" : "")]}
            """
        return try JSONValue(parsing: Array(text.utf8))
    }

    static func order(_ build: JSONValue?, unit: MeasurementUnit? = nil, reachable: Bool = true) -> ToolOrder {
        ToolOrderRule.order(build: build, profile: "atlas-copco-pf6000", unit: unit, recordReachable: reachable)
    }

    @Test("the active step's open torque point runs its program for its open places on the unit's serial")
    func runs() throws {
        guard case .run(let program) = Self.order(try Self.build(open: 1)) else { Issue.record("not run"); return }
        #expect(program.program == 3 && program.remaining == 1 && program.total == 2 && program.identifier == "SN-0001")
        #expect(program.point == "build 7 revision A step 30 'cover screws'")
        let lower = try ExactDecimal(parsing: "1.10"), upper = try ExactDecimal(parsing: "1.30")
        #expect(program.torqueMinimum == lower && program.torqueMaximum == upper)
        // A controller working in lbf·in is checked in lbf·in.
        guard case .run(let converted) = Self.order(try Self.build(), unit: .poundForceInch) else { Issue.record("not run"); return }
        let inPoundInches = try ExactDecimal(parsing: "11.5060")
        #expect(converted.torqueMaximum == inPoundInches)
    }

    @Test("locked, and why: no build, the record unreachable, a pending redline, an open NC, the batch done, no program, another tool's point")
    func locks() throws {
        #expect(Self.order(nil) == .locked(reason: "no build is open: scan the unit's serial"))
        #expect(Self.order(try Self.build(), reachable: false) == .locked(reason: "the record is unreachable"))
        #expect(Self.order(try Self.build(redline: true)) == .locked(reason: "redline to revision B waits for acknowledgement"))
        #expect(Self.order(try Self.build(nc: true)) == .locked(reason: "nonconformance 4 on 'cover screws' waits for quality's disposition"))
        #expect(Self.order(try Self.build(open: 0)) == .locked(reason: "batch done: step 30 has its tightenings"))
        #expect(Self.order(try Self.build(pset: nil))
            == .locked(reason: "point 'cover screws' names no program (pset): the tool runs only a program the step names"))
        #expect(Self.order(try Self.build(profile: "norbar-tst")) == .locked(reason: "step 30 expects no tightening from this tool"))
    }
}
