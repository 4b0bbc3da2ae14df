import FloorgateCore
public import Glibc
public import Logging
public import NIOCore
import NIOPosix
import RecordProtocol
import Synchronization

/// `floorgate record serve`: JSON-RPC 2.0, one object per line, over a Unix stream socket.
/// Writes go through the `RecordStore`'s single writer; answers leave only after commit.
/// Every connection is identified by its peer credentials (SO_PEERCRED); only allowed users
/// and groups may write. Subscribed connections receive the record's notifications.
public final class RecordServer: Sendable {
    /// Who may write, and where the socket lives.
    public struct Options: Sendable {
        public var socketPath: String
        /// Users (by uid) allowed to write; the server's own user and root always are.
        public var allowedUsers: Set<uid_t>
        /// Groups (by gid) whose members may write.
        public var allowedGroups: Set<gid_t>
        /// The longest request line accepted, in bytes.
        public var maximumLineLength: Int
        /// Connections served at once; one more is answered `1061` and closed.
        public var maximumConnections: Int
        /// How long a begun request line may take to finish; then `1062` and the connection closes.
        public var lineTimeout: TimeAmount
        /// How failed signatures slow the next attempts (`1063` while a wait lasts).
        public var signaturePacing: SignaturePacing = .standard
        /// Whether signing waits for a synchronized clock (`1064` while it is not).
        public var signingClock: SigningClock = .unchecked
        /// How far ahead of the record's clock a result's time may be (`1041` beyond), and after
        /// how long a result is recorded as late.
        public var resultTimes = ResultTimePolicy()
        /// This server's key: it signs every audit entry the server appends (nil: unsigned
        /// entries, which `verify --keys` refuses).
        public var serverKey: RecordServerKey?

        public init(
            socketPath: String, allowedUsers: Set<uid_t> = [], allowedGroups: Set<gid_t> = [], maximumLineLength: Int = 1 << 20,
            maximumConnections: Int = 512, lineTimeout: TimeAmount = .seconds(30)
        ) {
            self.socketPath = socketPath
            self.allowedUsers = allowedUsers
            self.allowedGroups = allowedGroups
            self.maximumLineLength = maximumLineLength
            self.maximumConnections = maximumConnections
            self.lineTimeout = lineTimeout
        }
    }

    private let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// Opens the record at `location` and starts serving it on `options.socketPath`.
    public static func start(
        _ location: RecordLocation, options: Options, passwordRounds: Int = PasswordHasher.defaultRounds, group: any EventLoopGroup,
        logger: Logger
    ) async throws -> (server: RecordServer, store: RecordStore) {
        // A socket file a live server answers on is that server's: taking it over would leave it
        // running, unreachable. One nobody answers on is left by a server that died: replaced.
        if LocalSocket.answers(options.socketPath) { throw SocketInUse(path: options.socketPath) }
        let hub = NotificationHub()
        let store = try await RecordStore.open(
            location, passwordRounds: passwordRounds, pacing: options.signaturePacing, signingClock: options.signingClock,
            resultTimes: options.resultTimes, serverKey: options.serverKey
        ) { hub.publish($0) }
        let policy = WritePolicy(allowedUsers: options.allowedUsers, allowedGroups: options.allowedGroups)
        let maximumLineLength = options.maximumLineLength, lineTimeout = options.lineTimeout
        let connections = ConnectionCount(maximum: options.maximumConnections)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            // At the descriptor limit accept fails (EMFILE) while clients wait: without a pause
            // the loop would retry at once, at 100 % CPU, until descriptors are free.
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(AcceptPause(logger: logger)) }
            }
            // A client that shuts down its writing side after its requests still gets every answer.
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                guard connections.admit(channel) else {
                    logger.warning("record connection refused: at the limit", metadata: ["limit": "\(options.maximumConnections)"])
                    let refusal = RecordMessage.error(
                        .tooManyConnections, "the record serves \(options.maximumConnections) connections at most; try again later", id: .null)
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(RefusedConnection(line: RecordMessage.line(refusal)))
                    }
                }
                return PeerCredentials.read(channel).flatMapThrowing { peer in
                    try channel.pipeline.syncOperations.addHandlers([
                        UnfinishedLineTimeout(timeout: lineTimeout, logger: logger),
                        ByteToMessageHandler(RecordLineDecoder(maximumLength: maximumLineLength)),
                        RecordConnectionHandler(
                            store: store, hub: hub, peer: peer.description, peerUser: "uid=\(peer.uid)", mayWrite: policy.allows(peer),
                            isHostAdministrator: peer.uid == 0 || peer.uid == getuid(), logger: logger),
                    ])
                }
            }
        // The socket file is created by bind with the process umask: keep it private until
        // its mode and group are set.
        let previousMask = umask(0o177)
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(unixDomainSocketPath: options.socketPath, cleanupExistingSocketFile: true).get()
            umask(previousMask)
        } catch {
            umask(previousMask)
            try? await store.close()
            throw error
        }
        if let warning = LocalSocket.restrictAccess(options.socketPath, serving: "the record socket") {
            logger.warning("\(warning)", metadata: ["socket": "\(options.socketPath)"])
        }
        return (RecordServer(channel: channel), store)
    }

    /// Stops accepting connections and closes the socket.
    public func close() async throws {
        try await channel.close()
    }
}

/// How many connections the server holds; each is counted until it closes.
final class ConnectionCount: Sendable {
    private let maximum: Int
    private let open = Mutex(0)

    init(maximum: Int) {
        self.maximum = maximum
    }

    /// Counts `channel` in if there is room; it is counted out when it closes.
    func admit(_ channel: any Channel) -> Bool {
        let admitted = open.withLock { open in
            guard open < maximum else { return false }
            open += 1
            return true
        }
        if admitted { channel.closeFuture.whenComplete { _ in self.open.withLock { $0 -= 1 } } }
        return admitted
    }
}

/// Stops accepting for a second when accept fails for want of descriptors (EMFILE, ENFILE) or
/// memory (ENOBUFS, ENOMEM), then accepts again. NIO's `AcceptBackoffHandler` does not hold here:
/// after an accept that failed, NIO keeps the read pending and the socket in its poll, so the
/// back-off never gets a read to delay and the loop spins; turning `autoRead` off takes the
/// socket out of the poll until the pause is over.
final class AcceptPause: ChannelInboundHandler {
    typealias InboundIn = any Channel
    static let pause: TimeAmount = .seconds(1)
    private let logger: Logger
    private var paused = false

    init(logger: Logger) {
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !paused, let error = error as? IOError, [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errnoCode),
           let options = context.channel.syncOptions
        {
            paused = true
            logger.warning("cannot accept record connections now; trying again in 1 s", metadata: ["error": "\(error)"])
            try? options.setOption(ChannelOptions.autoRead, value: false)
            context.eventLoop.assumeIsolated().scheduleTask(in: Self.pause) {
                self.paused = false
                try? options.setOption(ChannelOptions.autoRead, value: true)
            }
        }
        context.fireErrorCaught(error)
    }
}


/// A connection over the limit: told why, then closed.
final class RefusedConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let line: String

    init(line: String) {
        self.line = line
    }

    func channelActive(context: ChannelHandlerContext) {
        let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: line))).whenComplete { _ in
            boundContext.value.close(promise: nil)
        }
    }
}

/// Closes a connection whose request line was begun but not finished within `timeout`: a client
/// that sends a byte now and then (slow loris) holds no connection for long. A connection that
/// is merely quiet between whole lines (a gateway waiting for results, a subscriber) is left
/// open, and time the server spends not reading (holding back a client that owes reading its
/// answers) does not count against the client.
final class UnfinishedLineTimeout: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let timeout: TimeAmount
    private let logger: Logger
    /// Set while bytes after the last newline wait for theirs.
    private var deadline: Scheduled<Void>?
    /// Whether the server asked for more bytes since the last it got (else it holds reads).
    private var reading = true

    init(timeout: TimeAmount, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    func read(context: ChannelHandlerContext) {
        reading = true
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data).readableBytesView
        reading = false
        // A newline ends a line: what follows it, if anything, is a new line with its own time.
        if bytes.contains(UInt8(ascii: "\n")) {
            deadline?.cancel()
            deadline = nil
        }
        if bytes.last != UInt8(ascii: "\n"), deadline == nil { arm(context) }
        context.fireChannelRead(data)
    }

    private func arm(_ context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = loopBound.value
            handler.expired(context)
        }
    }

    private func expired(_ context: ChannelHandlerContext) {
        deadline = nil
        guard reading else { return arm(context) }  // the server holds reads: not the client's time
        let seconds = timeout.nanoseconds / 1_000_000_000
        logger.notice("record connection closed: a request line was not finished", metadata: ["seconds": "\(seconds)"])
        let refusal = RecordMessage.error(.requestTimedOut, "the request line was not finished within \(seconds) s", id: .null)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: RecordMessage.line(refusal))), promise: nil)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }
}

/// Why `record serve` does not start: another server answers on its socket.
public struct SocketInUse: Error, CustomStringConvertible {
    public var path: String

    public var description: String {
        "a record server already answers on \(path): stop it first, or give this one another --socket"
    }
}

/// The connecting process, from SO_PEERCRED.
struct PeerCredentials: Sendable, CustomStringConvertible {
    var pid: pid_t
    var uid: uid_t
    var gid: gid_t

    var description: String { "uid=\(uid) gid=\(gid) pid=\(pid)" }

    static func read(_ channel: any Channel) -> EventLoopFuture<PeerCredentials> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(WorkRecordError(.internalError, "the connection has no socket options"))
        }
        let credentials: EventLoopFuture<CredentialsLayout> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return credentials.map { PeerCredentials(pid: $0.pid, uid: $0.uid, gid: $0.gid) }
    }

    /// The kernel's `struct ucred` (pid, uid, gid), which Glibc only declares under _GNU_SOURCE.
    private struct CredentialsLayout: Sendable {
        var pid: pid_t
        var uid: uid_t
        var gid: gid_t
    }
}

/// Who may write: root, the server's own user, the listed users, and members of the listed groups.
struct WritePolicy: Sendable {
    var allowedUsers: Set<uid_t>
    var allowedGroups: Set<gid_t>

    func allows(_ peer: PeerCredentials) -> Bool {
        if peer.uid == 0 || peer.uid == getuid() || allowedUsers.contains(peer.uid) || allowedGroups.contains(peer.gid) {
            return true
        }
        return !allowedGroups.isDisjoint(with: Self.groups(of: peer.uid, primary: peer.gid))
    }

    /// The supplementary groups of user `uid` from the system's group database.
    private static func groups(of uid: uid_t, primary: gid_t) -> Set<gid_t> {
        // getpwuid_r: connections are accepted on several threads.
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &found) == 0, found != nil, let namePointer = entry.pw_name else {
            return [primary]
        }
        let name = String(cString: namePointer)  // copied while `buffer` still holds it
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, primary, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(name, primary, &groups, &count)
        }
        return Set(groups.prefix(Int(max(0, count))))
    }
}

/// The connections that asked for notifications. One that stops reading them is cut off: once
/// its answers and notifications have backed up in its socket (not writable) for `patience`, it
/// gets a last `subscription.ended` and is closed (5 s later at the latest, read or not), so a
/// subscriber that never reads holds at most what backed up meanwhile, not every notification
/// from then on, nor its connection.
final class NotificationHub: Sendable {
    private struct Subscriber {
        let channel: any Channel
        /// Since when its socket has been backed up, at the last notification.
        var backedUpSince: ContinuousClock.Instant?
    }

    private let subscribers = Mutex<[ObjectIdentifier: Subscriber]>([:])
    private let patience: Duration
    /// How long a cut-off subscriber's `subscription.ended` may wait to be read before its
    /// connection is closed anyway.
    static let lastWriteGrace: TimeAmount = .seconds(5)

    init(patience: Duration = .seconds(30)) {
        self.patience = patience
    }

    func subscribe(_ channel: any Channel) {
        subscribers.withLock { $0[ObjectIdentifier(channel)] = Subscriber(channel: channel) }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
        }
    }

    func publish(_ notifications: [RecordNotification]) {
        guard !notifications.isEmpty else { return }
        let now = ContinuousClock.now
        let (live, lagging) = subscribers.withLock { subscribers -> ([any Channel], [any Channel]) in
            var live: [any Channel] = [], lagging: [any Channel] = []
            for (key, var subscriber) in subscribers {
                if subscriber.channel.isWritable {
                    subscriber.backedUpSince = nil
                } else if let since = subscriber.backedUpSince, now - since >= patience {
                    subscribers[key] = nil
                    lagging.append(subscriber.channel)
                    continue
                } else if subscriber.backedUpSince == nil {
                    subscriber.backedUpSince = now
                }
                subscribers[key] = subscriber
                live.append(subscriber.channel)
            }
            return (live, lagging)
        }
        if !live.isEmpty {
            let lines = notifications.map { RecordMessage.line(RecordMessage.notification($0)) }.joined()
            for channel in live {
                channel.writeAndFlush(channel.allocator.buffer(string: lines), promise: nil)
            }
        }
        let ended = RecordMessage.line(RecordMessage.notification(RecordNotification(
            method: RecordNotification.subscriptionEnded,
            params: ["reason": .string("notifications went unread for \(patience); reconnect and read the state again")])))
        for channel in lagging {
            channel.writeAndFlush(channel.allocator.buffer(string: ended)).whenComplete { _ in channel.close(promise: nil) }
            // One that never reads again would hold that last write, and its connection, for good.
            channel.eventLoop.scheduleTask(in: Self.lastWriteGrace) { channel.close(promise: nil) }
        }
    }
}

/// Answers the requests of one connection, in the order they came, whether an answer comes
/// from the record's writer or straight from here (a parse error, `subscribe`).
///
/// A client that sends requests without reading its answers is not read further once it owes
/// `maximumOwed` answers, or while its answers back up in the socket, until it reads: its
/// requests then wait in the kernel's buffers, not in the server's memory or the writer's queue.
final class RecordConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = RecordLine
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Requests one connection may have unanswered before the record stops reading it (one read
    /// may bring more: at most what fits in its 64 KiB).
    static let maximumOwed = 256

    private let store: RecordStore
    private let hub: NotificationHub
    private let peer: String
    /// The peer's user (`uid=1000`), by which failed signatures are paced.
    private let peerUser: String
    private let mayWrite: Bool
    private let isHostAdministrator: Bool
    private let logger: Logger
    /// The sequence number the next request gets.
    private var nextRequest = 0
    /// The sequence number whose answer goes out next.
    private var nextAnswer = 0
    /// Answers that are ready but wait for an earlier one (nil: the request wants no answer).
    private var waiting: [Int: ByteBuffer?] = [:]
    /// Answers from the record's writer on their way to the event loop.
    private let arrivals = AnswerArrivals()
    /// Whether the client shut down its writing side (it reads on until answered).
    private var inputClosed = false
    /// Whether a read was held back because the client owes reading its answers.
    private var readHeld = false

    init(store: RecordStore, hub: NotificationHub, peer: String, peerUser: String, mayWrite: Bool, isHostAdministrator: Bool, logger: Logger) {
        self.store = store
        self.hub = hub
        self.peer = peer
        self.peerUser = peerUser
        self.mayWrite = mayWrite
        self.isHostAdministrator = isHostAdministrator
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let input = unwrapInboundIn(data)
        if case .line(let line) = input, line.readableBytes == 0 { return }  // blank lines are ignored
        let sequence = nextRequest
        nextRequest += 1
        let value: JSONValue
        switch input {
        case .oversized:
            let error = WorkRecordError(.invalidRequest, "the request line is longer than the record accepts")
            return answer(sequence, Self.response(.failure(error), id: .null), context: context)
        case .line(let line):
            do {
                value = try JSONValue(recordText: Array(line.readableBytesView))
            } catch {
                return answer(sequence, Self.response(.failure(error), id: .null), context: context)
            }
        }
        guard case .array(let elements) = value else {
            let collector = NIOLoopBound(BatchAnswers(count: 1, isBatch: false), eventLoop: context.eventLoop)
            return run(value, into: collector, at: 0, sequence: sequence, context: context)
        }
        // A batch (JSON-RPC 2.0 § 6): each request is served as if it came alone, in order, and
        // the answers go back together as one array, once all are in.
        guard !elements.isEmpty else {
            return answer(sequence, Self.response(.failure(WorkRecordError(.invalidRequest, "a batch must hold at least one request")), id: .null), context: context)
        }
        let collector = NIOLoopBound(BatchAnswers(count: elements.count, isBatch: true), eventLoop: context.eventLoop)
        for (index, element) in elements.enumerated() {
            run(element, into: collector, at: index, sequence: sequence, context: context)
        }
    }

    /// Serves one request (alone, or one of a batch) and hands its answer to `collector`.
    private func run(
        _ value: JSONValue, into collector: NIOLoopBound<BatchAnswers>, at index: Int, sequence: Int, context: ChannelHandlerContext
    ) {
        let request: RPCRequest
        do {
            request = try RPCRequest(value)
        } catch {
            return collected(Self.response(.failure(error.error), id: error.id), collector, index, sequence, context)
        }
        if request.method == .subscribe {
            hub.subscribe(context.channel)
            return collected(request.id.map { Self.response(.success(["subscribed": true]), id: $0) }, collector, index, sequence, context)
        }
        let isWrite = request.method.isWrite
        let peer = peer, logger = logger, id = request.id, arrivals = arrivals
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        var call = RecordCall(
            method: request.method, params: request.params, peer: peer, peerUser: peerUser, mayWrite: mayWrite,
            isHostAdministrator: isHostAdministrator)
        call.orderingKey = "\(peer) connection \(ObjectIdentifier(self).hashValue)"
        let submitted = ContinuousClock.now
        store.submit(call) { result in
            let code: Int
            switch result {
            case .success: code = 0
            case .failure(let error): code = error.code.rawValue
            }
            RecordMetrics.answered(request.method, code: code, since: submitted)
            if isWrite {
                switch result {
                case .success:
                    logger.info("record write", metadata: ["method": "\(request.method)", "peer": "\(peer)"])
                case .failure(let error) where [.signatureRejected, .userLocked, .signatureAttemptsSlowed].contains(error.code):
                    logger.warning(
                        "signature rejected", metadata: ["method": "\(request.method)", "peer": "\(peer)", "error": "\(error)"])
                case .failure(let error):
                    logger.notice(
                        "record write refused", metadata: ["method": "\(request.method)", "peer": "\(peer)", "error": "\(error)"])
                }
            }
            // Encoded on the connection's event loop, not on the record's single writer. A
            // JSON-RPC notification from the client (no id) gets no answer.
            arrivals.deliver(on: handler.eventLoop) {
                handler.value.collected(
                    id.map { Self.response(result.map(\.result), id: $0) }, collector, index, sequence, boundContext.value)
            }
        }
    }

    /// Files one answer of request line `sequence`; once the line's last answer is in, sends them.
    private func collected(
        _ response: JSONValue?, _ collector: NIOLoopBound<BatchAnswers>, _ index: Int, _ sequence: Int, _ context: ChannelHandlerContext
    ) {
        guard let line = collector.value.file(response, at: index) else { return }
        answer(sequence, line, context: context)
    }

    func read(context: ChannelHandlerContext) {
        if mayRead(context) {
            context.read()
        } else {
            readHeld = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumeReading(context)
        context.fireChannelWritabilityChanged()
    }

    private func mayRead(_ context: ChannelHandlerContext) -> Bool {
        nextRequest - nextAnswer < Self.maximumOwed && context.channel.isWritable
    }

    private func resumeReading(_ context: ChannelHandlerContext) {
        guard readHeld, mayRead(context) else { return }
        readHeld = false
        context.read()
    }

    /// The client shut down its writing side: it is answered what it asked, then closed.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case .inputClosed? = event as? ChannelEvent else { return context.fireUserInboundEventTriggered(event) }
        inputClosed = true
        closeIfAnswered(context: context)
    }

    private func closeIfAnswered(context: ChannelHandlerContext) {
        if inputClosed, nextAnswer == nextRequest { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.notice("record connection closed on error", metadata: ["peer": "\(peer)", "error": "\(error)"])
        context.close(promise: nil)
    }

    /// Sends the answer of request line `sequence` once every earlier answer has gone; nil: the
    /// line wants no answer.
    private func answer(_ sequence: Int, _ response: JSONValue?, context: ChannelHandlerContext) {
        answer(sequence, response.map { BatchAnswers.Line.text(RecordMessage.line($0)) } ?? .none, context: context)
    }

    private func answer(_ sequence: Int, _ line: BatchAnswers.Line, context: ChannelHandlerContext) {
        switch line {
        case .text(let text): waiting[sequence] = context.channel.allocator.buffer(string: text)
        case .none: waiting[sequence] = .some(nil)
        }
        var wrote = false
        while let ready = waiting.removeValue(forKey: nextAnswer) {
            nextAnswer += 1
            if let ready {
                context.write(wrapOutboundOut(ready), promise: nil)
                wrote = true
            }
        }
        if wrote { context.flush() }
        closeIfAnswered(context: context)
        resumeReading(context)
    }

    private static func response(_ result: Result<JSONValue, WorkRecordError>, id: JSONValue) -> JSONValue {
        switch result {
        case .success(let value): RecordMessage.result(value, id: id)
        case .failure(let error): RecordMessage.error(error.code, error.message, id: id)
        }
    }
}

/// Answers handed from the record's writer to a connection's event loop. The writer completes a
/// transaction's requests one after another; the first to arrive schedules one task on the loop
/// and the rest join it, so a transaction's answers wake the loop once, not once each.
final class AnswerArrivals: Sendable {
    private let pending = Mutex<[@Sendable () -> Void]>([])

    /// Runs `answer` on `eventLoop`, after every answer delivered before it.
    func deliver(on eventLoop: any EventLoop, _ answer: @escaping @Sendable () -> Void) {
        let first = pending.withLock { pending in
            pending.append(answer)
            return pending.count == 1
        }
        guard first else { return }
        eventLoop.execute {
            let arrived = self.pending.withLock { pending in
                let arrived = pending
                pending = []
                return arrived
            }
            for answer in arrived { answer() }
        }
    }
}

/// The answers of one request line: one request, or a batch whose answers leave together as one
/// array once all are in. Confined to the connection's event loop.
final class BatchAnswers {
    /// What a request line is answered with.
    enum Line {
        case text(String)
        /// Nothing: notifications only.
        case none
    }

    private var answers: [JSONValue?]
    private var outstanding: Int
    private let isBatch: Bool

    init(count: Int, isBatch: Bool) {
        answers = Array(repeating: nil, count: count)
        outstanding = count
        self.isBatch = isBatch
    }

    /// Files answer `index` (nil for a notification); returns the line once every answer is in.
    func file(_ answer: JSONValue?, at index: Int) -> Line? {
        answers[index] = answer
        outstanding -= 1
        guard outstanding == 0 else { return nil }
        let given = answers.compactMap { $0 }
        guard !given.isEmpty else { return Line.none }
        return .text(RecordMessage.line(isBatch ? JSONValue.array(given) : given[0]))
    }
}

/// A JSON-RPC 2.0 request as read off the socket.
struct RPCRequest {
    /// The request id; nil for a notification (no answer wanted).
    var id: JSONValue?
    var method: RecordMethod
    var params: JSONValue?

    /// A request that could not be read, with the id to answer under (null when unknown).
    struct Failure: Error {
        var error: WorkRecordError
        var id: JSONValue
    }

    init(_ value: JSONValue) throws(Failure) {
        guard case .object(let members) = value else {
            throw Failure(error: WorkRecordError(.invalidRequest, "a request must be a JSON object"), id: .null)
        }
        let id = members["id"]
        switch id {
        case nil, .null?, .string?, .integer?: break
        default: throw Failure(error: WorkRecordError(.invalidRequest, "id must be a string, an integer or null"), id: .null)
        }
        guard members["jsonrpc"] == "2.0" else {
            throw Failure(error: WorkRecordError(.invalidRequest, "jsonrpc must be \"2.0\""), id: id ?? .null)
        }
        guard let method = members["method"]?.stringValue else {
            throw Failure(error: WorkRecordError(.invalidRequest, "method must be a string"), id: id ?? .null)
        }
        switch members["params"] {
        case nil, .null?, .object?: break
        default: throw Failure(error: WorkRecordError(.invalidParams, "params must be an object (by-name parameters)"), id: id ?? .null)
        }
        self.id = id
        self.method = RecordMethod(rawValue: method)
        self.params = members["params"]
    }
}
