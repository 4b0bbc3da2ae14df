public import DeviceProtocols
public import FloorgateCore
public import Logging
import Foundation
import NIOCore
import Synchronization

/// A TCP server that behaves like an Open Protocol tightening controller, for technicians and
/// for tests: session start with revision negotiation, result subscription, a result on a timer
/// (or from a script), waiting for each MID 0062 before the next, sending an unacknowledged
/// result again after a reconnect, keep-alive mirroring and the 15 s link timeout, MID 0064 old
/// results, and optional faults (drop the link, garble a frame, stall).
///
/// With `programs`, it is a strict controller an integrator commands: the tool starts disabled
/// and tightens only when enabled (MID 0042/0043), with the program selected (MID 0018, reported
/// by MID 0015), the batch size and counter set (MID 0019/0020) and the identifier downloaded
/// (MID 0050); each result carries them. Commands are refused with MID 0004 and the codes a
/// controller uses (02 unknown program, 01 invalid data, 17 unknown job, 92 commands disabled).
/// The operator's panel (``Panel``) pulls the trigger, selects a program at the controller,
/// raises the commands-disabled input, or makes the next tightening run another program.
public struct OpenProtocolControllerSimulator: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        /// 0 picks a free port (reported through `onListening`).
        public var port = 4545
        /// The highest MID 0001 revision accepted; higher requests get MID 0004 error 97.
        public var maximumStartRevision = 7
        /// The highest MID 0061 revision sent (1–3 or 999); higher subscriptions get error 74.
        public var maximumResultRevision = 3
        /// Results to send in all (nil: no end).
        public var resultCount: Int?
        /// Time between an acknowledgement and the next result.
        public var interval: Duration = .seconds(1)
        /// Results to send instead of generated ones, in order.
        public var script: [ScriptedResult] = []
        public var linkTimeout: Duration = .seconds(15)
        /// Close the link after this many results were acknowledged on one connection (once).
        public var dropLinkAfter: Int?
        /// Send every n-th result torn (its first half) before sending it whole.
        public var garbleEvery: Int?
        /// After this many acknowledged results in all (across connections), ignore the link for
        /// `stallDuration` (once).
        public var stallAfter: Int?
        public var stallDuration: Duration = .seconds(20)
        /// Where the last acknowledged tightening id is kept across restarts (nil: memory only).
        public var stateFile: String?
        public var controllerName = "Floorgate simulator"
        /// When set, a result is sent only for a pull of its trigger (an operator running the
        /// tool), instead of on the timer alone; the panel's other actions come through it too.
        public var panel: Panel?
        /// The programs a strict controller holds (empty: the tool runs without commands,
        /// reporting program 001).
        public var programs: [Program] = []
        /// The tool's identity (MID 0041).
        public var tool = ToolIdentity(serial: "SIM-TOOL-0001", tightenings: nil, calibratedOn: "2026-10-01")

        public init() {}
    }

    /// A program (parameter set) of a strict controller, with its limits.
    public struct Program: Sendable, Hashable {
        public var selection: ProgramSelection

        /// Parses a line `ID TORQUE_MIN TORQUE_MAX TORQUE_TARGET ANGLE_MIN ANGLE_MAX ANGLE_TARGET [NAME]`
        /// (`3 1.20 1.30 1.25 30 90 60 cover screws`); `#` starts a comment.
        public init?(line: some StringProtocol) {
            let words = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0].split(whereSeparator: \.isWhitespace)
            guard words.count >= 7, let id = Int(words[0]), (1...999).contains(id) else { return nil }
            let numbers = words[1...6].compactMap { try? ExactDecimal(parsing: $0) }
            guard numbers.count == 6 else { return nil }
            selection = ProgramSelection(
                id: id, name: words.count > 7 ? words[7...].joined(separator: " ") : nil, torqueMinimum: numbers[0], torqueMaximum: numbers[1],
                torqueTarget: numbers[2], angleMinimum: numbers[3], angleMaximum: numbers[4], angleTarget: numbers[5])
        }
    }

    /// What the operator does at the tool and the controller, shared with whoever does it (the
    /// simulator's standard input).
    public final class Panel: Sendable {
        public enum Action: Sendable, Hashable {
            /// Pull the trigger: one tightening, if the tool is enabled.
            case trigger
            /// Select a program at the controller's panel (not through Open Protocol).
            case selectProgram(Int)
            /// Raise or clear the "Open Protocol commands disabled" digital input.
            case commandsDisabled(Bool)
            /// Run the next tightening with another program than the one selected.
            case wrongProgram(Int)

            /// Reads a panel line: `trigger` (or an empty line), `panel N`, `commands-disabled on|off`,
            /// `wrong-program N`.
            public init?(line: some StringProtocol) {
                let words = line.split(whereSeparator: \.isWhitespace)
                switch (words.first, words.count) {
                case (nil, _), ("trigger"?, 1): self = .trigger
                case ("panel"?, 2): guard let id = Int(words[1]) else { return nil }; self = .selectProgram(id)
                case ("wrong-program"?, 2): guard let id = Int(words[1]) else { return nil }; self = .wrongProgram(id)
                case ("commands-disabled"?, 2) where words[1] == "on" || words[1] == "off": self = .commandsDisabled(words[1] == "on")
                default: return nil
                }
            }
        }

        private let actions = Mutex<[Action]>([])

        public init() {}

        public func perform(_ action: Action) { actions.withLock { $0.append(action) } }

        /// One more tightening.
        public func pull() { perform(.trigger) }

        func take() -> [Action] { actions.withLock { taken in defer { taken = [] }; return taken } }
    }

    /// One result of a script: torque (N·m), angle (degrees) and the controller's verdict.
    public struct ScriptedResult: Sendable, Hashable {
        public var torque: ExactDecimal
        public var angle: ExactDecimal
        public var ok: Bool

        public init(torque: ExactDecimal, angle: ExactDecimal, ok: Bool) {
            self.torque = torque
            self.angle = angle
            self.ok = ok
        }

        /// Parses a script line `TORQUE ANGLE ok|nok` (`12.05 62 ok`); `#` starts a comment.
        public init?(line: some StringProtocol) {
            let words = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
                .split(whereSeparator: \.isWhitespace)
            guard words.count == 3,
                  let torque = try? ExactDecimal(parsing: words[0]),
                  let angle = try? ExactDecimal(parsing: words[1]),
                  words[2] == "ok" || words[2] == "nok"
            else { return nil }
            self.init(torque: torque, angle: angle, ok: words[2] == "ok")
        }
    }

    public let configuration: Configuration
    private let logger: Logger

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Serves clients one at a time until cancelled. `onListening` gets the bound port.
    public func run(onListening: @Sendable (Int) -> Void) async throws {
        let server = try await OpenProtocolChannels.listen(host: configuration.host, port: configuration.port)
        onListening(server.channel.localAddress?.port ?? configuration.port)
        var state = SimulatorState(stateFile: configuration.stateFile, strict: !configuration.programs.isEmpty)
        try await server.executeThenClose { connections in
            for try await connection in connections {
                let peer = connection.channel.remoteAddress.map { "\($0)" } ?? "?"
                logger.info("client connected", metadata: ["client": "\(peer)"])
                do {
                    try await serve(connection, state: &state)
                } catch {
                    logger.info("connection ended", metadata: ["client": "\(peer)", "reason": "\(error)"])
                }
            }
        }
    }

    private struct LinkClosed: Error, CustomStringConvertible {
        let description: String
    }

    private func serve(_ connection: OpenProtocolConnection, state: inout SimulatorState) async throws {
        try await connection.executeThenClose { inbound, outbound in
            try await withLinkInputs(from: inbound, tickingEvery: .milliseconds(20)) { inputs in
                var link = LinkState()
                for await input in inputs {
                    switch input {
                    case .closed:
                        throw LinkClosed(description: "client closed the link")
                    case .tick:
                        try await tick(&link, state: &state, outbound: outbound)
                    case .received(.skipped(let reason, let raw)):
                        link.lastHeard = .now
                        logger.warning("skipped bytes from client: \(reason.reason)", metadata: ["count": "\(raw.count)"])
                    case .received(.frame(let frame)):
                        if link.isStalled { continue }
                        link.lastHeard = .now
                        try await receive(frame, link: &link, state: &state, outbound: outbound)
                        try await sendNextResultIfDue(&link, state: &state, outbound: outbound)
                    }
                }
            }
        }
    }

    private struct LinkState {
        var lastHeard = ContinuousClock.now
        var started = false
        var subscribedRevision: Int?
        var noAcknowledge = false
        /// The MID 0015 revision the client subscribed to (nil: not subscribed).
        var selectionRevision: Int?
        var commandsDisabledSubscribed = false
        /// The tightening id sent and not yet acknowledged.
        var unacknowledged: UInt64?
        var nextSendTime = ContinuousClock.now
        var acknowledgedHere = 0
        var stalledUntil: ContinuousClock.Instant?

        var isStalled: Bool { stalledUntil.map { ContinuousClock.now < $0 } ?? false }
    }

    private func receive(
        _ frame: OpenProtocolFrame,
        link: inout LinkState,
        state: inout SimulatorState,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) async throws {
        func send(_ bytes: [UInt8]) async throws { try await outbound.write(ByteBuffer(bytes: bytes)) }
        func refuse(_ code: Int) async throws {
            logger.info("refusing MID \(frame.mid) with error \(code) (\(OpenProtocolErrors.meaning(code)))")
            try await send(OpenProtocolEncoder.commandError(mid: frame.mid, errorCode: code))
        }
        let message: OpenProtocolMessage
        do {
            message = try OpenProtocolMessage(frame)
        } catch {
            logger.warning("unreadable frame from client: \(error.reason)", metadata: ["mid": "\(frame.mid)"])
            try await refuse(1)
            return
        }
        // Commands that change the tool are refused while the controller's input disables them.
        let commands: Set<Int> = [18, 19, 20, 38, 42, 43, 50]
        if commands.contains(frame.mid), state.commandsDisabled {
            try await refuse(92)
            return
        }
        switch message {
        case .communicationStart:
            if frame.revision > configuration.maximumStartRevision {
                try await send(OpenProtocolEncoder.commandError(mid: 1, errorCode: 97))
            } else {
                link.started = true
                try await send(OpenProtocolEncoder.communicationStartAcknowledge(cellID: 1, channelID: 1, controllerName: configuration.controllerName))
            }
        case .communicationStop:
            throw LinkClosed(description: "communication stop")
        case .resultSubscribe(let noAcknowledge):
            // Revisions the encoder can send: 1–3 up to the maximum, or 999 when that is the maximum.
            let supported = (1...min(configuration.maximumResultRevision, 3)).contains(frame.revision)
                || (frame.revision == 999 && configuration.maximumResultRevision == 999)
            guard link.started, supported else {
                try await send(OpenProtocolEncoder.commandError(mid: 60, errorCode: link.started ? 74 : 79))
                return
            }
            link.subscribedRevision = frame.revision
            link.noAcknowledge = noAcknowledge
            link.nextSendTime = .now
            logger.info("client subscribed to results", metadata: ["revision": "\(frame.revision)"])
            try await send(OpenProtocolEncoder.commandAccepted(mid: 60))
        case .resultUnsubscribe:
            link.subscribedRevision = nil
            try await send(OpenProtocolEncoder.commandAccepted(mid: 63))
        case .resultAcknowledge:
            guard let id = link.unacknowledged else { return }
            acknowledge(id, link: &link, state: &state)
            if let drop = configuration.dropLinkAfter, link.acknowledgedHere == drop, !state.droppedLink {
                state.droppedLink = true
                throw LinkClosed(description: "fault: dropping the link after \(drop) results")
            }
            if let stall = configuration.stallAfter, state.acknowledged == stall, !state.stalled {
                state.stalled = true
                link.stalledUntil = .now + configuration.stallDuration
                logger.info("fault: stalling for \(configuration.stallDuration)")
            }
        case .oldResultRequest(let requested):
            if requested >= 1, requested <= state.lastAcknowledged,
               let old = OpenProtocolEncoder.tighteningResult(state.result(requested) ?? generated(requested), mid: 65, revision: min(3, link.subscribedRevision ?? 1)) {
                try await send(old)
            } else {
                try await send(OpenProtocolEncoder.commandError(mid: 64, errorCode: 15))
            }
        case .keepAlive:
            try await send(OpenProtocolEncoder.keepAlive())
        case .programSelectedSubscribe:
            guard link.selectionRevision == nil else { return try await refuse(13) }
            guard frame.revision <= 2 else { return try await refuse(74) }
            link.selectionRevision = frame.revision
            try await send(OpenProtocolEncoder.commandAccepted(mid: 14))
            try await send(OpenProtocolEncoder.programSelected(currentSelection(state), changedAt: Self.changedAt, revision: frame.revision))
        case .programSelectedAcknowledge, .commandsDisabledAcknowledge:
            break
        case .selectProgram(let id):
            guard state.strict else { return try await send(OpenProtocolEncoder.commandAccepted(mid: 18)) }
            guard configuration.programs.contains(where: { $0.selection.id == id }) else { return try await refuse(2) }
            state.select(id)
            logger.info("program \(id) selected by the integrator")
            try await send(OpenProtocolEncoder.commandAccepted(mid: 18))
            try await reportSelection(link, state, outbound)
        case .setBatchSize(let program, let size):
            guard state.strict else { return try await send(OpenProtocolEncoder.commandAccepted(mid: 19)) }
            guard program == state.program, size >= 1 else { return try await refuse(1) }
            state.batchSize = size
            try await send(OpenProtocolEncoder.commandAccepted(mid: 19))
        case .resetBatchCounter(let program):
            guard state.strict else { return try await send(OpenProtocolEncoder.commandAccepted(mid: 20)) }
            guard program == state.program else { return try await refuse(4) }
            state.batchCounter = 0
            try await send(OpenProtocolEncoder.commandAccepted(mid: 20))
        case .selectJob:
            try await refuse(17)  // the simulator holds no jobs
        case .toolDataRequest:
            var tool = configuration.tool
            tool.tightenings = Int64(state.lastAcknowledged)
            try await send(OpenProtocolEncoder.toolData(tool, controllerSerial: "SIM0000001"))
        case .disableTool:
            state.enabled = false
            logger.info("tool disabled")
            try await send(OpenProtocolEncoder.commandAccepted(mid: 42))
        case .enableTool:
            state.enabled = true
            logger.info("tool enabled", metadata: ["program": "\(state.program.map(String.init) ?? "none")", "batch": "\(state.batchCounter)/\(state.batchSize)"])
            try await send(OpenProtocolEncoder.commandAccepted(mid: 43))
        case .identifierDownload(let identifier):
            state.identifier = identifier
            try await send(OpenProtocolEncoder.commandAccepted(mid: 50))
        case .commandsDisabledSubscribe:
            guard !link.commandsDisabledSubscribed else { return try await refuse(93) }
            link.commandsDisabledSubscribed = true
            try await send(OpenProtocolEncoder.commandAccepted(mid: 420))
            try await send(OpenProtocolEncoder.commandsDisabled(state.commandsDisabled))
        case .communicationStartAcknowledge, .commandError, .commandAccepted, .lastTighteningResult, .oldTighteningResult,
             .alarm, .programSelected, .toolData, .commandsDisabled, .other:
            break  // controller messages an integrator does not send
        }
    }

    /// The program selected now, with its limits (id 0 while none is).
    private func currentSelection(_ state: SimulatorState) -> ProgramSelection {
        guard let id = state.program, var selection = configuration.programs.first(where: { $0.selection.id == id })?.selection else {
            return ProgramSelection(id: state.strict ? 0 : 1)
        }
        selection.batchSize = min(99, state.batchSize)
        return selection
    }

    private func reportSelection(_ link: LinkState, _ state: SimulatorState, _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws {
        guard let revision = link.selectionRevision else { return }
        try await outbound.write(ByteBuffer(bytes: OpenProtocolEncoder.programSelected(currentSelection(state), changedAt: Self.changedAt, revision: revision)))
    }

    private static let changedAt = "2026-01-01:00:00:00"

    private func acknowledge(_ id: UInt64, link: inout LinkState, state: inout SimulatorState) {
        link.unacknowledged = nil
        link.acknowledgedHere += 1
        state.markAcknowledged(id)
        link.nextSendTime = .now + configuration.interval
    }

    private func tick(
        _ link: inout LinkState,
        state: inout SimulatorState,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) async throws {
        if link.isStalled { return }
        if ContinuousClock.now - link.lastHeard > configuration.linkTimeout {
            throw LinkClosed(description: "nothing heard from the client for \(configuration.linkTimeout)")
        }
        for action in configuration.panel?.take() ?? [] {
            try await perform(action, link: link, state: &state, outbound: outbound)
        }
        try await sendNextResultIfDue(&link, state: &state, outbound: outbound)
    }

    /// What the operator did at the panel.
    private func perform(
        _ action: Panel.Action, link: LinkState, state: inout SimulatorState, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) async throws {
        switch action {
        case .trigger:
            guard !state.strict || state.enabled else {
                logger.info("trigger pulled while the tool is disabled: nothing happens")
                return
            }
            state.pulls += 1
        case .selectProgram(let id):
            logger.info("program \(id) selected at the controller's panel")
            state.select(id)
            try await reportSelection(link, state, outbound)
        case .commandsDisabled(let disabled):
            logger.info("Open Protocol commands \(disabled ? "disabled" : "enabled") by the digital input")
            state.commandsDisabled = disabled
            if link.commandsDisabledSubscribed {
                try await outbound.write(ByteBuffer(bytes: OpenProtocolEncoder.commandsDisabled(disabled)))
            }
        case .wrongProgram(let id):
            state.wrongProgramNext = id
        }
    }

    /// Sends the next result when the link is subscribed, the previous one acknowledged and the
    /// interval since has passed (and, with a panel, the trigger was pulled for it).
    private func sendNextResultIfDue(
        _ link: inout LinkState,
        state: inout SimulatorState,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) async throws {
        guard !link.isStalled, let revision = link.subscribedRevision, link.unacknowledged == nil, ContinuousClock.now >= link.nextSendTime else { return }
        let id = state.lastAcknowledged + 1
        if let count = configuration.resultCount, id > UInt64(count) { return }
        let result: TighteningResult
        if let sent = state.result(id) {
            result = sent  // sent before and not acknowledged: the same result again
        } else {
            if configuration.panel != nil {
                guard state.pulls > 0 else { return }
                state.pulls -= 1
            } else if state.strict, !state.enabled {
                return
            }
            let target = state.program.flatMap { id in configuration.programs.first { $0.selection.id == id }?.selection.torqueTarget }
            result = state.tighten(generated(id, around: target), programs: configuration.programs)
        }
        guard let frame = OpenProtocolEncoder.tighteningResult(result, mid: 61, revision: revision) else { return }
        if let every = configuration.garbleEvery, every > 0, id % UInt64(every) == 0 {
            try await outbound.write(ByteBuffer(bytes: frame.prefix(frame.count / 2)))
        }
        try await outbound.write(ByteBuffer(bytes: frame))
        if link.noAcknowledge {
            acknowledge(id, link: &link, state: &state)
        } else {
            link.unacknowledged = id
        }
    }

    /// Result number `id` as the tool measures it: from the script when there is one (cycled),
    /// else generated (within 0.01 of the program's `target` torque, when one is selected); the
    /// controller's program, identifier and batch are added when it is made.
    func generated(_ id: UInt64, around target: ExactDecimal? = nil) -> TighteningResult {
        var result = TighteningResult()
        let scripted = configuration.script.isEmpty ? nil : configuration.script[Int((id - 1) % UInt64(configuration.script.count))]
        let near = target.flatMap { OpenProtocolEncoder.fixedPoint($0, scale: 2) }.map { ExactDecimal(Int64($0) + Int64(id % 3) - 1, scale: 2) }
        result.torque = scripted?.torque ?? near ?? ExactDecimal(Int64(1150 + id % 100), scale: 2)
        result.angle = scripted?.angle ?? ExactDecimal(Int64(40 + id % 30), scale: 0)
        let ok = scripted?.ok ?? true
        result.status = ok ? .ok : .nok
        result.torqueStatus = ok ? .ok : .low
        result.angleStatus = .ok
        result.torqueMinimum = ExactDecimal(1100, scale: 2)
        result.torqueMaximum = ExactDecimal(1300, scale: 2)
        result.torqueTarget = ExactDecimal(1200, scale: 2)
        result.angleMinimum = ExactDecimal(30, scale: 0)
        result.angleMaximum = ExactDecimal(90, scale: 0)
        result.angleTarget = ExactDecimal(60, scale: 0)
        result.tighteningID = String(format: "%010llu", id)
        result.parameterSet = "001"
        result.batchSize = ExactDecimal(0, scale: 0)
        result.batchCounter = ExactDecimal(0, scale: 0)
        result.batchStatus = .notUsed
        result.cellID = "0001"
        result.channelID = "01"
        result.controllerName = configuration.controllerName
        result.identifier = "SIM-\(id)"
        result.torqueUnit = .newtonMetre
        result.resultType = .tightening
        result.timestamp = "2026-01-01:00:00:00"
        return result
    }
}

/// What the simulator remembers across connections (and, with a state file, the last
/// acknowledged id across restarts): the controller's program, batch, identifier and tool
/// state, and the results it sent.
struct SimulatorState {
    private(set) var lastAcknowledged: UInt64
    private(set) var acknowledged = 0
    var droppedLink = false
    var stalled = false
    private let stateFile: String?
    /// Whether the controller is commanded (it holds programs): the tool starts disabled.
    let strict: Bool
    var program: Int?
    var batchSize = 0
    var batchCounter = 0
    var identifier = ""
    var enabled: Bool
    var commandsDisabled = false
    var wrongProgramNext: Int?
    /// Trigger pulls not yet turned into results.
    var pulls = 0
    /// The results made, by tightening id (the newest 1,000), for sending again and for MID 0064.
    private var made: [UInt64: TighteningResult] = [:]

    init(stateFile: String?, strict: Bool) {
        self.stateFile = stateFile
        self.strict = strict
        enabled = !strict
        lastAcknowledged = stateFile.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }
            .flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
    }

    mutating func markAcknowledged(_ id: UInt64) {
        lastAcknowledged = max(lastAcknowledged, id)
        acknowledged += 1
        guard let stateFile else { return }
        try? "\(lastAcknowledged)\n".write(toFile: stateFile, atomically: true, encoding: .utf8)
    }

    func result(_ id: UInt64) -> TighteningResult? { made[id] }

    /// Selects a program: its batch counter starts again.
    mutating func select(_ id: Int) {
        program = id
        batchCounter = 0
    }

    /// One tightening of a strict controller: the program selected (or the one a fault runs),
    /// the downloaded identifier, and the batch counted (a good tightening counts; a NOK does
    /// not, and the batch keeps running).
    mutating func tighten(_ measured: TighteningResult, programs: [OpenProtocolControllerSimulator.Program]) -> TighteningResult {
        var result = measured
        if strict {
            let ran = wrongProgramNext ?? program ?? 0
            wrongProgramNext = nil
            result.parameterSet = String(format: "%03d", ran)
            result.identifier = identifier
            if let limits = programs.first(where: { $0.selection.id == ran })?.selection {
                result.torqueMinimum = limits.torqueMinimum
                result.torqueMaximum = limits.torqueMaximum
                result.torqueTarget = limits.torqueTarget
                result.angleMinimum = limits.angleMinimum
                result.angleMaximum = limits.angleMaximum
                result.angleTarget = limits.angleTarget
            }
            if result.status == .ok { batchCounter += 1 }
            result.batchSize = ExactDecimal(Int64(batchSize), scale: 0)
            result.batchCounter = ExactDecimal(Int64(batchCounter), scale: 0)
            result.batchStatus = batchSize == 0 ? .notUsed : batchCounter >= batchSize ? .ok : .running
        }
        if let id = result.tighteningID.flatMap(UInt64.init) {
            made[id] = result
            if made.count > 1000, let oldest = made.keys.min() { made[oldest] = nil }
        }
        return result
    }
}
