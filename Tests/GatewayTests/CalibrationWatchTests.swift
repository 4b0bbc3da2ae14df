import FloorgateCore
import Gateway
import Testing

/// What the station tells the operator of each measuring device, from the register's answer.
@Suite("Calibration warnings at the station")
struct CalibrationWatchTests {
    static let watch = CalibrationWatch(
        devices: [
            .init(name: "caliper", serial: "CAL-0042"), .init(name: "tester", serial: "TST-1187"), .init(name: "micrometer", serial: "MIC-3"),
            .init(name: "indicator", serial: "IND-5"), .init(name: "spare", serial: "CAL-0099"), .init(name: "loaner", serial: nil),
            .init(name: "nutrunner", serial: "PF6-0042"),
        ],
        warningDays: 14)

    @Test("overdue, due soon, failed, withdrawn, unknown and serial-less devices are named in words; those in order are not")
    func warnings() {
        let list: JSONValue = ["devices": [
            ["asset": "CAL-0042", "status": "calibrated", "due_on": "2026-11-30", "days_until_due": -7],
            ["asset": "TST-1187", "status": "calibrated", "due_on": "2026-12-17", "days_until_due": 10],
            ["asset": "MIC-3", "status": "failed", "calibrated_on": "2026-12-01", "due_on": .null, "days_until_due": .null],
            ["asset": "IND-5", "status": "out-of-service", "due_on": .null, "days_until_due": .null],
            ["asset": "PF6-0042", "status": "calibrated", "due_on": "2027-12-01", "days_until_due": 359],
        ]]
        let said = Dictionary(Self.watch.warnings(from: list).map { ($0.device, $0.warning?.text) }, uniquingKeysWith: { $1 })
        let refusing = Set(Self.watch.warnings(from: list).filter { $0.warning?.refusesResults == true }.map(\.device))
        #expect(refusing == ["caliper", "micrometer", "indicator", "spare", "loaner"], "due soon warns; the rest refuse results")
        #expect(said["caliper"] == "caliper CAL-0042: calibration overdue since 2026-11-30")
        #expect(said["tester"] == "tester TST-1187: calibration due 2026-12-17 (in 10 days)")
        #expect(said["micrometer"] == "micrometer MIC-3: failed calibration on 2026-12-01, out of service")
        #expect(said["indicator"] == "indicator IND-5: out of service")
        #expect(said["spare"] == "spare CAL-0099: not in the calibration register: the record refuses its results")
        #expect(said["loaner"]??.hasPrefix("loaner: no serial in the station's configuration") == true)
        #expect(said["nutrunner"] == .some(nil))
    }

    @Test("a register without entries gates nothing and warns of nothing; the warning period is the station's")
    func emptyRegisterAndPeriod() {
        #expect(Self.watch.warnings(from: ["devices": []]).allSatisfy { $0.warning == nil })
        let dueIn: (Int64) -> JSONValue = { days in ["devices": [["asset": "CAL-0042", "status": "calibrated", "due_on": "2027-01-01", "days_until_due": .integer(days)]]] }
        let short = CalibrationWatch(devices: [.init(name: "caliper", serial: "CAL-0042")], warningDays: 3)
        #expect(short.warnings(from: dueIn(4)).first?.warning == nil)
        #expect(short.warnings(from: dueIn(3)).first?.warning?.text == "caliper CAL-0042: calibration due 2027-01-01 (in 3 days)")
        #expect(short.warnings(from: dueIn(0)).first?.warning?.text == "caliper CAL-0042: calibration due 2027-01-01 (today)")
    }
}
