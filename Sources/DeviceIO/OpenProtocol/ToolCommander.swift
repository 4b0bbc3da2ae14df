import DeviceProtocols
public import FloorgateCore
import Synchronization

/// What the station wants of a commanded tool: locked (and why), or running a program for the
/// active step's torque point.
public enum ToolOrder: Sendable, Hashable {
    case locked(reason: String)
    case run(ToolProgram)
}

/// A program to run for one torque point of one build: the controller's program (or job), the
/// batch (the point's places still open), the unit's serial as the identifier, and the point's
/// limits in the controller's torque unit, against which the selected program is checked.
public struct ToolProgram: Sendable, Hashable {
    /// Names the point of the build (`build 7 step 30 'cover screws'`): while it stays the same,
    /// a changed `remaining` is progress, not a new order.
    public var point: String
    public var program: Int
    public var job: Int?
    /// The point's places still open when the order was made: the batch size commanded.
    public var remaining: Int
    /// The point's count, and how many of its places were filled before this batch.
    public var total: Int
    public var identifier: String
    public var torqueMinimum: ExactDecimal?
    public var torqueMaximum: ExactDecimal?
    public var angleMinimum: ExactDecimal?
    public var angleMaximum: ExactDecimal?

    public init(
        point: String, program: Int, job: Int?, remaining: Int, total: Int, identifier: String,
        torqueMinimum: ExactDecimal?, torqueMaximum: ExactDecimal?, angleMinimum: ExactDecimal?, angleMaximum: ExactDecimal?
    ) {
        self.point = point
        self.program = program
        self.job = job
        self.remaining = remaining
        self.total = total
        self.identifier = identifier
        self.torqueMinimum = torqueMinimum
        self.torqueMaximum = torqueMaximum
        self.angleMinimum = angleMinimum
        self.angleMaximum = angleMaximum
    }

    /// Whether `selection` (a MID 0015 revision 2) fits the point: its torque limits and target
    /// within the point's, and likewise the angle. Nil when it fits, else why not.
    func mismatch(_ selection: ProgramSelection) -> String? {
        func within(_ value: ExactDecimal?, _ name: String, _ lower: ExactDecimal?, _ upper: ExactDecimal?, unit: String) -> String? {
            guard let value else { return nil }
            if let lower, value.valueOrder(comparedTo: lower) == .less { return "its \(name) \(value)\(unit) is below the step's \(lower)\(unit)" }
            if let upper, value.valueOrder(comparedTo: upper) == .greater { return "its \(name) \(value)\(unit) is above the step's \(upper)\(unit)" }
            return nil
        }
        let checks = [
            within(selection.torqueMinimum, "torque minimum", torqueMinimum, torqueMaximum, unit: ""),
            within(selection.torqueMaximum, "torque maximum", torqueMinimum, torqueMaximum, unit: ""),
            within(selection.torqueTarget, "torque target", torqueMinimum, torqueMaximum, unit: ""),
            angleMinimum == nil && angleMaximum == nil ? nil : within(selection.angleMinimum, "angle minimum", angleMinimum, angleMaximum, unit: "°"),
            angleMinimum == nil && angleMaximum == nil ? nil : within(selection.angleMaximum, "angle maximum", angleMinimum, angleMaximum, unit: "°"),
        ]
        return checks.compactMap { $0 }.first.map { "program \(selection.id) does not fit the step: \($0)" }
    }
}

/// The tool as the operator sees it.
public enum ToolState: Sendable, Hashable, CustomStringConvertible {
    case locked(reason: String)
    /// Commands are on their way (select, check, batch, identifier, enable).
    case preparing(program: Int)
    /// Enabled: `done` of `total` places of the point are filled.
    case ready(program: Int, done: Int, total: Int)
    case batchDone(program: Int, total: Int)

    public var description: String {
        switch self {
        case .locked(let reason): "locked: \(reason)"
        case .preparing(let program): "preparing program \(program)"
        case .ready(let program, let done, let total): "ready: program \(program), \(done) of \(total)"
        case .batchDone(let program, let total): "batch done: program \(program), \(total) of \(total)"
        }
    }
}

/// The order the station last gave a commanded tool, read by its Open Protocol session.
public final class ToolOrders: Sendable {
    private let state = Mutex<(version: Int, order: ToolOrder)>((0, .locked(reason: "no torque step is active")))

    public init() {}

    /// Gives a new order; the same order again changes nothing.
    public func set(_ order: ToolOrder) {
        state.withLock { current in
            guard current.order != order else { return }
            current = (current.version + 1, order)
        }
    }

    var current: (version: Int, order: ToolOrder) { state.withLock { $0 } }
}

/// The controller commands of one Open Protocol session, as a state machine without I/O: it
/// takes the station's order and what the controller says, and answers with the frames to send
/// and the tool's state.
///
/// The tool is disabled (MID 0042) whenever the order is `locked`, the link has just come up,
/// the controller refuses a command (MID 0004), its "commands disabled" input is on (MID 0421),
/// a program was selected that Floorgate did not select (MID 0015), a result reports another
/// program, or the batch is done. To run a program it selects it (MID 0018, or the job, MID
/// 0038), checks the controller's MID 0015 against the point, sets the batch size (MID 0019)
/// and resets the counter (MID 0020), downloads the unit's serial (MID 0050), and only then
/// enables the tool (MID 0043). Requests go one at a time: each waits for its MID 0005.
struct ToolCommander {
    /// One request of the sequence, or the wait for the controller's MID 0015.
    enum Step: Equatable {
        case disable, select(Int), selectJob(Int), awaitSelection(Int), batchSize(program: Int, size: Int), resetCounter(Int)
        case identifier(String), enable
    }

    private(set) var state: ToolState = .locked(reason: "the session with the controller is starting")
    private var order: ToolOrder = .locked(reason: "no torque step is active")
    private var orderVersion = -1
    private var linkUp = false
    private var commandsDisabled = false
    /// Why the tool is held locked regardless of the order, until the order changes.
    private var fault: String?
    private var steps: [Step] = []
    /// The MID whose MID 0005 / 0004 is awaited.
    private(set) var inFlight: Int?
    /// Whether a MID 0015 is expected (after subscribing or selecting): one that comes
    /// otherwise is a program changed at the controller.
    private var selectionExpected = false
    /// A MID 0015 that came before the MID 0005 of the selection it reports: checked once that
    /// 0005 has come.
    private var earlySelection: ProgramSelection?
    private var batchCounter = 0
    /// The program the current sequence commanded, with the batch it set.
    private var running: ToolProgram?
    /// When the controller's batch ended: if the record still takes tightenings for the same
    /// point a while later (it judged one the controller counted), the batch is commanded again.
    private var batchDoneAt: ContinuousClock.Instant?
    /// How long the record's view may lag behind the controller's batch before it is believed.
    static let batchViewLag: Duration = .seconds(2)
    /// A program was changed at the controller: the tool is locked now and the step's program
    /// selected again (and checked) at the next `follow`.
    private var reassert = false
    let batchSizeRevision: Int
    let jobRevision: Int
    /// The tool's number at a controller with several tools: MID 0042/0043 go in revision 2 with it.
    let toolNumber: Int?

    init(batchSizeRevision: Int = 1, jobRevision: Int = 2, toolNumber: Int? = nil) {
        self.batchSizeRevision = batchSizeRevision
        self.jobRevision = jobRevision
        self.toolNumber = toolNumber
    }

    /// The session is up (results subscribed): lock, subscribe to program selections (asking
    /// for MID 0015 `selectionRevision`) and to the commands-disabled input, then follow the order.
    mutating func sessionStarted(selectionRevision: Int) -> [[UInt8]] {
        linkUp = true
        fault = nil
        commandsDisabled = false
        steps = []
        inFlight = nil
        selectionExpected = true
        return [OpenProtocolEncoder.subscribeProgramSelection(revision: selectionRevision), OpenProtocolEncoder.subscribeCommandsDisabled()]
            + restart()
    }

    /// The session ended: nothing is in flight and the tool's state is unknown until it is
    /// locked again.
    mutating func sessionEnded(_ reason: String) {
        linkUp = false
        reassert = false
        steps = []
        inFlight = nil
        state = .locked(reason: "no session with the controller (\(reason))")
    }

    /// Takes the station's latest order; returns what to send.
    mutating func follow(_ orders: ToolOrders, now: ContinuousClock.Instant = .now) -> [[UInt8]] {
        let (version, latest) = orders.current
        if case .batchDone = state, let doneAt = batchDoneAt, now - doneAt >= Self.batchViewLag, inFlight == nil,
           case .run(let program) = latest, program.point == running?.point, program.remaining > 0 {
            batchDoneAt = nil
            order = latest
            orderVersion = version
            return restart()
        }
        if reassert, inFlight == nil, linkUp, version == orderVersion {
            reassert = false
            fault = nil
            return restart()
        }
        guard version != orderVersion else { return [] }
        orderVersion = version
        reassert = false
        let previous = order
        order = latest
        // Progress on the same point (a place filled) is no new order.
        if case .run(let old) = previous, case .run(let new) = latest, old.point == new.point, old.program == new.program, fault == nil {
            return []
        }
        fault = nil
        return linkUp ? restart() : []
    }

    /// Locks, then runs the order's sequence (or stays locked).
    private mutating func restart() -> [[UInt8]] {
        batchCounter = 0
        batchDoneAt = nil
        running = nil
        earlySelection = nil
        steps = [.disable]
        if let reason = lockReason {
            state = .locked(reason: reason)
        } else if case .run(let program) = order {
            running = program
            state = .preparing(program: program.program)
            steps += [program.job.map(Step.selectJob) ?? .select(program.program), .awaitSelection(program.program),
                      .batchSize(program: program.program, size: program.remaining), .resetCounter(program.program),
                      .identifier(program.identifier), .enable]
        }
        inFlight = nil
        return next()
    }

    /// Why the tool stays locked now, if it does.
    private var lockReason: String? {
        if commandsDisabled { return "the controller's \"Open Protocol commands disabled\" input is on" }
        if let fault { return fault }
        if case .locked(let reason) = order { return reason }
        return nil
    }

    /// Sends the next request once the one in flight is answered.
    private mutating func next() -> [[UInt8]] {
        guard inFlight == nil, let step = steps.first else { return [] }
        switch step {
        case .awaitSelection(let program):
            if let early = earlySelection {
                earlySelection = nil
                return check(early, against: program)
            }
            selectionExpected = true
            return []
        case .disable:
            inFlight = 42
            return [OpenProtocolEncoder.disableTool(toolNumber: toolNumber)]
        case .select(let program):
            inFlight = 18
            selectionExpected = true
            return [OpenProtocolEncoder.selectProgram(program)]
        case .selectJob(let job):
            inFlight = 38
            selectionExpected = true
            return [OpenProtocolEncoder.selectJob(job, revision: jobRevision)]
        case .batchSize(let program, let size):
            inFlight = 19
            return [OpenProtocolEncoder.setBatchSize(program: program, size: size, revision: batchSizeRevision)]
        case .resetCounter(let program):
            inFlight = 20
            return [OpenProtocolEncoder.resetBatchCounter(program: program)]
        case .identifier(let identifier):
            guard identifier.utf8.count <= 25 else {
                return lock(because: "serial '\(identifier)' is longer than the 25 characters a controller's identifier holds")
            }
            inFlight = 50
            return [OpenProtocolEncoder.identifierDownload(identifier)]
        case .enable:
            inFlight = 43
            return [OpenProtocolEncoder.enableTool(toolNumber: toolNumber)]
        }
    }

    /// The controller accepted request `mid`.
    mutating func accepted(_ mid: Int) -> [[UInt8]] {
        guard mid == inFlight, !steps.isEmpty else { return [] }
        inFlight = nil
        let done = steps.removeFirst()
        if done == .enable, let program = running {
            state = .ready(program: program.program, done: program.total - program.remaining, total: program.total)
        }
        return next()
    }

    /// The controller refused request `mid` with `code`.
    mutating func refused(_ mid: Int, code: Int) -> [[UInt8]] {
        guard mid == inFlight else { return [] }
        inFlight = nil
        let what = "the controller refused \(Self.commandName(mid)) (MID \(Self.padded(mid, 4))): error \(Self.padded(code, 2)) \(OpenProtocolErrors.meaning(code))"
        if mid == 42 {
            // The lock itself was refused: say so; nothing else is sent.
            steps = []
            state = .locked(reason: "\(what); the tool may still run")
            return []
        }
        if code == 92 {
            // Every command would be refused alike until the input clears (MID 0421).
            commandsDisabled = true
            steps = []
            state = .locked(reason: lockReason ?? what)
            return []
        }
        return lock(because: what)
    }

    /// A MID 0015: the program the controller selected. Returns what to send (its MID 0016
    /// acknowledgement first).
    mutating func programSelected(_ selection: ProgramSelection) -> [[UInt8]] {
        let acknowledgement = [OpenProtocolEncoder.acknowledgeProgramSelection()]
        guard selectionExpected else {
            // Not Floorgate's selection: someone changed the program at the controller.
            guard linkUp, case .run(let program) = order else { return acknowledgement }
            reassert = true
            return acknowledgement + lock(because: "program \(selection.id) was selected at the controller, not by Floorgate; selecting program \(program.program) again")
        }
        guard case .awaitSelection(let program)? = steps.first else {
            // The selection Floorgate asked for, reported before its 0005: kept, and checked once
            // the 0005 has come. Another program now is the answer to the subscription (the
            // program selected before): the selection's own report follows.
            switch steps.first {
            case .select(let wanted)? where selection.id == wanted: earlySelection = selection
            case .selectJob?: earlySelection = selection
            default: break
            }
            return acknowledgement
        }
        return acknowledgement + check(selection, against: program)
    }

    /// Checks the selection the controller reports against the program commanded and the point;
    /// goes on with the sequence when it fits, else locks.
    private mutating func check(_ selection: ProgramSelection, against program: Int) -> [[UInt8]] {
        selectionExpected = false
        guard selection.id == program || { if case .run(let order) = order { order.job != nil } else { false } }() else {
            return lock(because: "the controller selected program \(selection.id), not program \(program)")
        }
        if case .run(let order) = order, let mismatch = order.mismatch(selection) {
            return lock(because: mismatch)
        }
        steps.removeFirst()
        return next()
    }

    /// A MID 0421: the controller's "Open Protocol commands disabled" input changed.
    mutating func commandsDisabled(_ disabled: Bool) -> [[UInt8]] {
        let acknowledgement = [OpenProtocolEncoder.acknowledgeCommandsDisabled()]
        guard disabled != commandsDisabled else { return acknowledgement }
        commandsDisabled = disabled
        if disabled {
            steps = []
            inFlight = nil
            state = .locked(reason: lockReason ?? "commands disabled")
            return acknowledgement
        }
        return acknowledgement + (linkUp ? restart() : [])
    }

    /// A tightening result: checked against the program commanded; the batch's end locks the tool.
    mutating func tightened(_ result: TighteningResult) -> [[UInt8]] {
        guard let program = running, case .ready = state else { return [] }
        if let pset = result.parameterSet, let ran = Int(pset), ran != program.program {
            return lock(because: "a tightening of program \(ran) came while program \(program.program) was commanded")
        }
        if let counter = result.batchCounter.flatMap({ Int($0.description) }) { batchCounter = counter }
        if result.batchStatus == .nok {
            return lock(because: "the controller ended the batch NOK")
        }
        let done = program.total - program.remaining + batchCounter
        if result.batchStatus == .ok || batchCounter >= program.remaining {
            steps = [.disable]
            let sent = next()
            state = .batchDone(program: program.program, total: program.total)
            batchDoneAt = .now
            return sent
        }
        state = .ready(program: program.program, done: done, total: program.total)
        return []
    }

    /// Locks the tool and holds it locked with `reason` until the order changes.
    private mutating func lock(because reason: String) -> [[UInt8]] {
        fault = reason
        state = .locked(reason: reason)
        steps = [.disable]
        // A request still awaiting its answer has it ignored: the lock goes out now.
        inFlight = nil
        return next()
    }

    private static func padded(_ number: Int, _ width: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    static func commandName(_ mid: Int) -> String {
        switch mid {
        case 18: "the program selection"
        case 19: "the batch size"
        case 20: "the batch counter reset"
        case 38: "the job selection"
        case 42: "disabling the tool"
        case 43: "enabling the tool"
        case 50: "the identifier download"
        default: "request"
        }
    }
}
