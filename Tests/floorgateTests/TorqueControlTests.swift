import DeviceIO
import FloorgateCore
import Foundation
import RecordProtocol
import Testing

/// The station closing the loop on a commanded controller: the record in this process on a real
/// socket, the gateway and the strict controller simulator their own processes over loopback TCP,
/// the operator's trigger and the controller's panel written to the simulator's standard input.
@Suite("Torque control through a running gateway", .timeLimit(.minutes(5)))
struct TorqueControlTests {
    /// Two screws on program `pset` (1.10–1.30 N·m), then a caliper check; users for every role.
    static func importing(pset: String) -> JSONValue {
        [
            "users": [
                ["login": "olga", "name": "Olga Operator", "roles": ["operator"], "password": "bench-olga-1"],
                ["login": "ada", "name": "Ada Approver", "roles": ["approver"], "password": "bench-ada-1"],
                ["login": "eric", "name": "Eric Engineer", "roles": ["engineer"], "password": "bench-eric-1"],
                ["login": "quinn", "name": "Quinn Quality", "roles": ["quality"], "password": "bench-quinn-1"],
            ],
            "parts": [["number": "P-9", "revision": "A", "description": "torque part"]],
            "instructions": [["part": "P-9", "part_revision": "A", "operation": "010", "revision": "A", "title": "Cover", "steps": steps(pset: pset)]],
            "work_orders": [["number": "WO-9", "part": "P-9", "part_revision": "A", "quantity": 2, "operations": ["010"], "serials": ["SN-0001", "SN-0002"]]],
        ]
    }

    static func steps(pset: String, lower: String = "1.10") -> JSONValue {
        [
            ["key": "10", "title": "Torque cover screws", "points": [[
                "name": "screws", "kind": "torque", "unit": "N.m", "lower": .string(lower), "upper": "1.30", "count": 2, "pset": .string(pset),
                "device_profile": "atlas-copco-pf6000",
            ]]],
            ["key": "20", "title": "Check", "points": [["name": "length", "kind": "measure", "unit": "mm", "lower": "0", "upper": "100"]]],
        ]
    }

    /// The record, the controller and the gateway, with SN-0001's build open.
    struct Station {
        let scratch: ScratchDirectory
        let record: EnduranceRecord
        let controller: SimulatorChild
        let gateway: FloorgateChild
        let build: JSONValue
        /// The scanner's and caliper's terminals, open while the gateway runs.
        let terminals: [PseudoTerminal]

        var client: RecordClient { record.client }

        static func start(pset: String = "3", controllerArguments: [String] = []) async throws -> Station {
            let scratch = try ScratchDirectory()
            let record = try await EnduranceRecord.serve(in: scratch, importing: TorqueControlTests.importing(pset: pset), part: "P-9")
            let client = record.client
            let programs = scratch.path("programs.txt")
            try "3 1.15 1.30 1.22 30 90 60 cover screws\n4 2.00 2.40 2.20 30 90 60\n".write(toFile: programs, atomically: true, encoding: .utf8)
            let controller = try await SimulatorChild.start(["--programs", programs, "--triggered", "--rate", "0"] + controllerArguments, input: true)
            let scanner = try PseudoTerminal(), caliper = try PseudoTerminal()
            try writeTestStation(
                to: scratch.path("station.toml"), station: "bench-5", recordSocket: "record.sock", outbox: "outbox.sqlite",
                scanner: scanner.path, caliper: caliper.path,
                more: "[[device]]\nname = \"nutrunner\"\nprofile = \"atlas-copco-pf6000\"\nhost = \"127.0.0.1\"\nport = \(controller.port)")
            let gateway = try FloorgateChild(["gateway", "--config", scratch.path("station.toml"), "--quiet"])
            try scanner.send(Array("SN-0001\r".utf8))
            var build: JSONValue = .null
            try await TorqueControlTests.poll("the build to open", gateway) {
                build = (try? await client.call("build.get", ["serial": "SN-0001"])) ?? .null
                return build["status"] == "open"
            }
            return Station(scratch: scratch, record: record, controller: controller, gateway: gateway, build: build, terminals: [scanner, caliper])
        }

        /// The nutrunner's tool state as `floorgate status` gives it.
        func tool() async throws -> String {
            let status = try await FloorgateProcess.run(["status", "--socket", scratch.path("gateway.sock"), "--json"]).standardOutput
            return (try? JSONValue(parsing: Array(status.utf8)))?["devices"]?.arrayValue?.first { $0["name"] == "nutrunner" }?["tool"]?.stringValue ?? ""
        }

        /// Waits for the tool's state to say `words` (`ready: program 3, 0 of 2`; `batch done`,
        /// which the lock the record's view then orders also says).
        func waitForTool(_ words: String) async throws {
            try await TorqueControlTests.poll("the tool to say '\(words)'", gateway) { try await tool().contains(words) }
        }

        /// Waits until the controller has enabled its tool `times` times (its own log says so).
        func waitForControllerToEnable(times: Int) async throws {
            try await TorqueControlTests.poll("the controller to enable the tool \(times) times", gateway) {
                controller.child.standardError.components(separatedBy: "tool enabled").count > times
            }
        }

        /// The build's results on the torque point, as the DHR lists them.
        func tightenings() async throws -> [JSONValue] {
            let dhr = try await client.call("dhr.export", ["serial": "SN-0001"])
            return (dhr["builds"]?.arrayValue?.first?["results"]?.arrayValue ?? []).filter { $0["point"] == "screws" }
        }

        func waitForTightenings(_ count: Int) async throws {
            try await TorqueControlTests.poll("\(count) tightenings in the record", gateway) { try await tightenings().count >= count }
        }

        func stop() async throws {
            gateway.kill(SIGTERM)
            _ = await gateway.wait(timeout: .seconds(15))
            controller.child.kill(SIGTERM)
            _ = await controller.child.wait(timeout: .seconds(5))
            try await record.stop()
            scratch.remove()
        }
    }

    @Test("program selected and checked, batch set, serial downloaded, enabled; each tightening carries them; the batch done locks the tool")
    func closedLoop() async throws {
        let station = try await Station.start()
        try await station.waitForTool("ready: program 3, 0 of 2")
        station.controller.child.send("trigger")
        try await station.waitForTool("ready: program 3, 1 of 2")
        station.controller.child.send("trigger")
        try await station.waitForTool("batch done")
        try await station.waitForTightenings(2)
        let recorded = try await station.tightenings()
        #expect(recorded.map { $0["verdict"] } == ["pass", "pass"])
        #expect(recorded.map { $0["tightening"]?["pset"] } == ["003", "003"])
        #expect(recorded.map { $0["tightening"]?["identifier"] } == ["SN-0001", "SN-0001"])
        #expect(recorded.map { $0["tightening"]?["batch_counter"] } == [1, 2])
        #expect(recorded.first?["tightening"]?["tool"]?["serial"] == "SIM-TOOL-0001")
        // Locked: a pull of the trigger makes nothing.
        station.controller.child.send("trigger")
        try await Task.sleep(for: .seconds(1))
        #expect(try await station.tightenings().count == 2)
        try await station.stop()
    }

    @Test("a program the controller refuses keeps the tool locked with the controller's error in words; nothing is recorded")
    func refusedProgram() async throws {
        let station = try await Station.start(pset: "7")
        try await station.waitForTool("locked: the controller refused the program selection (MID 0018): error 02 parameter set ID not present")
        station.controller.child.send("trigger")
        try await Task.sleep(for: .seconds(1))
        #expect(try await station.tightenings().isEmpty)
        try await station.stop()
    }

    @Test("a program changed at the panel locks the tool and the step's program is selected again; a tightening of another program is invalid with an NC and locks the tool")
    func panelAndWrongProgram() async throws {
        let station = try await Station.start()
        try await station.waitForTool("ready: program 3")
        station.controller.child.send("panel 4")
        try await GatewayCalibrationTests.poll("the gateway to see the panel's change", station.gateway) {
            station.gateway.standardError.contains("program 4 was selected at the controller, not by Floorgate")
        }
        try await station.waitForControllerToEnable(times: 2)
        try await station.waitForTool("ready: program 3, 0 of 2")

        station.controller.child.send("wrong-program 4")
        station.controller.child.send("trigger")
        try await station.waitForTightenings(1)
        let invalid = try #require(try await station.tightenings().first)
        #expect(invalid["verdict"] == "invalid" && invalid["tightening"]?["pset"] == "004")
        #expect(invalid["reason"]?.stringValue?.contains("program 004") == true)
        let build = try await station.client.call("build.get", ["serial": "SN-0001"])
        let nc = try #require(build["open_ncs"]?.arrayValue?.first?["nc_id"])
        try await station.waitForTool("locked: nonconformance \(nc.text)")

        // Dispositioned, the step's program runs again for the places still open.
        _ = try await station.client.call("nc.disposition", keyed([
            "nc_id": nc, "disposition": "rework", "comment": "wrong program at the controller; tighten again",
            "signature": ["user": "quinn", "password": "bench-quinn-1"],
        ]))
        try await station.waitForTool("ready: program 3, 0 of 2")
        try await station.stop()
    }

    @Test("the link dropped mid-batch: the batch resumes with the places still open, no result lost or doubled")
    func linkDroppedMidBatch() async throws {
        let station = try await Station.start(controllerArguments: ["--drop-link-after", "1"])
        try await station.waitForTool("ready: program 3, 0 of 2")
        station.controller.child.send("trigger")
        try await station.waitForTightenings(1)
        // The controller drops the link after the first result; the gateway reconnects, locks,
        // and runs the step's program again for the one place still open.
        try await station.waitForControllerToEnable(times: 2)
        try await station.waitForTool("ready: program 3, 1 of 2")
        #expect(station.gateway.standardError.components(separatedBy: "subscribed to tightening results").count > 2, "the session was started again")
        station.controller.child.send("trigger")
        try await station.waitForTightenings(2)
        try await station.waitForTool("batch done")
        let recorded = try await station.tightenings()
        #expect(recorded.map { $0["tightening"]?["tightening_id"] } == ["0000000001", "0000000002"])
        #expect(recorded.map { $0["verdict"] } == ["pass", "pass"])
        try await station.stop()
    }

    @Test("a redline mid-batch locks the tool until the operator acknowledges it; then the point runs again under the new revision")
    func redlineMidBatch() async throws {
        let station = try await Station.start()
        try await station.waitForTool("ready: program 3, 0 of 2")
        station.controller.child.send("trigger")
        try await station.waitForTightenings(1)
        _ = try await station.client.call("redline.publish", keyed([
            "part": "P-9", "part_revision": "A", "operation": "010", "new_revision": "B", "reason": "ECO-9: more clamp load",
            "steps": Self.steps(pset: "3", lower: "1.15"), "signature": ["user": "eric", "password": "bench-eric-1"],
        ]))
        let redline = try await station.client.call("instruction.approve", keyed([
            "part": "P-9", "part_revision": "A", "operation": "010", "revision": "B", "signature": ["user": "ada", "password": "bench-ada-1"],
        ]))
        try await station.waitForTool("locked: redline to revision B waits for acknowledgement")
        station.controller.child.send("trigger")
        try await Task.sleep(for: .seconds(1))
        #expect(try await station.tightenings().count == 1, "nothing tightened while locked")
        _ = try await station.client.call("redline.acknowledge", keyed([
            "build_id": station.build["build_id"] ?? .null, "redline_id": redline["redline_id"] ?? .null,
            "signature": ["user": "olga", "password": "bench-olga-1"],
        ]))
        // Revision B measures the point again: both places are open.
        try await station.waitForTool("ready: program 3, 0 of 2")
        try await station.stop()
    }

    static func poll(_ what: String, _ gateway: FloorgateChild, _ condition: () async throws -> Bool) async throws {
        try await GatewayCalibrationTests.poll(what, gateway, condition)
    }
}
