import DeviceProtocols
public import FloorgateCore
public import Logging
import NIOCore

/// The integrator side of an Open Protocol session with one tightening controller over TCP.
///
/// It starts the session (MID 0001, falling back a revision at a time on MID 0004 error 97),
/// subscribes to results (MID 0060, falling back on errors 74/97/76), sends a keep-alive after
/// `keepAliveInterval` without sending, treats `linkTimeout` without hearing from the controller
/// as a lost link, and reconnects with capped exponential backoff. Every MID 0061 is stored through
/// the ``DurableSink`` and acknowledged with MID 0062 only after `store` returns; a result the
/// controller sends again after a reconnect is stored once (keyed on controller and tightening
/// id). Tightening ids missing from the history, and jumps in the sequence within a session, are
/// backfilled with MID 0064 / 0065, one request at a time.
public struct OpenProtocolClient: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var keepAliveInterval: Duration = .seconds(10)
        public var linkTimeout: Duration = .seconds(15)
        public var initialBackoff: Duration = .milliseconds(250)
        public var maximumBackoff: Duration = .seconds(30)
        /// The MID 0001 revision asked for first.
        public var communicationStartRevision = 7
        /// The MID 0061 revision asked for first (MID 0060 header revision); Floorgate decodes
        /// 1–11, 998 and 999.
        public var resultRevision = 11
        /// How far back missing tightening ids are looked for and requested with MID 0064 (in
        /// the history at the start of a session, and after a jump within one).
        public var backfillWindow = 100

        /// The `source` of the results (a station's name for the controller); by default
        /// `open-protocol HOST:PORT`.
        public var source: String?
        /// The commanded tool's number at a controller with several (MID 0042/0043 revision 2);
        /// nil: the controller's one tool (revision 1).
        public var toolNumber: Int?

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// The controller's identity in results and logs.
        public var controller: String { "\(host):\(port)" }
    }

    /// What the caller hears about each stored result (its `tightening` event, raw frame
    /// included, or an `error` event for a result frame Floorgate could not read), after the
    /// result was acknowledged; return true to stop the client.
    public typealias StoredHandler = @Sendable (DeviceEvent, StoreReceipt) async -> Bool
    /// What the caller hears about the link: `connected` once a session is established and
    /// results are subscribed (not when a TCP connection merely opens), `lost` with the reason
    /// when a session ends or a connection cannot be made (once, until it is connected again).
    public typealias LinkHandler = @Sendable (DeviceStatus) async -> Void
    /// What the caller hears about a commanded tool's state, at every change.
    public typealias ToolStateHandler = @Sendable (ToolState) async -> Void

    public let configuration: Configuration
    private let sink: any DurableSink
    private let logger: Logger
    private let onStored: StoredHandler
    private let onLink: LinkHandler
    private let history: (any ResultHistory)?
    private let orders: ToolOrders?
    private let onToolState: ToolStateHandler

    /// `history`, when given, is asked at the start of each session for the tightening ids
    /// missing from what was stored before (by this process or an earlier one). `orders`, when
    /// given, makes the client command the tool (``ToolCommander``): it follows the latest
    /// order and reports the tool's state to `onToolState`; without it the client only listens.
    public init(
        configuration: Configuration,
        sink: any DurableSink,
        history: (any ResultHistory)? = nil,
        orders: ToolOrders? = nil,
        logger: Logger,
        onLink: @escaping LinkHandler = { _ in },
        onToolState: @escaping ToolStateHandler = { _ in },
        onStored: @escaping StoredHandler
    ) {
        self.configuration = configuration
        self.sink = sink
        self.history = history
        self.orders = orders
        self.onToolState = onToolState
        self.onLink = onLink
        var logger = logger
        logger[metadataKey: "controller"] = "\(configuration.controller)"
        self.logger = logger
        self.onStored = onStored
    }

    /// The `source` of this client's results for a controller address (`open-protocol HOST:PORT`).
    public static func source(controller: String) -> String { "open-protocol \(controller)" }

    /// Runs sessions until the stored-result handler asks to stop or the task is cancelled.
    public func run() async throws {
        var backoff = configuration.initialBackoff
        var sequence = TighteningSequence(highest: nil)
        // Whether the caller was told the link is lost (reported once until a session is up again).
        var reportedLost = false
        while !Task.isCancelled {
            do {
                logger.info("connecting")
                let established = {
                    backoff = configuration.initialBackoff
                    reportedLost = false
                }
                switch try await runSession(sequence: &sequence, established: established) {
                case .stopRequested:
                    logger.info("stopped: done")
                    return
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("link lost; reconnecting in \(backoff)", metadata: ["reason": "\(error)"])
                if !reportedLost {
                    reportedLost = true
                    await onLink(DeviceStatus(state: .lost, message: "Open Protocol \(configuration.controller): \(error); reconnecting"))
                    if orders != nil { await onToolState(.locked(reason: "no session with the controller (\(error))")) }
                }
            }
            try await Task.sleep(for: backoff)
            backoff = min(backoff * 2, configuration.maximumBackoff)
        }
    }

    enum SessionEnd { case stopRequested }

    /// Why a session ended other than by request.
    public enum SessionError: Error, CustomStringConvertible {
        case controllerClosedLink
        case silentController(Duration)
        case refused(mid: Int, errorCode: Int)

        public var description: String {
            switch self {
            case .controllerClosedLink: "the controller closed the connection"
            case .silentController(let duration): "nothing heard from the controller for \(duration)"
            case .refused(let mid, let code): "the controller refused MID \(mid) with error \(code)"
            }
        }
    }

    private func runSession(sequence: inout TighteningSequence, established: () -> Void) async throws -> SessionEnd {
        let channel = try await OpenProtocolChannels.connect(host: configuration.host, port: configuration.port)
        logger.info("connected")
        // A commanded tool follows the station's orders within a tick.
        let tick = min(configuration.keepAliveInterval, configuration.linkTimeout, orders == nil ? .seconds(3600) : .milliseconds(200)) / 4
        return try await channel.executeThenClose { inbound, outbound in
            try await withLinkInputs(from: inbound, tickingEvery: tick) { inputs in
                var session = Session(configuration: configuration, outbound: outbound, logger: logger)
                var skippedReport = SkippedBytesReport()
                try await session.send(OpenProtocolEncoder.communicationStart(revision: session.startRevision))
                for await input in inputs {
                    switch input {
                    case .closed:
                        throw SessionError.controllerClosedLink
                    case .tick:
                        try await session.keepLinkAlive()
                        try await followOrders(&session)
                    case .received(let output):
                        session.heardFromController()
                        guard case .frame(let frame) = output else {
                            if case .skipped(_, let raw) = output, let line = skippedReport.note(raw) {
                                logger.warning("bytes on the link that are no Open Protocol frame: \(line)")
                            }
                            continue
                        }
                        if try await handle(frame, session: &session, sequence: &sequence, established: established) {
                            return .stopRequested
                        }
                        try await followOrders(&session)
                    }
                }
                throw SessionError.controllerClosedLink
            }
        }
    }

    /// Sends what the station's latest order asks of the tool, and reports its state when it changed.
    private func followOrders(_ session: inout Session) async throws {
        guard let orders else { return }
        try await session.send(session.commander.follow(orders))
        try await reportToolState(&session)
    }

    /// Sends `frames` of the commander and reports the tool's state if it changed.
    private func command(_ frames: [[UInt8]], _ session: inout Session) async throws {
        guard orders != nil else { return }
        try await session.send(frames)
        try await reportToolState(&session)
    }

    private func reportToolState(_ session: inout Session) async throws {
        guard session.commander.state != session.reportedToolState else { return }
        session.reportedToolState = session.commander.state
        logger.info("tool \(session.commander.state)")
        await onToolState(session.commander.state)
    }

    /// Handles one frame; returns true when the caller asked to stop.
    private func handle(
        _ frame: OpenProtocolFrame,
        session: inout Session,
        sequence: inout TighteningSequence,
        established: () -> Void
    ) async throws -> Bool {
        let message: OpenProtocolMessage
        do {
            message = try OpenProtocolMessage(frame)
        } catch {
            guard frame.mid == 61 || frame.mid == 65 else {
                logger.warning("unreadable message from the controller (\(error.reason))", metadata: ["mid": "\(frame.mid)"])
                return false
            }
            // A result Floorgate cannot read is still a result: its bytes are kept, then it is
            // acknowledged, so the controller's queue does not stall on it.
            logger.error("tightening result Floorgate cannot read (\(error.reason)); stored as raw bytes", metadata: ["mid": "\(frame.mid)"])
            let event = DeviceEvent.error(error, raw: frame.raw)
            let receipt = try await sink.store(DeviceResult(source: source, sourceKey: "raw " + DeviceEvent.hex(frame.raw), event: event))
            return try await acknowledge(frame.mid == 61, event: event, receipt: receipt, session: &session)
        }
        switch message {
        case .communicationStartAcknowledge:
            logger.info("session started", metadata: ["revision": "\(session.startRevision)"])
            try await session.send(OpenProtocolEncoder.subscribeLastTighteningResult(revision: session.resultRevision))
        case .commandError(mid: 1, let code) where code == 97 && session.startRevision > 1:
            session.startRevision -= 1
            logger.info("communication start revision not supported; trying \(session.startRevision)")
            try await session.send(OpenProtocolEncoder.communicationStart(revision: session.startRevision))
        case .commandError(mid: 60, let code) where [74, 76, 97].contains(code) && session.resultRevision > 1:
            session.resultRevision -= 1
            logger.info("result revision not supported; trying \(session.resultRevision)")
            try await session.send(OpenProtocolEncoder.subscribeLastTighteningResult(revision: session.resultRevision))
        case .commandAccepted(mid: 60), .commandError(mid: 60, errorCode: 9):
            logger.info("subscribed to tightening results", metadata: ["revision": "\(session.resultRevision)"])
            established()
            await onLink(DeviceStatus(
                state: .connected, message: "Open Protocol \(configuration.controller): session revision \(session.startRevision), results revision \(session.resultRevision)"))
            // The tool's identity for every result's record (MID 0041).
            try await session.send(OpenProtocolEncoder.toolDataRequest())
            if let orders {
                _ = session.commander.follow(orders)
                try await command(session.commander.sessionStarted(selectionRevision: session.selectionRevision), &session)
            }
            if let history {
                let gaps = try await history.numericKeyGaps(source: source, window: configuration.backfillWindow)
                sequence.noteHighest(gaps.highest)
                try await session.requestOldResults(gaps.missing)
            }
        case .commandError(mid: 14, let code) where [74, 76, 97].contains(code) && session.selectionRevision > 1:
            session.selectionRevision -= 1
            logger.info("program selection revision not supported; trying \(session.selectionRevision)")
            try await session.send(OpenProtocolEncoder.subscribeProgramSelection(revision: session.selectionRevision))
        case .commandError(mid: 14, let code), .commandError(mid: 420, let code), .commandError(mid: 40, let code):
            logger.warning("the controller refused a subscription or request", metadata: [
                "mid": "\(frame.mid)", "error": "\(code) \(OpenProtocolErrors.meaning(code))",
            ])
        case .toolData(let tool):
            logger.info("tool identified", metadata: ["serial": "\(tool.serial ?? "?")", "tightenings": "\(tool.tightenings.map(String.init) ?? "?")",
                                           "calibrated": "\(tool.calibratedOn ?? "?")"])
            session.tool = tool
        case .programSelected(let selection):
            try await command(session.commander.programSelected(selection), &session)
        case .commandsDisabled(let disabled):
            logger.notice("Open Protocol commands \(disabled ? "disabled" : "enabled") at the controller")
            try await command(session.commander.commandsDisabled(disabled), &session)
        case .commandError(mid: 64, let code):
            logger.warning("controller cannot upload an old result; it stays missing",
                           metadata: ["tightening": "\(session.oldResultInFlight.map(String.init) ?? "?")", "error": "\(code)"])
            try await session.oldResultAnswered()
        case .commandError(let mid, let code) where mid == 1 || mid == 60:
            throw SessionError.refused(mid: mid, errorCode: code)
        case .lastTighteningResult(let result):
            let (event, receipt) = try await store(result, frame: frame, tool: session.tool)
            if try await acknowledge(true, event: event, receipt: receipt, session: &session) { return true }
            try await command(session.commander.tightened(result), &session)
            if let missing = sequence.record(result.tighteningID, limit: configuration.backfillWindow), !missing.isEmpty {
                logger.warning("tightening ids skipped; requesting old results",
                               metadata: ["from": "\(missing.lowerBound)", "to": "\(missing.upperBound - 1)"])
                try await session.requestOldResults(Array(missing))
            }
        case .oldTighteningResult(let result):
            let (event, receipt) = try await store(result, frame: frame, tool: session.tool)
            if try await acknowledge(false, event: event, receipt: receipt, session: &session) { return true }
            try await session.oldResultAnswered()
        case .alarm(let code):
            logger.warning("controller alarm", metadata: ["code": "\(code)"])
        case .commandAccepted(let mid):
            try await command(session.commander.accepted(mid), &session)
        case .commandError(let mid, let code):
            try await command(session.commander.refused(mid, code: code), &session)
        case .keepAlive, .other:
            break  // a mirrored keep-alive, other MIDs
        case .communicationStart, .communicationStop, .resultSubscribe, .resultAcknowledge, .resultUnsubscribe, .oldResultRequest,
             .programSelectedSubscribe, .programSelectedAcknowledge, .selectProgram, .setBatchSize, .resetBatchCounter, .selectJob,
             .toolDataRequest, .disableTool, .enableTool, .identifierDownload, .commandsDisabledSubscribe, .commandsDisabledAcknowledge:
            break  // integrator messages: a controller does not send them
        }
        return false
    }

    /// After a result was stored: acknowledges it (MID 0062, when `acknowledging`; only now,
    /// since `store` has returned and the result is on disk), then tells the caller, even when the
    /// link broke under the acknowledgement. Returns whether the caller asked to stop.
    private func acknowledge(
        _ acknowledging: Bool,
        event: DeviceEvent,
        receipt: StoreReceipt,
        session: inout Session
    ) async throws -> Bool {
        var linkFailure: (any Error)?
        if acknowledging {
            do {
                try await session.send(OpenProtocolEncoder.acknowledgeLastTighteningResult())
            } catch {
                linkFailure = error
            }
        }
        if await onStored(event, receipt) { return true }
        if let linkFailure { throw linkFailure }
        return false
    }

    /// This client's results' `source`.
    private var source: String { configuration.source ?? Self.source(controller: configuration.controller) }

    /// Stores a result durably. Its key is the tightening id (as a number, so `17` and
    /// `0000000017` are one) with the controller's timestamp: a result sent again is stored once,
    /// while a controller whose id counter was reset does not have its new results taken for
    /// old ones. A result without an id is keyed by its bytes.
    private func store(_ result: TighteningResult, frame: OpenProtocolFrame, tool: ToolIdentity?) async throws -> (DeviceEvent, StoreReceipt) {
        let event = DeviceEvent.tightening(result, raw: frame.raw)
        let key = result.tighteningID.flatMap(UInt64.init).map { "\($0)@\(result.timestamp ?? "")" }
            ?? "raw " + DeviceEvent.hex(frame.raw)
        let receipt = try await sink.store(DeviceResult(source: source, sourceKey: key, event: event, tool: tool))
        logger.debug("stored", metadata: ["key": "\(key)", "receipt": "\(receipt.id)", "again": "\(receipt.wasAlreadyStored)"])
        return (event, receipt)
    }
}

/// One connection's state: negotiated revisions, and when we last sent and last heard.
private struct Session {
    let configuration: OpenProtocolClient.Configuration
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let logger: Logger
    var startRevision: Int
    var resultRevision: Int
    /// The MID 0015 revision asked for with MID 0014: 2 (with the program's limits), lower on refusal.
    var selectionRevision = 2
    /// The tool as its controller described it (MID 0041), recorded with each result.
    var tool: ToolIdentity?
    /// The commands of this session (used only when the client commands the tool).
    var commander: ToolCommander
    var reportedToolState: ToolState?
    private var lastSent = ContinuousClock.now
    private var lastHeard = ContinuousClock.now

    init(configuration: OpenProtocolClient.Configuration, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, logger: Logger) {
        self.configuration = configuration
        self.outbound = outbound
        self.logger = logger
        startRevision = configuration.communicationStartRevision
        resultRevision = configuration.resultRevision
        commander = ToolCommander(toolNumber: configuration.toolNumber)
    }

    mutating func send(_ frame: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: frame))
        lastSent = .now
    }

    mutating func send(_ frames: [[UInt8]]) async throws {
        for frame in frames { try await send(frame) }
    }

    mutating func heardFromController() {
        lastHeard = .now
    }

    /// Old results still to ask for, one MID 0064 at a time (Open Protocol is request/reply).
    private var oldResultsToRequest: [UInt64] = []
    /// The tightening id of the MID 0064 awaiting its MID 0065 (or MID 0004).
    private(set) var oldResultInFlight: UInt64?

    mutating func requestOldResults(_ ids: [UInt64]) async throws {
        oldResultsToRequest += ids.filter { $0 != oldResultInFlight && !oldResultsToRequest.contains($0) }
        try await requestNextOldResult()
    }

    /// The controller answered the MID 0064 in flight; ask for the next one.
    mutating func oldResultAnswered() async throws {
        oldResultInFlight = nil
        try await requestNextOldResult()
    }

    private mutating func requestNextOldResult() async throws {
        guard oldResultInFlight == nil, !oldResultsToRequest.isEmpty else { return }
        let id = oldResultsToRequest.removeFirst()
        oldResultInFlight = id
        try await send(OpenProtocolEncoder.oldTighteningResultRequest(tighteningID: id))
    }

    /// Keep-alive after `keepAliveInterval` without sending; a lost link after `linkTimeout`
    /// without hearing from the controller.
    mutating func keepLinkAlive() async throws {
        let silence = ContinuousClock.now - lastHeard
        if silence > configuration.linkTimeout {
            throw OpenProtocolClient.SessionError.silentController(silence)
        }
        if ContinuousClock.now - lastSent >= configuration.keepAliveInterval {
            try await send(OpenProtocolEncoder.keepAlive())
        }
    }
}

/// The tightening ids seen from one controller, to notice the ids a disconnection skipped.
struct TighteningSequence {
    private var highest: UInt64?

    init(highest: UInt64?) {
        self.highest = highest
    }

    /// Takes the highest id already stored as the starting point, unless one was seen already.
    mutating func noteHighest(_ id: UInt64?) {
        if highest == nil { highest = id }
    }

    /// Records an id; returns the ids between the highest seen so far and this one (at most
    /// `limit`, the most recent), which the controller should be asked for.
    mutating func record(_ tighteningID: String?, limit: Int) -> Range<UInt64>? {
        guard let tighteningID, let id = UInt64(tighteningID) else { return nil }
        defer { highest = max(highest ?? id, id) }
        guard let highest, highest < id, id - highest > 1 else { return nil }
        let skipped = id - highest - 1
        return (id - min(skipped, UInt64(max(0, limit))))..<id
    }
}
