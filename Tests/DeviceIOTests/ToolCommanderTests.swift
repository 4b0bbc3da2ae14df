@testable import DeviceIO
import DeviceProtocols
import FloorgateCore
import Testing

/// The tool's state machine, fed what a controller says, checked on the frames it answers with.
@Suite("Commanding a tool", .timeLimit(.minutes(1)))
struct ToolCommanderTests {
    static let coverScrews = ToolProgram(
        point: "build 1 step 30 'cover screws'", program: 3, job: nil, remaining: 2, total: 2, identifier: "SN-0001",
        torqueMinimum: decimal("1.10"), torqueMaximum: decimal("1.30"), angleMinimum: nil, angleMaximum: nil)

    static func decimal(_ text: String) -> ExactDecimal { (try? ExactDecimal(parsing: text)) ?? ExactDecimal(0, scale: 0) }

    /// Program 3 as a controller reports it (MID 0015 revision 2).
    static func program3(minimum: String = "1.15", maximum: String = "1.30", target: String = "1.22") -> ProgramSelection {
        ProgramSelection(id: 3, batchSize: 2, torqueMinimum: decimal(minimum), torqueMaximum: decimal(maximum), torqueTarget: decimal(target),
                         angleMinimum: decimal("30"), angleMaximum: decimal("90"), angleTarget: decimal("60"))
    }

    /// The MIDs of `frames`, in order.
    static func mids(_ frames: [[UInt8]]) -> [Int] {
        frames.map { frame in Int(String(decoding: frame[4..<8], as: UTF8.self)) ?? -1 }
    }

    /// A session up and the order given, up to the MID 0018 (the subscription's 0015 answered).
    static func started(_ order: ToolOrder) -> (ToolCommander, ToolOrders) {
        let orders = ToolOrders()
        orders.set(order)
        var commander = ToolCommander()
        _ = commander.follow(orders)
        _ = commander.sessionStarted(selectionRevision: 2)
        _ = commander.programSelected(ProgramSelection(id: 0))
        return (commander, orders)
    }

    static func result(program: String = "003", counter: Int64, status: TighteningResult.BatchStatus, ok: Bool = true) -> TighteningResult {
        var result = TighteningResult()
        result.parameterSet = program
        result.batchCounter = ExactDecimal(counter, scale: 0)
        result.batchStatus = status
        result.status = ok ? .ok : .nok
        return result
    }

    @Test("run: disable, select, check the MID 0015, batch size, reset, identifier, enable; each waits for its MID 0005; the batch's end locks")
    func sequence() throws {
        let orders = ToolOrders()
        orders.set(.run(Self.coverScrews))
        var commander = ToolCommander()
        _ = commander.follow(orders)
        let opening = commander.sessionStarted(selectionRevision: 2)
        #expect(Self.mids(opening) == [14, 420, 42])
        #expect(commander.state == .preparing(program: 3))
        // The subscription's answer (the program selected before) is no change at the panel.
        #expect(Self.mids(commander.programSelected(ProgramSelection(id: 7))) == [16])
        #expect(Self.mids(commander.accepted(42)) == [18])
        #expect(commander.accepted(18).isEmpty, "waits for the controller's MID 0015")
        let afterCheck = commander.programSelected(Self.program3())
        #expect(Self.mids(afterCheck) == [16, 19])
        #expect(afterCheck[1] == OpenProtocolEncoder.setBatchSize(program: 3, size: 2, revision: 1))
        #expect(Self.mids(commander.accepted(19)) == [20])
        let download = commander.accepted(20)
        #expect(download == [OpenProtocolEncoder.identifierDownload("SN-0001")])
        #expect(Self.mids(commander.accepted(50)) == [43])
        #expect(commander.accepted(43).isEmpty)
        #expect(commander.state == .ready(program: 3, done: 0, total: 2))

        #expect(commander.tightened(Self.result(counter: 0, status: .running, ok: false)).isEmpty, "a NOK the operator tightens again")
        #expect(commander.state == .ready(program: 3, done: 0, total: 2))
        #expect(commander.tightened(Self.result(counter: 1, status: .running)).isEmpty)
        #expect(commander.state == .ready(program: 3, done: 1, total: 2))
        #expect(Self.mids(commander.tightened(Self.result(counter: 2, status: .ok))) == [42])
        #expect(commander.state == .batchDone(program: 3, total: 2))
        // The station's next view of the same point (one place less) is progress, not a new order.
        var progressed = Self.coverScrews
        progressed.remaining = 1
        orders.set(.run(progressed))
        #expect(commander.follow(orders).isEmpty)
        _ = commander.accepted(42)
        // The record still takes one (it judged a tightening the controller counted): once its view
        // has had time to catch up, the batch is commanded again for what the record still takes.
        #expect(commander.follow(orders).isEmpty, "the record's view may lag the controller's batch")
        #expect(Self.mids(commander.follow(orders, now: .now + ToolCommander.batchViewLag + .milliseconds(10))) == [42])
        #expect(commander.state == .preparing(program: 3))
    }

    @Test("a program outside the point's limits, another program, or a refusal keeps the tool locked, saying why")
    func refusals() throws {
        var (commander, _) = Self.started(.run(Self.coverScrews))
        _ = commander.accepted(42)
        _ = commander.accepted(18)
        #expect(Self.mids(commander.programSelected(Self.program3(maximum: "1.45"))) == [16, 42])
        #expect(commander.state == .locked(reason: "program 3 does not fit the step: its torque maximum 1.45 is above the step's 1.30"))

        (commander, _) = Self.started(.run(Self.coverScrews))
        _ = commander.accepted(42)
        #expect(Self.mids(commander.refused(18, code: 2)) == [42])
        #expect(commander.state == .locked(reason: "the controller refused the program selection (MID 0018): error 02 parameter set ID not present"))

        (commander, _) = Self.started(.run(Self.coverScrews))
        _ = commander.accepted(42)
        _ = commander.accepted(18)
        #expect(Self.mids(commander.programSelected(ProgramSelection(id: 5))) == [16, 42])
        #expect(commander.state == .locked(reason: "the controller selected program 5, not program 3"))

        // Refused for commands disabled: locked until the input clears, then the order runs again.
        (commander, _) = Self.started(.run(Self.coverScrews))
        _ = commander.accepted(42)
        _ = commander.refused(18, code: 92)
        #expect(commander.state == .locked(reason: "the controller's \"Open Protocol commands disabled\" input is on"))
        #expect(Self.mids(commander.commandsDisabled(false)) == [422, 42])
        #expect(commander.state == .preparing(program: 3))
    }

    @Test("ready, a program changed at the panel or a tightening of another program locks the tool; a new order clears it")
    func misbehaviour() throws {
        var (commander, orders) = Self.started(.run(Self.coverScrews))
        func enable() {
            _ = commander.accepted(42)
            _ = commander.accepted(18)
            _ = commander.programSelected(Self.program3())
            for mid in [19, 20, 50, 43] { _ = commander.accepted(mid) }
        }
        enable()
        #expect(commander.state == .ready(program: 3, done: 0, total: 2))
        #expect(Self.mids(commander.programSelected(ProgramSelection(id: 4))) == [16, 42])
        #expect(commander.state == .locked(reason: "program 4 was selected at the controller, not by Floorgate; selecting program 3 again"))
        // Once the lock is answered, the step's program is selected again and checked.
        #expect(Self.mids(commander.follow(orders)).isEmpty, "the lock is still in flight")
        _ = commander.accepted(42)
        #expect(Self.mids(commander.follow(orders)) == [42])
        #expect(commander.state == .preparing(program: 3))

        (commander, orders) = Self.started(.run(Self.coverScrews))
        enable()
        #expect(Self.mids(commander.tightened(Self.result(program: "004", counter: 1, status: .running))) == [42])
        #expect(commander.state == .locked(reason: "a tightening of program 4 came while program 3 was commanded"))
        #expect(Self.mids(commander.commandsDisabled(true)) == [422])

        // A redline: the station orders the lock; the tool is disabled at once.
        (commander, orders) = Self.started(.run(Self.coverScrews))
        enable()
        orders.set(.locked(reason: "redline to revision B waits for acknowledgement"))
        #expect(Self.mids(commander.follow(orders)) == [42])
        #expect(commander.state == .locked(reason: "redline to revision B waits for acknowledgement"))
        // A lost session: nothing in flight, locked until the next session locks and runs again.
        commander.sessionEnded("the controller closed the connection")
        #expect(commander.state == .locked(reason: "no session with the controller (the controller closed the connection)"))
        #expect(commander.inFlight == nil)
    }

    @Test("a serial longer than a controller's identifier keeps the tool locked")
    func longSerial() throws {
        var program = Self.coverScrews
        program.identifier = String(repeating: "S", count: 26)
        var (commander, _) = Self.started(.run(program))
        for mid in [42, 18] { _ = commander.accepted(mid) }
        _ = commander.programSelected(Self.program3())
        _ = commander.accepted(19)
        #expect(Self.mids(commander.accepted(20)) == [42])
        if case .locked(let reason) = commander.state {
            #expect(reason.contains("longer than the 25 characters"))
        } else {
            Issue.record("not locked: \(commander.state)")
        }
    }

    @Test("a tool number: disabled and enabled with MID 0042/0043 revision 2")
    func toolNumber() throws {
        let orders = ToolOrders()
        orders.set(.run(Self.coverScrews))
        var commander = ToolCommander(toolNumber: 2)
        _ = commander.follow(orders)
        let opening = commander.sessionStarted(selectionRevision: 2)
        #expect(opening.last == OpenProtocolEncoder.disableTool(toolNumber: 2))
        _ = commander.accepted(42)
        _ = commander.accepted(18)
        _ = commander.programSelected(Self.program3())
        for mid in [19, 20] { _ = commander.accepted(mid) }
        #expect(commander.accepted(50) == [OpenProtocolEncoder.enableTool(toolNumber: 2)])
    }

    @Test("a MID 0015 that comes before the 0005 of its selection is checked once the 0005 comes")
    func selectionBeforeAcceptance() throws {
        var (commander, _) = Self.started(.run(Self.coverScrews))
        #expect(Self.mids(commander.accepted(42)) == [18])
        #expect(Self.mids(commander.programSelected(Self.program3())) == [16], "kept until 0005")
        #expect(Self.mids(commander.accepted(18)) == [19], "checked and on to the batch size")

        (commander, _) = Self.started(.run(Self.coverScrews))
        _ = commander.accepted(42)
        _ = commander.programSelected(Self.program3(maximum: "1.45"))
        #expect(Self.mids(commander.accepted(18)) == [42])
        #expect(commander.state == .locked(reason: "program 3 does not fit the step: its torque maximum 1.45 is above the step's 1.30"))
    }
}
