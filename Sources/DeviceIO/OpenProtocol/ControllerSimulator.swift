import DeviceProtocols
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
        /// When set, result n is sent only once the trigger was pulled n times (an operator
        /// running the tool), instead of on the timer alone.
        public var trigger: Trigger?

        public init() {}
    }

    /// How many times the tool's trigger was pulled; shared with whoever pulls it.
    public final class Trigger: Sendable {
        private let pulls = Mutex(0)

        public init() {}

        /// One more tightening.
        public func pull() { pulls.withLock { $0 += 1 } }

        var count: Int { pulls.withLock { $0 } }
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
        var state = SimulatorState(stateFile: configuration.stateFile)
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
        let message: OpenProtocolMessage
        do {
            message = try OpenProtocolMessage(frame)
        } catch {
            logger.warning("unreadable frame from client: \(error.reason)", metadata: ["mid": "\(frame.mid)"])
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
               let old = OpenProtocolEncoder.tighteningResult(result(for: requested), mid: 65, revision: min(3, link.subscribedRevision ?? 1)) {
                try await send(old)
            } else {
                try await send(OpenProtocolEncoder.commandError(mid: 64, errorCode: 15))
            }
        case .keepAlive:
            try await send(OpenProtocolEncoder.keepAlive())
        case .communicationStartAcknowledge, .commandError, .commandAccepted, .lastTighteningResult, .oldTighteningResult,
             .alarm, .other:
            break  // controller messages an integrator does not send
        }
    }

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
        try await sendNextResultIfDue(&link, state: &state, outbound: outbound)
    }

    /// Sends the next result when the link is subscribed, the previous one acknowledged and the
    /// interval since has passed.
    private func sendNextResultIfDue(
        _ link: inout LinkState,
        state: inout SimulatorState,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) async throws {
        guard !link.isStalled, let revision = link.subscribedRevision, link.unacknowledged == nil, ContinuousClock.now >= link.nextSendTime else { return }
        let id = state.lastAcknowledged + 1
        if let count = configuration.resultCount, id > UInt64(count) { return }
        if let trigger = configuration.trigger, id > UInt64(trigger.count) { return }
        guard let frame = OpenProtocolEncoder.tighteningResult(result(for: id), mid: 61, revision: revision) else { return }
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

    /// Result number `id`: from the script when there is one (cycled), else generated.
    func result(for id: UInt64) -> TighteningResult {
        var result = TighteningResult()
        let scripted = configuration.script.isEmpty ? nil : configuration.script[Int((id - 1) % UInt64(configuration.script.count))]
        result.torque = scripted?.torque ?? ExactDecimal(Int64(1150 + id % 100), scale: 2)
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

/// What the simulator remembers across connections (and, with a state file, across restarts).
struct SimulatorState {
    private(set) var lastAcknowledged: UInt64
    private(set) var acknowledged = 0
    var droppedLink = false
    var stalled = false
    private let stateFile: String?

    init(stateFile: String?) {
        self.stateFile = stateFile
        lastAcknowledged = stateFile.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }
            .flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
    }

    mutating func markAcknowledged(_ id: UInt64) {
        lastAcknowledged = max(lastAcknowledged, id)
        acknowledged += 1
        guard let stateFile else { return }
        try? "\(lastAcknowledged)\n".write(toFile: stateFile, atomically: true, encoding: .utf8)
    }
}
