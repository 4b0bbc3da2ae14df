public import DeviceProtocols
public import FloorgateCore
public import Logging
import NIOCore
import NIOPosix

/// The integrator side of an Open Protocol session with one tightening controller over TCP.
///
/// It starts the session (MID 0001, falling back a revision at a time on MID 0004 error 97),
/// subscribes to results (MID 0060, falling back on errors 74/97/76), sends a keep-alive after
/// `keepAliveInterval` without sending, treats `linkTimeout` without hearing from the controller
/// as a lost link, and reconnects with capped exponential backoff. Every MID 0061 is stored through
/// the ``DurableSink`` and acknowledged with MID 0062 only after `store` returns; a result the
/// controller sends again after a reconnect is stored once (keyed on controller and tightening
/// id). A jump in the tightening-id sequence is backfilled with MID 0064 / 0065.
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
        /// The most missing tightening ids requested with MID 0064 after one jump.
        public var maximumBackfill = 100
        /// The highest tightening id already stored from this controller (by an earlier run), so
        /// that ids skipped while the collector itself was down are noticed too.
        public var highestStoredTighteningID: UInt64?

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// The controller's identity in results and logs.
        public var controller: String { "\(host):\(port)" }
    }

    /// What the caller hears about each stored result (its `tightening` event, raw frame
    /// included); return true to stop the client once the result is acknowledged.
    public typealias StoredHandler = @Sendable (DeviceEvent, StoreReceipt) async -> Bool

    public let configuration: Configuration
    private let sink: any DurableSink
    private let logger: Logger
    private let onStored: StoredHandler

    public init(configuration: Configuration, sink: any DurableSink, logger: Logger, onStored: @escaping StoredHandler) {
        self.configuration = configuration
        self.sink = sink
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
        var sequence = TighteningSequence(highest: configuration.highestStoredTighteningID)
        while !Task.isCancelled {
            do {
                logger.info("connecting")
                switch try await runSession(sequence: &sequence, resetBackoff: { backoff = configuration.initialBackoff }) {
                case .stopRequested:
                    logger.info("stopped: done")
                    return
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("link lost; reconnecting in \(backoff)", metadata: ["reason": "\(error)"])
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

    private func runSession(sequence: inout TighteningSequence, resetBackoff: () -> Void) async throws -> SessionEnd {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .connect(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(OpenProtocolFrameDecoder()))
                    return try NIOAsyncChannel<OpenProtocolFramerOutput, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        logger.info("connected")
        let tick = min(configuration.keepAliveInterval, configuration.linkTimeout) / 4
        return try await channel.executeThenClose { inbound, outbound in
            try await withLinkInputs(from: inbound, tickingEvery: tick) { inputs in
                var session = Session(configuration: configuration, outbound: outbound, logger: logger)
                try await session.send(OpenProtocolEncoder.communicationStart(revision: session.startRevision))
                for await input in inputs {
                    switch input {
                    case .closed:
                        throw SessionError.controllerClosedLink
                    case .tick:
                        try await session.keepLinkAlive()
                    case .received(let output):
                        session.heardFromController()
                        guard case .frame(let frame) = output else {
                            logger.warning("skipped bytes on the link", metadata: ["bytes": "\(output)"])
                            continue
                        }
                        if try await handle(frame, session: &session, sequence: &sequence, resetBackoff: resetBackoff) {
                            return .stopRequested
                        }
                    }
                }
                throw SessionError.controllerClosedLink
            }
        }
    }

    /// Handles one frame; returns true when the caller asked to stop.
    private func handle(
        _ frame: OpenProtocolFrame,
        session: inout Session,
        sequence: inout TighteningSequence,
        resetBackoff: () -> Void
    ) async throws -> Bool {
        let message: OpenProtocolMessage
        do {
            message = try OpenProtocolMessage(frame)
        } catch {
            logger.error("controller sent a frame Floorgate cannot read (\(error)); not acknowledged", metadata: ["mid": "\(frame.mid)"])
            return false
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
            resetBackoff()
        case .commandError(mid: 64, let code):
            logger.warning("controller has no old result for a requested tightening id", metadata: ["error": "\(code)"])
        case .commandError(let mid, let code) where mid == 1 || mid == 60:
            throw SessionError.refused(mid: mid, errorCode: code)
        case .lastTighteningResult(let result):
            let stop = try await store(result, frame: frame, sequence: &sequence, session: &session)
            // Acknowledged only now that `store` has returned: the result is on disk.
            try await session.send(OpenProtocolEncoder.acknowledgeLastTighteningResult())
            return stop
        case .oldTighteningResult(let result):
            return try await store(result, frame: frame, sequence: &sequence, session: &session)
        case .alarm(let code):
            logger.warning("controller alarm", metadata: ["code": "\(code)"])
        case .keepAlive, .commandAccepted, .commandError, .other, .communicationStart, .communicationStop, .resultSubscribe,
             .resultAcknowledge, .resultUnsubscribe, .oldResultRequest:
            break  // integrator messages a controller does not send
        }
        return false
    }

    /// Stores a result durably, then asks for the results a jump in tightening ids skipped.
    /// The source is the controller's address: results stay unique per controller and id.
    private func store(
        _ result: TighteningResult,
        frame: OpenProtocolFrame,
        sequence: inout TighteningSequence,
        session: inout Session
    ) async throws -> Bool {
        let event = DeviceEvent.tightening(result, raw: frame.raw)
        let receipt = try await sink.store(DeviceResult(source: Self.source(controller: configuration.controller), sourceKey: result.tighteningID, event: event))
        logger.debug("stored", metadata: ["tightening": "\(result.tighteningID ?? "-")", "receipt": "\(receipt.id)", "again": "\(receipt.wasAlreadyStored)"])
        let stop = await onStored(event, receipt)
        if let missing = sequence.record(result.tighteningID, limit: configuration.maximumBackfill), !missing.isEmpty {
            logger.warning("tightening ids skipped; requesting old results", metadata: ["from": "\(missing.lowerBound)", "to": "\(missing.upperBound - 1)"])
            for id in missing {
                try await session.send(OpenProtocolEncoder.oldTighteningResultRequest(tighteningID: id))
            }
        }
        return stop
    }
}

/// One connection's state: negotiated revisions, and when we last sent and last heard.
private struct Session {
    let configuration: OpenProtocolClient.Configuration
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let logger: Logger
    var startRevision: Int
    var resultRevision: Int
    private var lastSent = ContinuousClock.now
    private var lastHeard = ContinuousClock.now

    init(configuration: OpenProtocolClient.Configuration, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, logger: Logger) {
        self.configuration = configuration
        self.outbound = outbound
        self.logger = logger
        startRevision = configuration.communicationStartRevision
        resultRevision = configuration.resultRevision
    }

    mutating func send(_ frame: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: frame))
        lastSent = .now
    }

    mutating func heardFromController() {
        lastHeard = .now
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
